"""What reviewers look at: the queue with its filters, and the export of approved outlets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.registration.models import Application, ApplicationAddress, ApplicationVersion, VersionState
from portal.registration.service import Conflict


@dataclass(frozen=True)
class QueueRow:
    application: Application
    version: ApplicationVersion  #: the latest version (what needs or had the decision)
    conflicts: list[Conflict]


def review_queue(
    *, election_id: int | None = None, state: VersionState | None = None, conflicts_only: bool = False
) -> list[QueueRow]:
    """Applications with a submitted or decided latest version; drafts are the outlet's business."""
    query = (
        select(Application)
        .options(
            selectinload(Application.versions).selectinload(ApplicationVersion.addresses),
            selectinload(Application.organisation),
            selectinload(Application.election),
        )
        .order_by(Application.id)
    )
    if election_id is not None:
        query = query.where(Application.election_id == election_id)
    rows = []
    claims = _claims_by_address(election_id)
    for application in db.session.scalars(query).all():
        version = application.latest
        if version.state is VersionState.DRAFT or (state is not None and version.state is not state):
            continue
        conflicts = [
            Conflict(address.address, name, reference)
            for address in version.addresses
            for organisation_id, name, reference in claims.get((application.election_id, address.address), ())
            if organisation_id != application.organisation_id
        ]
        if conflicts_only and not conflicts:
            continue
        rows.append(QueueRow(application, version, conflicts))
    # Waiting ones first, oldest submission first: the order a reviewer works in.
    rows.sort(
        key=lambda r: (r.version.state is not VersionState.SUBMITTED, r.version.submitted_at or r.version.created_at)
    )
    return rows


def _claims_by_address(election_id: int | None) -> dict[tuple[int, str], list[tuple[int, str, str]]]:
    """(election, address) -> who claims it (organisation id, name, application reference), in one query."""
    query = (
        select(ApplicationAddress.address, Application)
        .join(ApplicationVersion, ApplicationAddress.version_id == ApplicationVersion.id)
        .join(Application, ApplicationVersion.application_id == Application.id)
        .where(ApplicationVersion.state.in_([VersionState.SUBMITTED, VersionState.APPROVED]))
        .options(selectinload(Application.organisation), selectinload(Application.election))
    )
    if election_id is not None:
        query = query.where(Application.election_id == election_id)
    claims: dict[tuple[int, str], list[tuple[int, str, str]]] = {}
    for address, application in db.session.execute(query).all():
        claims.setdefault((application.election_id, address), []).append(
            (application.organisation_id, application.organisation.name, application.reference)
        )
    return claims


def approved_outlets_csv(election_id: int) -> Iterator[str]:
    """One row per address in force: organisation, IČO, application, contact, kind, address."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["organisation", "ico", "application", "contact_email", "contact_phone", "kind", "address"])
    yield "\ufeff" + buffer.getvalue()
    applications = db.session.scalars(
        select(Application).where(Application.election_id == election_id).order_by(Application.id)
    ).all()
    for application in applications:
        version = application.in_force
        if version is None:
            continue
        for address in version.addresses:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(
                [
                    application.organisation.name,
                    application.organisation.ico,
                    application.reference,
                    version.contact_email,
                    version.contact_phone,
                    address.kind.value,
                    address.address,
                ]
            )
            yield buffer.getvalue()
