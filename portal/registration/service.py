"""Application rules: drafting, submission, amendment, withdrawal, the office's decision and revocation.

Every state change goes through :func:`_transition`, which guards the current state and writes the
audit event; mails go through the outbox in the same transaction. Services flush, never commit.

Concurrency: every change to an application or its versions (save, submit, signed upload, data-box
recording, amend, withdraw, approve, reject, revoke) first calls :func:`lock_application`, then reads
the state it judges. The locks are taken in one order on every path, so two requests never wait for
each other in a circle:

1. the organisation's quota row for the election (``address_quotas``, :func:`_lock_quota`);
2. the application row (``applications``, ``SELECT ... FOR UPDATE``);
3. the audit chain (the advisory lock :func:`portal.audit.service.record` takes), always last.

A request that waited for another re-reads the application after the lock, so it judges what the
other committed and is refused with the usual error (``illegal_transition``, ``stale_version``)
before it writes anything: no audit row, no mail. SQLite ignores ``FOR UPDATE``; it serialises writers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from allowlist.addresses import AddressPolicy
from portal.accounts.models import Organisation, User
from portal.accounts.policy import separation_of_duties_breached
from portal.audit.service import record
from portal.elections.models import Election
from portal.elections.service import accepts_applications
from portal.extensions import db
from portal.notifications.outbox import enqueue
from portal.registration.content import TERMS_VERSION, ApplicationContent, clean_content, content_digest
from portal.registration.errors import (
    ConflictsNotAcknowledged,
    DeadlinePassed,
    FourEyesRequired,
    IllegalTransition,
    QuotaExceeded,
    SignatureRequired,
    StaleVersion,
)
from portal.registration.models import (
    MAX_PRODUCTION_ADDRESSES,
    MAX_TEST_ADDRESSES,
    AddressKind,
    AddressQuota,
    AddressSettings,
    Application,
    ApplicationAddress,
    ApplicationVersion,
    Document,
    SubmissionChannel,
    SubmissionRecord,
    VersionState,
)

S = VersionState
DECISION_MAIL = "registration/mail/decision.txt"
REVOCATION_MAIL = "registration/mail/revoked.txt"
#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[VersionState], VersionState]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "withdraw": (frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED}), S.WITHDRAWN),
    "revoke": (frozenset({S.APPROVED}), S.REJECTED),
    "supersede": (frozenset({S.APPROVED}), S.SUPERSEDED),
}


def _transition(
    version: ApplicationVersion, action: str, *, actor: User | None, at: datetime, reason: str | None = None
) -> None:
    target = _guard(version, action)
    before = version.state
    version.state = target
    record(
        f"application.{action}",
        version.application,
        actor=actor,
        at=at,
        before={"version": version.number, "state": before.value},
        after={"version": version.number, "state": target.value},
        reason=reason,
    )


def _guard(version: ApplicationVersion, action: str) -> VersionState:
    """The state ``action`` leads ``version`` to, or :class:`IllegalTransition` from its current state."""
    allowed_from, target = TRANSITIONS[action]
    if version.state not in allowed_from:
        raise IllegalTransition(action=action, state=version.state.value)
    return target


def _ensure_latest(version: ApplicationVersion, action: str) -> None:
    """A decision concerns the application's latest version; an older one was replaced meanwhile."""
    latest = version.application.latest
    if version is not latest:
        raise StaleVersion(action=action, expected=version.number, current=latest.number)


# Locks --------------------------------------------------------------------------------------------------


def lock_application(application: Application) -> AddressQuota:
    """Lock the organisation's quota row, then the application row, and re-read its versions.

    Held until the transaction ends (PostgreSQL). Returns the locked quota row for the recount.
    Taking it again in the same transaction is harmless; it must come before any audit event.
    """
    db.session.flush()  # own changes first: the re-read below replaces what is in memory
    quota = _lock_quota(application.organisation_id, application.election_id)
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
        _lock_quota(organisation_id, election_id)
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


# Drafting -------------------------------------------------------------------------------------------


def start_application(organisation: Organisation, election: Election, user: User, *, at: datetime) -> Application:
    _ensure_open(election, at)
    # The first lock of the order, before the audit chain's: a new application joins the organisation's claims.
    _lock_quota(organisation.id, election.id)
    application = Application(organisation=organisation, election=election, created_by=user)
    application.versions.append(ApplicationVersion(number=1))
    db.session.add(application)
    db.session.flush()
    record("application.created", application, actor=user, at=at)
    return application


def save_draft(
    version: ApplicationVersion, content: ApplicationContent, policy: AddressPolicy, *, at: datetime
) -> None:
    """Store what the outlet typed; addresses are validated and canonical, other fields may be incomplete.

    Only a draft changes: a submitted version's content is what the office received, and what its
    receipt's SHA-256 and any signature describe. A change makes every PDF generated before it stale.
    """
    lock_application(version.application)
    if version.state is not S.DRAFT:
        raise IllegalTransition(action="edit", state=version.state.value)
    _ensure_open(version.application.election, at)
    clean = clean_content(content, policy, require_complete=False)
    version.contact_email = clean.contact_email
    version.contact_phone = clean.contact_phone
    version.note = clean.note
    version.terms_version = TERMS_VERSION if clean.terms_accepted else ""
    version.terms_accepted_at = at if clean.terms_accepted else None
    version.addresses.clear()
    db.session.flush()  # the old rows go before the new ones meet the unique constraint
    for kind, addresses in ((AddressKind.PRODUCTION, clean.production), (AddressKind.TEST, clean.test)):
        for position, address in enumerate(addresses):
            version.addresses.append(ApplicationAddress(kind=kind, position=position, address=address))
    db.session.flush()


def content_of(version: ApplicationVersion) -> ApplicationContent:
    return ApplicationContent(
        contact_email=version.contact_email,
        contact_phone=version.contact_phone,
        production=version.addresses_of(AddressKind.PRODUCTION),
        test=version.addresses_of(AddressKind.TEST),
        accept_terms=bool(version.terms_version),
        note=version.note,
    )


# The outlet's actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """How a submission reached the office, for elections that require more than a click (R6)."""

    channel: SubmissionChannel
    #: The upload, or the data box's delivery time: what the deadline is checked against.
    received_at: datetime
    generated_pdf_sha256: str | None = None
    document: Document | None = None
    verdict: dict[str, object] | None = None
    verdict_summary: str = ""
    databox_message_id: str | None = None
    databox_sender_box_id: str | None = None
    recorded_by: User | None = None
    #: A data-box delivery read from the .zfo message (True) or typed in by hand (False).
    databox_from_zfo: bool | None = None


def submit(
    version: ApplicationVersion, policy: AddressPolicy, *, user: User, at: datetime, evidence: Evidence | None = None
) -> None:
    """Send the draft to the office: complete, received before the deadline, within the quota.

    Where the election requires a recognised signature, only a signed upload or a data-box delivery
    (``evidence``) submits; a plain click does not.
    """
    application = version.application
    election = application.election
    quota = lock_application(application)
    if version.state is not S.DRAFT:
        raise IllegalTransition(action="submit", state=version.state.value)
    received_at = evidence.received_at if evidence is not None else at
    _ensure_open(election, received_at)
    if election.signature_required and (evidence is None or evidence.channel is SubmissionChannel.PORTAL):
        raise SignatureRequired()
    clean_content(content_of(version), policy, require_complete=True)
    _counts_within_limits(quota, claiming_instead=version)  # refuse before anything changes
    _transition(version, "submit", actor=user, at=at)
    version.submitted_at = received_at
    version.submitted_by = application.created_by if evidence and evidence.recorded_by else user
    version.content_sha256 = content_digest(version)
    version.submission_record = _record_of(evidence or Evidence(SubmissionChannel.PORTAL, received_at))
    _recount(quota)
    enqueue(
        version.contact_email,
        "registration/mail/receipt.txt",
        application.created_by.language,
        at=at,
        application=application,
        version=version,
    )
    db.session.flush()


def ensure_submittable(version: ApplicationVersion, policy: AddressPolicy, *, at: datetime) -> None:
    """The checks of :func:`submit` that do not depend on how it arrives: before validating a file.

    Locks the application first, so the file is then judged against the content as it stays.
    """
    lock_application(version.application)
    if version.state is not S.DRAFT:
        raise IllegalTransition(action="submit", state=version.state.value)
    _ensure_open(version.application.election, at)
    clean_content(content_of(version), policy, require_complete=True)


def _record_of(evidence: Evidence) -> SubmissionRecord:
    return SubmissionRecord(
        channel=evidence.channel,
        received_at=evidence.received_at,
        generated_pdf_sha256=evidence.generated_pdf_sha256,
        document_sha256=evidence.document.sha256 if evidence.document else None,
        verdict=evidence.verdict,
        verdict_summary=evidence.verdict_summary,
        databox_message_id=evidence.databox_message_id,
        databox_sender_box_id=evidence.databox_sender_box_id,
        recorded_by=evidence.recorded_by,
        databox_from_zfo=evidence.databox_from_zfo,
    )


def amend(application: Application, *, user: User, at: datetime) -> ApplicationVersion:
    """A new draft from the version in force; the approved version stays in force until decided.

    Its number is allocated under the application's lock: two amendments at once make one.
    """
    lock_application(application)
    _ensure_open(application.election, at)
    current = application.in_force
    has_open_version = application.latest.state in (S.DRAFT, S.SUBMITTED)
    if current is None or has_open_version:
        raise IllegalTransition(action="amend", state=application.latest.state.value)
    draft = ApplicationVersion(
        number=application.latest.number + 1,
        contact_email=current.contact_email,
        contact_phone=current.contact_phone,
        note=current.note,
    )
    draft.addresses = [
        ApplicationAddress(kind=a.kind, position=a.position, address=a.address) for a in current.addresses
    ]
    application.versions.append(draft)
    db.session.flush()
    record("application.amendment_started", application, actor=user, at=at, after={"version": draft.number})
    return draft


def withdraw(application: Application, *, user: User, at: datetime) -> None:
    """Take the application back entirely: any draft, pending amendment and the version in force."""
    quota = lock_application(application)
    open_versions = [v for v in application.versions if v.state in TRANSITIONS["withdraw"][0]]
    if not open_versions:
        raise IllegalTransition(action="withdraw", state=application.latest.state.value)
    for version in open_versions:
        _transition(version, "withdraw", actor=user, at=at)
    _recount(quota)
    db.session.flush()


# The office's decision -----------------------------------------------------------------------------------


def approve(version: ApplicationVersion, *, staff: User, at: datetime, acknowledge_conflicts: bool = False) -> None:
    application = version.application
    quota = lock_application(application)
    _ensure_latest(version, "approve")
    _guard(version, "approve")
    record = version.submission_record
    if separation_of_duties_breached(
        approver_id=staff.id,
        recorded_by_id=record.recorded_by_id if record else None,
        enabled=application.election.four_eyes,
    ):
        raise FourEyesRequired()
    conflicts = conflicts_for(version)
    if conflicts and not acknowledge_conflicts:
        raise ConflictsNotAcknowledged(addresses=sorted({c.address for c in conflicts}))
    previous = application.in_force
    _transition(version, "approve", actor=staff, at=at)
    if previous is not None and previous is not version:
        _transition(previous, "supersede", actor=staff, at=at)
    version.decided_at = at
    version.decided_by = staff
    _recount(quota)
    _notify_decision(version, at)
    db.session.flush()


def reject(version: ApplicationVersion, *, staff: User, at: datetime, internal_reason: str = "") -> None:
    """R8: the office may refuse without giving a reason; a reason, if any, stays internal."""
    _refuse(version, "reject", staff=staff, at=at, internal_reason=internal_reason, mail=DECISION_MAIL)


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
    lock_application(application)
    version = application.in_force
    if version is None:
        raise IllegalTransition(action="revoke", state=application.latest.state.value)
    if expected_version is not None and version.number != expected_version:
        raise StaleVersion(action="revoke", expected=expected_version, current=version.number)
    _refuse(version, "revoke", staff=staff, at=at, internal_reason=internal_reason, mail=REVOCATION_MAIL)
    return version


def _refuse(
    version: ApplicationVersion, action: str, *, staff: User, at: datetime, internal_reason: str, mail: str
) -> None:
    """A rejection or a revocation: the decision, its internal reason, the quota recount and the outlet's mail."""
    application = version.application
    quota = lock_application(application)
    if action == "reject":
        _ensure_latest(version, action)
    reason = internal_reason.strip()
    _transition(version, action, actor=staff, at=at, reason=reason or None)
    version.decided_at = at
    version.decided_by = staff
    version.internal_reason = reason
    _recount(quota)
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


# Deadline, quota, conflicts ----------------------------------------------------------------------------


def _ensure_open(election: Election, at: datetime) -> None:
    if not accepts_applications(election, at):
        raise DeadlinePassed(closes_at=election.applications_close_at)


def _lock_quota(organisation_id: int, election_id: int) -> AddressQuota:
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


def _counts_within_limits(
    quota: AddressQuota, claiming_instead: ApplicationVersion | None = None
) -> dict[AddressKind, set[str]]:
    claimed = claimed_addresses(quota.organisation_id, quota.election_id, claiming_instead)
    for kind, limit in ((AddressKind.PRODUCTION, MAX_PRODUCTION_ADDRESSES), (AddressKind.TEST, MAX_TEST_ADDRESSES)):
        if len(claimed[kind]) > limit:
            raise QuotaExceeded(kind=kind.value, limit=limit, claimed=len(claimed[kind]))
    return claimed


def _recount(quota: AddressQuota) -> None:
    """Store the counts after a change; the CHECK constraints are the last line of defence."""
    db.session.flush()
    claimed = _counts_within_limits(quota)
    quota.production_count = len(claimed[AddressKind.PRODUCTION])
    quota.test_count = len(claimed[AddressKind.TEST])
    db.session.flush()


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


def applications_of(organisation_id: int, election_ids: Iterable[int] | None = None) -> list[Application]:
    query = select(Application).where(Application.organisation_id == organisation_id).order_by(Application.id)
    if election_ids is not None:
        query = query.where(Application.election_id.in_(list(election_ids)))
    return list(db.session.scalars(query).all())


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
