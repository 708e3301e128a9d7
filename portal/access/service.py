"""The office's decisions: approve, reject, revoke, bulk approval; address conflicts; the accepted addresses.

A decision takes the application's locks first, in the one order every change to an application uses
(:mod:`portal.registration.locks`: quota row, application row, audit chain), and judges what is stored
after them: the version the staff member saw (:func:`ensure_expected`, for the HTML pages and the API
alike), the state, four eyes, conflicts. A refusal raises before anything is written: no audit row, no
mail. Each decision writes its audit event, recounts the quota and queues the outlet's mail in the same
transaction. Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from allowlist.addresses import AddressPolicy
from portal.accounts.models import User
from portal.accounts.policy import separation_of_duties_breached
from portal.audit.service import record
from portal.extensions import db
from portal.notifications.outbox import enqueue
from portal.registration.errors import (
    ConflictsNotAcknowledged,
    FourEyesRequired,
    IllegalTransition,
    RegistrationError,
    StaleVersion,
)
from portal.registration.locks import lock_application, lock_applications
from portal.registration.models import (
    AddressQuota,
    AddressSettings,
    Application,
    ApplicationAddress,
    ApplicationVersion,
    VersionState,
)
from portal.registration.quota import recount
from portal.registration.states import ensure_latest, guard, transition

S = VersionState
DECISION_MAIL = "registration/mail/decision.txt"
REVOCATION_MAIL = "registration/mail/revoked.txt"


# The version the staff member saw ---------------------------------------------------------------------


def ensure_expected(application: Application, action: str, expected_version: int | None) -> None:
    """The version the staff member decided on (its number, as shown to them) is still the one to decide on.

    That is the latest version for an approval or a rejection, the version in force for a revocation.
    Call it under the application's lock: another decision, an amendment or a withdrawal committed
    meanwhile is refused with :class:`StaleVersion`. ``None`` (the caller named no version) checks nothing.
    """
    if expected_version is None:
        return
    current = application.in_force if action == "revoke" else application.latest
    if current is None or current.number != expected_version:
        now = current if current is not None else application.latest
        raise StaleVersion(action=action, expected=expected_version, current=now.number)


# Decisions --------------------------------------------------------------------------------------------


def approve(
    version: ApplicationVersion,
    *,
    staff: User,
    at: datetime,
    acknowledge_conflicts: bool = False,
    expected_version: int | None = None,
) -> None:
    """Approve the latest version: it goes on the allowlist, and the version it replaces is superseded."""
    application = version.application
    quota = lock_application(application)
    ensure_expected(application, "approve", expected_version)
    ensure_latest(version, "approve")
    guard(version, "approve")
    submission = version.submission_record
    if separation_of_duties_breached(
        approver_id=staff.id,
        recorded_by_id=submission.recorded_by_id if submission else None,
        enabled=application.election.four_eyes,
    ):
        raise FourEyesRequired()
    conflicts = conflicts_for(version)
    if conflicts and not acknowledge_conflicts:
        raise ConflictsNotAcknowledged(addresses=sorted({c.address for c in conflicts}))
    previous = application.in_force
    transition(version, "approve", actor=staff, at=at)
    if previous is not None and previous is not version:
        transition(previous, "supersede", actor=staff, at=at)
    version.decided_at = at
    version.decided_by = staff
    recount(quota)
    _notify_decision(version, at)
    db.session.flush()


def reject(
    version: ApplicationVersion,
    *,
    staff: User,
    at: datetime,
    internal_reason: str = "",
    expected_version: int | None = None,
) -> None:
    """R8: the office may refuse without giving a reason; a reason, if any, stays internal."""
    quota = lock_application(version.application)
    ensure_expected(version.application, "reject", expected_version)
    ensure_latest(version, "reject")
    _refuse(version, "reject", quota, staff=staff, at=at, internal_reason=internal_reason, mail=DECISION_MAIL)


def revoke(
    application: Application,
    *,
    staff: User,
    at: datetime,
    internal_reason: str = "",
    expected_version: int | None = None,
) -> ApplicationVersion:
    """The office takes back the approval in force, at any time, election night included (R8 applies:
    a reason, if any, stays internal). Its addresses leave the next allowlist version.

    A pending amendment is left for its own decision: approving it later grants access again.
    ``expected_version`` is the number of the version in force the staff member saw: if another
    decision replaced it meanwhile, the revocation is refused (``stale_version``).
    """
    quota = lock_application(application)
    ensure_expected(application, "revoke", expected_version)
    version = application.in_force
    if version is None:
        raise IllegalTransition(action="revoke", state=application.latest.state.value)
    _refuse(version, "revoke", quota, staff=staff, at=at, internal_reason=internal_reason, mail=REVOCATION_MAIL)
    return version


def _refuse(
    version: ApplicationVersion,
    action: str,
    quota: AddressQuota,
    *,
    staff: User,
    at: datetime,
    internal_reason: str,
    mail: str,
) -> None:
    """A rejection or a revocation, under the application's lock (``quota`` is its locked quota row): the
    decision, its internal reason, the quota recount and the outlet's mail."""
    reason = internal_reason.strip()
    transition(version, action, actor=staff, at=at, reason=reason or None)
    version.decided_at = at
    version.decided_by = staff
    version.internal_reason = reason
    recount(quota)
    _notify_decision(version, at, template=mail)
    db.session.flush()


def _notify_decision(version: ApplicationVersion, at: datetime, template: str = DECISION_MAIL) -> None:
    application = version.application
    recipients = {version.contact_email, application.created_by.email}
    language = application.created_by.language
    for recipient in sorted(r for r in recipients if r):
        enqueue(
            recipient,
            template,
            language,
            at=at,
            application=application,
            version=version,
            approved=version.state is S.APPROVED,
        )


# Bulk approval ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkOutcome:
    """What became of one application of a bulk approval: approved, or refused and why."""

    application: Application
    refusal: RegistrationError | None = None

    @property
    def approved(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class BulkReport:
    """One outcome per application asked for, in the order asked; ids of no application in ``unknown``."""

    outcomes: tuple[BulkOutcome, ...]
    unknown: tuple[int, ...] = ()

    @property
    def approved(self) -> list[Application]:
        return [o.application for o in self.outcomes if o.approved]

    @property
    def refused(self) -> list[BulkOutcome]:
        return [o for o in self.outcomes if not o.approved]


def bulk_approve(application_ids: Iterable[int], *, staff: User, at: datetime) -> BulkReport:
    """Approve the latest version of each application that may be approved without an acknowledgement.

    All the locks are taken before the first audit event (the one lock order). Each approval runs in a
    savepoint: a refused one (decided already, conflicting addresses, four eyes, quota) is undone alone
    and reported with its refusal; the others stand.
    """
    ids = list(application_ids)
    found = {i: db.session.get(Application, i) for i in set(ids)}
    applications = [found[i] for i in ids if found[i] is not None]
    lock_applications(applications)
    outcomes: list[BulkOutcome] = []
    for application in applications:
        try:
            with db.session.begin_nested():
                approve(application.latest, staff=staff, at=at)
        except RegistrationError as refusal:
            outcomes.append(BulkOutcome(application, refusal))
        else:
            outcomes.append(BulkOutcome(application))
    return BulkReport(tuple(outcomes), tuple(i for i in ids if found[i] is None))


# Conflicts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    address: str
    organisation: str
    application: str  #: the other application's reference


def conflicts_for(version: ApplicationVersion) -> list[Conflict]:
    """Addresses of ``version`` that another organisation claims in the same election."""
    application = version.application
    addresses = [a.address for a in version.addresses]
    if not addresses:
        return []
    rows = db.session.scalars(
        select(ApplicationAddress)
        .join(ApplicationVersion)
        .join(Application)
        .where(
            ApplicationAddress.address.in_(addresses),
            Application.election_id == application.election_id,
            Application.organisation_id != application.organisation_id,
            ApplicationVersion.state.in_([S.SUBMITTED, S.APPROVED]),
        )
    ).all()
    return sorted(
        {Conflict(r.address, r.version.application.organisation.name, r.version.application.reference) for r in rows},
        key=lambda c: (c.address, c.application),
    )


# The accepted addresses -------------------------------------------------------------------------------


def address_policy() -> AddressPolicy:
    """The admin's current switches as the validator's policy."""
    settings = db.session.get(AddressSettings, 1) or AddressSettings()
    return AddressPolicy(
        allow_documentation=bool(settings.allow_documentation),
        allow_ipv6=settings.allow_ipv6 is not False,
        map_ipv4_mapped=bool(settings.map_ipv4_mapped),
    )


def update_address_settings(
    *, allow_documentation: bool, allow_ipv6: bool, map_ipv4_mapped: bool, staff: User, at: datetime
) -> None:
    settings = db.session.get(AddressSettings, 1)
    if settings is None:
        settings = AddressSettings(id=1)
        db.session.add(settings)
    before = {
        "allow_documentation": settings.allow_documentation,
        "allow_ipv6": settings.allow_ipv6,
        "map_ipv4_mapped": settings.map_ipv4_mapped,
    }
    settings.allow_documentation = allow_documentation
    settings.allow_ipv6 = allow_ipv6
    settings.map_ipv4_mapped = map_ipv4_mapped
    settings.updated_at = at
    db.session.flush()
    record(
        "settings.addresses_updated",
        ("address_settings", 1),
        actor=staff,
        at=at,
        before=before,
        after={
            "allow_documentation": allow_documentation,
            "allow_ipv6": allow_ipv6,
            "map_ipv4_mapped": map_ipv4_mapped,
        },
    )
