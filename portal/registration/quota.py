"""The organisation's address quota in an election: what it claims, within the limits, and the stored counts.

Counted under the quota row's lock (the first of :mod:`portal.registration.locks`), after every change
that adds or removes a claim: a submission, a decision, a withdrawal.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.registration.errors import QuotaExceeded
from portal.registration.models import (
    MAX_PRODUCTION_ADDRESSES,
    MAX_TEST_ADDRESSES,
    AddressKind,
    AddressQuota,
    Application,
    ApplicationAddress,
    ApplicationVersion,
    VersionState,
)

S = VersionState


def claimed_addresses(
    organisation_id: int, election_id: int, claiming_instead: ApplicationVersion | None = None
) -> dict[AddressKind, set[str]]:
    """Distinct addresses the organisation claims in the election, per kind.

    Each application claims its version in force plus its version waiting for a decision (both,
    until the decision), so no order of decisions puts more than the limit on the allowlist.
    ``claiming_instead`` counts a draft as its application's pending version before it is submitted.
    Read from the database (after a flush), never from objects loaded before the caller's lock.
    """
    db.session.flush()
    rows = db.session.execute(
        select(ApplicationAddress.kind, ApplicationAddress.address)
        .join(ApplicationVersion, ApplicationAddress.version_id == ApplicationVersion.id)
        .join(Application, ApplicationVersion.application_id == Application.id)
        .where(
            Application.organisation_id == organisation_id,
            Application.election_id == election_id,
            ApplicationVersion.state.in_([S.SUBMITTED, S.APPROVED]),
        )
    ).all()
    claimed: dict[AddressKind, set[str]] = {AddressKind.PRODUCTION: set(), AddressKind.TEST: set()}
    for kind, address in rows:
        claimed[AddressKind(kind)].add(address)
    if claiming_instead is not None:
        for item in claiming_instead.addresses:
            claimed[AddressKind(item.kind)].add(item.address)
    return claimed


def counts_within_limits(
    quota: AddressQuota, claiming_instead: ApplicationVersion | None = None
) -> dict[AddressKind, set[str]]:
    """What the organisation claims, or :class:`QuotaExceeded` when a kind is over its limit."""
    claimed = claimed_addresses(quota.organisation_id, quota.election_id, claiming_instead)
    for kind, limit in ((AddressKind.PRODUCTION, MAX_PRODUCTION_ADDRESSES), (AddressKind.TEST, MAX_TEST_ADDRESSES)):
        if len(claimed[kind]) > limit:
            raise QuotaExceeded(kind=kind.value, limit=limit, claimed=len(claimed[kind]))
    return claimed


def recount(quota: AddressQuota) -> None:
    """Store the counts after a change; the CHECK constraints are the last line of defence."""
    db.session.flush()
    claimed = counts_within_limits(quota)
    quota.production_count = len(claimed[AddressKind.PRODUCTION])
    quota.test_count = len(claimed[AddressKind.TEST])
    db.session.flush()
