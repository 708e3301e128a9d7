"""The application list of the API, built in SQL: filters on the latest version, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.registration.models import Application, ApplicationVersion, VersionState


@dataclass(frozen=True)
class ApplicationPage:
    applications: list[Application]
    total: int


def application_page(
    *,
    organisation_id: int | None,
    election_id: int | None,
    state: VersionState | None,
    page: int,
    per_page: int,
) -> ApplicationPage:
    """Applications (of one organisation, or all when None) by id; ``state`` is the latest version's."""
    latest = (
        select(ApplicationVersion.application_id, func.max(ApplicationVersion.number).label("number"))
        .group_by(ApplicationVersion.application_id)
        .subquery()
    )
    query = (
        select(Application)
        .join(latest, latest.c.application_id == Application.id)
        .join(
            ApplicationVersion,
            and_(ApplicationVersion.application_id == Application.id, ApplicationVersion.number == latest.c.number),
        )
    )
    if organisation_id is not None:
        query = query.where(Application.organisation_id == organisation_id)
    if election_id is not None:
        query = query.where(Application.election_id == election_id)
    if state is not None:
        query = query.where(ApplicationVersion.state == state)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Application.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(
            joinedload(Application.election),
            joinedload(Application.organisation),
            selectinload(Application.versions).selectinload(ApplicationVersion.addresses),
        )
    ).all()
    return ApplicationPage(list(rows), total)
