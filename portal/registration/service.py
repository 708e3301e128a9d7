"""The outlet's side of an application: drafting, submission, amendment, withdrawal.

Every state change goes through :func:`portal.registration.states.transition`, which guards the current
state and writes the audit event; mails go through the outbox in the same transaction. Services flush,
never commit. The office's decisions (approve, reject, revoke) are :mod:`portal.access.service`.

Concurrency: every change first calls :func:`portal.registration.locks.lock_application`, then reads the
state it judges; the one lock order (quota row, application row, audit chain) is described there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from allowlist.addresses import AddressPolicy
from portal.accounts.models import Organisation, User
from portal.audit.service import record
from portal.elections.models import Election
from portal.elections.service import accepts_applications
from portal.extensions import db
from portal.notifications.outbox import enqueue
from portal.registration.content import TERMS_VERSION, ApplicationContent, clean_content, content_digest
from portal.registration.errors import DeadlinePassed, IllegalTransition, SignatureRequired
from portal.registration.locks import lock_application, lock_quota
from portal.registration.models import (
    AddressKind,
    Application,
    ApplicationAddress,
    ApplicationVersion,
    Document,
    SubmissionChannel,
    SubmissionRecord,
    VersionState,
)
from portal.registration.quota import counts_within_limits, recount
from portal.registration.states import TRANSITIONS, transition

S = VersionState


# Drafting -------------------------------------------------------------------------------------------


def start_application(organisation: Organisation, election: Election, user: User, *, at: datetime) -> Application:
    _ensure_open(election, at)
    # The first lock of the order, before the audit chain's: a new application joins the organisation's claims.
    lock_quota(organisation.id, election.id)
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
    counts_within_limits(quota, claiming_instead=version)  # refuse before anything changes
    transition(version, "submit", actor=user, at=at)
    version.submitted_at = received_at
    version.submitted_by = application.created_by if evidence and evidence.recorded_by else user
    version.content_sha256 = content_digest(version)
    version.submission_record = _record_of(evidence or Evidence(SubmissionChannel.PORTAL, received_at))
    recount(quota)
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
        transition(version, "withdraw", actor=user, at=at)
    recount(quota)
    db.session.flush()


# Deadline and listing -----------------------------------------------------------------------------


def _ensure_open(election: Election, at: datetime) -> None:
    if not accepts_applications(election, at):
        raise DeadlinePassed(closes_at=election.applications_close_at)


def applications_of(organisation_id: int, election_ids: Iterable[int] | None = None) -> list[Application]:
    query = select(Application).where(Application.organisation_id == organisation_id).order_by(Application.id)
    if election_ids is not None:
        query = query.where(Application.election_id.in_(list(election_ids)))
    return list(db.session.scalars(query).all())
