"""The one lock order of every change to an application, on the outlet's side and the office's.

Every change to an application or its versions (save, submit, signed upload, data-box recording,
amend, withdraw, approve, reject, revoke, bulk approval) first calls :func:`lock_application` (or
:func:`lock_applications`), then reads the state it judges. The locks are taken in one order on
every path, so two requests never wait for each other in a circle:

1. the organisation's quota row for the election (``address_quotas``, :func:`lock_quota`);
2. the application row (``applications``, ``SELECT ... FOR UPDATE``);
3. the audit chain (the advisory lock :func:`portal.audit.service.record` takes), always last.

A request that waited for another re-reads the application after the lock, so it judges what the
other committed and is refused with the usual error (``illegal_transition``, ``stale_version``)
before it writes anything: no audit row, no mail. SQLite ignores ``FOR UPDATE``; it serialises writers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.registration.models import AddressQuota, Application, ApplicationVersion


def lock_quota(organisation_id: int, election_id: int) -> AddressQuota:
    """The organisation's quota row for the election, locked until the transaction ends (PostgreSQL).

    Concurrent submissions of one organisation queue here and each recounts what the previous one
    committed; SQLite serialises writers on its own.
    """
    query = (
        select(AddressQuota)
        .where(AddressQuota.organisation_id == organisation_id, AddressQuota.election_id == election_id)
        .with_for_update()
    )
    quota = db.session.scalar(query)
    if quota is None:
        try:
            with db.session.begin_nested():
                db.session.add(AddressQuota(organisation_id=organisation_id, election_id=election_id))
        except IntegrityError:
            pass  # created by a concurrent transaction: lock that one
        quota = db.session.scalar(query.execution_options(populate_existing=True))
        assert quota is not None
    return quota


def lock_application(application: Application) -> AddressQuota:
    """Lock the organisation's quota row, then the application row, and re-read its versions.

    Held until the transaction ends (PostgreSQL). Returns the locked quota row for the recount.
    Taking it again in the same transaction is harmless; it must come before any audit event.
    """
    db.session.flush()  # own changes first: the re-read below replaces what is in memory
    quota = lock_quota(application.organisation_id, application.election_id)
    db.session.execute(select(Application.id).where(Application.id == application.id).with_for_update())
    _reread([application])
    return quota


def lock_applications(applications: Iterable[Application]) -> None:
    """Lock several applications at once (bulk decisions), before the first audit event.

    All their quota rows first, then all the application rows, each in a fixed order (by key), so
    two bulk requests, or a bulk request and a single change, never wait for each other in a circle.
    """
    found = list(applications)
    db.session.flush()
    for organisation_id, election_id in sorted({(a.organisation_id, a.election_id) for a in found}):
        lock_quota(organisation_id, election_id)
    ids = sorted({a.id for a in found})
    if ids:
        db.session.execute(
            select(Application.id).where(Application.id.in_(ids)).order_by(Application.id).with_for_update()
        )
    _reread(found)


def _reread(applications: list[Application]) -> None:
    """Replace what is in memory of the applications' versions by what is stored now (after a lock)."""
    for application in applications:
        db.session.expire(application, ["versions"])
    db.session.scalars(
        select(ApplicationVersion)
        .where(ApplicationVersion.application_id.in_([a.id for a in applications]))
        .options(selectinload(ApplicationVersion.addresses), selectinload(ApplicationVersion.submission_record))
        .execution_options(populate_existing=True)
    ).all()
