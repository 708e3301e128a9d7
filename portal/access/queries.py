"""What reviewers look at: the queue with its filters and pages, and the export of approved outlets.

The queue is built in SQL (latest version per application, filters, order, page), so its cost does
not grow with the number of applications in the election.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal import csvsafe
from portal.access.service import Conflict
from portal.accounts.models import Organisation
from portal.elections.models import Election
from portal.extensions import db
from portal.registration.models import (
    Application,
    ApplicationAddress,
    ApplicationVersion,
    VersionState,
    reference_of,
)

PAGE_SIZE = 25
#: Versions whose addresses an organisation claims (and so can conflict with another's).
CLAIMING = (VersionState.SUBMITTED, VersionState.APPROVED)


@dataclass(frozen=True)
class QueueRow:
    application: Application
    version: ApplicationVersion  #: the latest version (what needs or had the decision)
    conflicts: list[Conflict]


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


def _latest_versions() -> Select[tuple[ApplicationVersion]]:
    latest_number = (
        select(ApplicationVersion.application_id, func.max(ApplicationVersion.number).label("number"))
        .group_by(ApplicationVersion.application_id)
        .subquery()
    )
    return select(ApplicationVersion).join(
        latest_number,
        and_(
            latest_number.c.application_id == ApplicationVersion.application_id,
            latest_number.c.number == ApplicationVersion.number,
        ),
    )


def _has_conflict():  # type: ignore[no-untyped-def]
    """True for a version with an address that another organisation claims in the same election."""
    own_address = aliased(ApplicationAddress)
    other_address = aliased(ApplicationAddress)
    other_version = aliased(ApplicationVersion)
    other_application = aliased(Application)
    return exists(
        select(1)
        .select_from(own_address)
        .join(other_address, other_address.address == own_address.address)
        .join(other_version, other_version.id == other_address.version_id)
        .join(other_application, other_application.id == other_version.application_id)
        .where(
            own_address.version_id == ApplicationVersion.id,
            other_version.state.in_(CLAIMING),
            other_application.election_id == Application.election_id,
            other_application.organisation_id != Application.organisation_id,
        )
    )


def review_queue(
    *,
    election_id: int | None = None,
    state: VersionState | None = None,
    conflicts_only: bool = False,
    page: int = 1,
) -> QueuePage:
    """Applications whose latest version was submitted (drafts are the outlet's business):
    waiting ones first, oldest submission first, the order a reviewer works in."""
    query = _latest_versions().join(Application, Application.id == ApplicationVersion.application_id)
    query = query.where(ApplicationVersion.state != VersionState.DRAFT)
    if election_id is not None:
        query = query.where(Application.election_id == election_id)
    if state is not None:
        query = query.where(ApplicationVersion.state == state)
    if conflicts_only:
        query = query.where(_has_conflict())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    versions = db.session.scalars(
        query.options(
            selectinload(ApplicationVersion.addresses),
            selectinload(ApplicationVersion.application).options(
                joinedload(Application.organisation), joinedload(Application.election)
            ),
        )
        .order_by(
            case((ApplicationVersion.state == VersionState.SUBMITTED, 0), else_=1),
            func.coalesce(ApplicationVersion.submitted_at, ApplicationVersion.created_at),
            ApplicationVersion.id,
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    claims = _claims_of([a.address for v in versions for a in v.addresses])
    rows = [
        QueueRow(
            version.application,
            version,
            [
                Conflict(address.address, name, reference)
                for address in version.addresses
                for election, organisation_id, name, reference in claims.get(address.address, ())
                if election == version.application.election_id
                and organisation_id != version.application.organisation_id
            ],
        )
        for version in versions
    ]
    return QueuePage(rows, total, page, pages)


def _claims_of(addresses: list[str]) -> dict[str, list[tuple[int, int, str, str]]]:
    """address -> who claims it (election, organisation id, name, application reference), in one query
    that reads columns only: a page of the queue must not build an object per claimant."""
    if not addresses:
        return {}
    query = (
        select(
            ApplicationAddress.address,
            Application.election_id,
            Application.organisation_id,
            Organisation.name,
            Election.code,
            Application.id,
        )
        .join(ApplicationVersion, ApplicationAddress.version_id == ApplicationVersion.id)
        .join(Application, ApplicationVersion.application_id == Application.id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .join(Election, Election.id == Application.election_id)
        .where(ApplicationVersion.state.in_(CLAIMING), ApplicationAddress.address.in_(set(addresses)))
    )
    claims: dict[str, list[tuple[int, int, str, str]]] = {}
    for address, election_id, organisation_id, name, code, application_id in db.session.execute(query).all():
        claims.setdefault(address, []).append((election_id, organisation_id, name, reference_of(code, application_id)))
    return claims


def approved_outlets_csv(election_id: int) -> Iterator[str]:
    """One row per address in force: organisation, IČO, application, contact, kind, address."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
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
