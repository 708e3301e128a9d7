"""Permit request rules: the deadline, drafting, submission, and the office's decision per person.

Every state change goes through :func:`_transition`, which guards the current state and writes the
audit event; mails go through the outbox in the same transaction. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.audit.service import record
from portal.elections.models import Election, ElectionStatus, Round
from portal.elections.prague import end_of_prague_day, to_prague
from portal.extensions import db
from portal.filming import capacity
from portal.filming.content import CleanRequest, PersonContent, RequestContent, clean_request, content_digest
from portal.filming.errors import (
    CapacityExceeded,
    ContentInvalid,
    DeadlineInvalid,
    DeadlinePassed,
    IllegalTransition,
    PointUnavailable,
    SignatureRequired,
    WindowInvalid,
)
from portal.filming.models import (
    CollectionPoint,
    FilmingDeadline,
    PermitPerson,
    PermitRequest,
    PersonState,
    RequestState,
)
from portal.filming.permits import issue_permit
from portal.notifications.outbox import Attachment, enqueue
from portal.registration.models import Document, SubmissionChannel

#: The longest time window a permit may cover.
MAX_WINDOW = timedelta(hours=24)

P = PersonState
#: action -> (states it may start from, state it leads to)
PERSON_TRANSITIONS: dict[str, tuple[frozenset[PersonState], PersonState]] = {
    "approve": (frozenset({P.REQUESTED}), P.APPROVED),
    "reject": (frozenset({P.REQUESTED}), P.REJECTED),
    "revoke": (frozenset({P.APPROVED}), P.REVOKED),
}


def _guard(person: PermitPerson, action: str) -> PersonState:
    """The state ``action`` leads to, if it may start from the person's current state."""
    allowed_from, target = PERSON_TRANSITIONS[action]
    if person.request.state is not RequestState.SUBMITTED or person.state not in allowed_from:
        raise IllegalTransition(action=action, state=person.state.value)
    return target


def _transition(person: PermitPerson, action: str, *, actor: User, at: datetime, **details: object) -> None:
    target = _guard(person, action)
    before = person.state
    person.state = target
    reason = details.pop("reason", None)
    record(
        f"permit.{action}",
        person,
        actor=actor,
        at=at,
        before={"request": person.request.reference, "state": before.value},
        after={"request": person.request.reference, "state": target.value, **details},
        reason=str(reason) if reason else None,
    )


# The deadline ---------------------------------------------------------------------------------------------


def requests_close_at(election: Election) -> datetime:
    """The exclusive end of the permit deadline: the election's own, else its application deadline."""
    own = db.session.get(FilmingDeadline, election.id)
    return own.requests_close_at if own is not None else election.applications_close_at


def accepts_requests(election: Election, at: datetime) -> bool:
    return (
        election.status is not ElectionStatus.CANCELLED and bool(election.rounds) and at < requests_close_at(election)
    )


def elections_open_for_requests(at: datetime) -> list[Election]:
    candidates = db.session.scalars(select(Election).where(Election.status != ElectionStatus.CANCELLED)).all()
    return sorted((e for e in candidates if accepts_requests(e, at)), key=requests_close_at)


def set_deadline(election: Election, day: date, *, staff: User, at: datetime) -> None:
    """The last day permit requests are accepted; it cannot end after the last round's processing starts."""
    set_requests_close_at(election, end_of_prague_day(day), staff=staff, at=at)


def set_requests_close_at(election: Election, closes_at: datetime, *, staff: User, at: datetime) -> None:
    """The exact (exclusive) end of permit requests, as :func:`set_deadline` (a drill's is not a day's end)."""
    if not election.rounds or closes_at > election.rounds[-1].processing_starts_at:
        raise DeadlineInvalid()
    own = db.session.get(FilmingDeadline, election.id)
    before = requests_close_at(election)
    if own is None:
        own = FilmingDeadline(election_id=election.id, requests_close_at=closes_at, updated_at=at)
        db.session.add(own)
    own.requests_close_at = closes_at
    own.updated_at = at
    own.updated_by_id = staff.id
    db.session.flush()
    record(
        "filming.deadline_set",
        election,
        actor=staff,
        at=at,
        before={"requests_close_at": before},
        after={"requests_close_at": closes_at},
    )


def _ensure_open(election: Election, at: datetime) -> None:
    if not accepts_requests(election, at):
        raise DeadlinePassed(closes_at=requests_close_at(election))


# The outlet's side ----------------------------------------------------------------------------------------


def draft_of(organisation: Organisation, election: Election) -> PermitRequest | None:
    return db.session.scalar(
        select(PermitRequest).where(
            PermitRequest.organisation_id == organisation.id,
            PermitRequest.election_id == election.id,
            PermitRequest.state == RequestState.DRAFT,
        )
    )


def requests_of(organisation: Organisation, election: Election | None = None) -> list[PermitRequest]:
    query = select(PermitRequest).where(PermitRequest.organisation_id == organisation.id)
    if election is not None:
        query = query.where(PermitRequest.election_id == election.id)
    return list(db.session.scalars(query.order_by(PermitRequest.id.desc())).all())


def round_numbers(election: Election) -> list[int]:
    return [r.number for r in election.rounds]


def save_draft(
    organisation: Organisation, election: Election, content: RequestContent, *, user: User, at: datetime
) -> PermitRequest:
    """Create the organisation's draft for the election, or overwrite it; it may be incomplete."""
    _ensure_open(election, at)
    clean = clean_request(content, round_numbers(election), require_complete=False)
    points = _points_by_code(clean.preferred_points)
    request = draft_of(organisation, election)
    created = request is None
    if request is None:
        request = PermitRequest(organisation=organisation, election=election, created_by=user, created_at=at)
        db.session.add(request)
    _apply(request, clean, points, at)
    db.session.flush()
    if created:
        record("permit_request.created", request, actor=user, at=at, after={"reference": request.reference})
    return request


def _points_by_code(codes: list[str]) -> list[CollectionPoint]:
    if not codes:
        return []
    points = db.session.scalars(
        select(CollectionPoint).where(CollectionPoint.code.in_(codes), CollectionPoint.active.is_(True))
    ).all()
    missing = sorted(set(codes) - {p.code for p in points})
    if missing:
        raise ContentInvalid({"preferred_points": ("unknown_point", {"code": missing[0]})})
    return sorted(points, key=lambda p: p.code)


def _apply(request: PermitRequest, clean: CleanRequest, points: list[CollectionPoint], at: datetime) -> None:
    request.round_number = clean.round_number
    request.applicant_name = clean.applicant_name
    request.applicant_phone = clean.applicant_phone
    request.applicant_email = clean.applicant_email
    request.newsroom_name = clean.newsroom_name
    request.newsroom_address = clean.newsroom_address
    request.scope = clean.scope
    request.kinds = clean.kinds
    request.preferred_region = clean.preferred_region
    request.preferred_district = clean.preferred_district
    request.preferred_times = clean.preferred_times
    request.preferred_points = points
    request.updated_at = at
    request.persons.clear()
    db.session.flush()  # the old rows go before the new ones meet the unique position
    for position, person in enumerate(clean.persons):
        request.persons.append(
            PermitPerson(position=position, name=person.name, phone=person.phone, email=person.email)
        )


def content_of(request: PermitRequest) -> RequestContent:
    return RequestContent(
        round_number=request.round_number,
        applicant_name=request.applicant_name,
        applicant_phone=request.applicant_phone,
        applicant_email=request.applicant_email,
        newsroom_name=request.newsroom_name,
        newsroom_address=request.newsroom_address,
        persons=[PersonContent(p.name, p.phone, p.email) for p in request.persons],
        scope=request.scope,
        kinds=list(request.kinds),
        preferred_region=request.preferred_region,
        preferred_district=request.preferred_district,
        preferred_points=[p.code for p in request.preferred_points],
        preferred_times=request.preferred_times,
    )


@dataclass(frozen=True)
class Evidence:
    """A signed upload: what the deadline is checked against, and the validator's findings."""

    received_at: datetime
    generated_pdf_sha256: str
    document: Document
    verdict: dict[str, object]
    verdict_summary: str


def ensure_submittable(request: PermitRequest, *, at: datetime) -> None:
    """The checks of :func:`submit` that do not depend on how it arrives: before validating a file."""
    if request.state is not RequestState.DRAFT:
        raise IllegalTransition(action="submit", state=request.state.value)
    _ensure_open(request.election, at)
    clean_request(content_of(request), round_numbers(request.election), require_complete=True)


def submit(request: PermitRequest, *, user: User, at: datetime, evidence: Evidence | None = None) -> None:
    """Send the draft to the office: complete and before the deadline ("late requests are not accepted").

    Where the election requires a recognised signature, only a signed upload (``evidence``) submits.
    """
    received_at = evidence.received_at if evidence is not None else at
    ensure_submittable(request, at=received_at)
    if request.election.signature_required and evidence is None:
        raise SignatureRequired()
    request.state = RequestState.SUBMITTED
    request.submitted_at = received_at
    request.submitted_by = user
    request.content_sha256 = content_digest(request)
    request.channel = SubmissionChannel.SIGNED_UPLOAD if evidence else SubmissionChannel.PORTAL
    if evidence is not None:
        request.generated_pdf_sha256 = evidence.generated_pdf_sha256
        request.document_sha256 = evidence.document.sha256
        request.verdict = evidence.verdict
        request.verdict_summary = evidence.verdict_summary
    record(
        "permit_request.submit",
        request,
        actor=user,
        at=at,
        before={"state": RequestState.DRAFT.value},
        after={"state": RequestState.SUBMITTED.value, "persons": len(request.persons), "channel": request.channel},
    )
    enqueue(
        request.applicant_email,
        "filming/mail/receipt.txt",
        request.created_by.language,
        at=at,
        request=request,
    )
    db.session.flush()


# The office's decision ------------------------------------------------------------------------------------


def round_of(request: PermitRequest) -> Round | None:
    return next((r for r in request.election.rounds if r.number == request.round_number), None)


def check_window(request: PermitRequest, starts_at: datetime, ends_at: datetime) -> None:
    """A window within the round (from the polls opening to the end of result processing), at most 24 h."""
    if ends_at <= starts_at:
        raise WindowInvalid("order")
    if ends_at - starts_at > MAX_WINDOW:
        raise WindowInvalid("too_long")
    round_ = round_of(request)
    if round_ is None or starts_at < round_.voting_starts_at or ends_at > round_.live_ends_at:
        raise WindowInvalid("outside_round")


def approve_person(
    person: PermitPerson,
    *,
    point: CollectionPoint,
    starts_at: datetime,
    ends_at: datetime,
    staff: User,
    at: datetime,
    allow_overbooking: bool = False,
) -> None:
    """Assign a place and a time and issue the signed permit.

    More persons at the point at one time than its capacity is refused, unless staff confirm it
    (``allow_overbooking``): the permit is then marked over-booked and the schedule shows it.
    """
    _guard(person, "approve")
    check_window(person.request, starts_at, ends_at)
    if not point.active:
        raise PointUnavailable(point.name)
    point = capacity.lock_point(point)
    others = [p for p in capacity.overlapping(point, starts_at, ends_at) if p.id != person.id]
    busiest = capacity.peak_with(others, starts_at, ends_at)
    over = busiest > point.capacity
    if over and not allow_overbooking:
        raise CapacityExceeded(
            point=point.name, capacity=point.capacity, peak=busiest, others=[_describe(p) for p in others]
        )
    # The place, the time and the permit first: the database refuses an approved person without them.
    person.point = point
    person.starts_at = starts_at
    person.ends_at = ends_at
    person.overbooked = over
    person.decided_at = at
    person.decided_by = staff
    permit = issue_permit(person, at=at)
    _transition(
        person,
        "approve",
        actor=staff,
        at=at,
        point=point.code,
        starts_at=starts_at,
        ends_at=ends_at,
        overbooked=over,
    )
    _notify(person, "approved", at, [Attachment(f"{person.permit_number}.pdf", "application/pdf", permit)])
    db.session.flush()


def _describe(person: PermitPerson) -> str:
    assert person.starts_at is not None and person.ends_at is not None
    start, end = to_prague(person.starts_at), to_prague(person.ends_at)
    return f"{person.name} ({start:%d.%m. %H:%M}–{end:%H:%M})"


def reject_person(person: PermitPerson, *, staff: User, at: datetime, internal_reason: str = "") -> None:
    """The office may refuse without giving a reason; a reason, if any, stays internal (as R8)."""
    reason = internal_reason.strip()
    _transition(person, "reject", actor=staff, at=at, reason=reason or None)
    person.decided_at = at
    person.decided_by = staff
    person.internal_reason = reason
    _notify(person, "rejected", at)
    db.session.flush()


def revoke_permit(person: PermitPerson, *, staff: User, at: datetime, reason: str = "") -> None:
    """Withdraw an issued permit: the verification page says revoked from now on."""
    reason = reason.strip()
    _transition(person, "revoke", actor=staff, at=at, reason=reason or None)
    person.revoked_at = at
    person.revoked_by = staff
    person.revocation_reason = reason
    _notify(person, "revoked", at)
    db.session.flush()


def _notify(person: PermitPerson, outcome: str, at: datetime, attachments: list[Attachment] | None = None) -> None:
    """The applicant hears of every decision; an approved or revoked person hears of their own permit."""
    request = person.request
    recipients = {request.applicant_email or request.created_by.email}
    if outcome != "rejected" and person.email:
        recipients.add(person.email)
    for recipient in sorted(recipients):
        enqueue(
            recipient,
            "filming/mail/decision.txt",
            request.created_by.language,
            at=at,
            attachments=attachments or [],
            person=person,
            request=request,
            outcome=outcome,
        )


# Reading ---------------------------------------------------------------------------------------------------


def submitted_requests(election: Election, round_number: int | None = None) -> list[PermitRequest]:
    query = select(PermitRequest).where(
        PermitRequest.election_id == election.id, PermitRequest.state == RequestState.SUBMITTED
    )
    if round_number is not None:
        query = query.where(PermitRequest.round_number == round_number)
    return list(db.session.scalars(query.order_by(PermitRequest.submitted_at, PermitRequest.id)).all())


def permits_of(election: Election, round_number: int | None = None) -> list[PermitPerson]:
    """Issued permits (approved and revoked) of the election, by point and time."""
    query = (
        select(PermitPerson)
        .join(PermitRequest)
        .join(CollectionPoint, PermitPerson.point_id == CollectionPoint.id)
        .where(
            PermitRequest.election_id == election.id,
            PermitPerson.state.in_([PersonState.APPROVED, PersonState.REVOKED]),
        )
        .order_by(CollectionPoint.code, PermitPerson.starts_at, PermitPerson.id)
    )
    if round_number is not None:
        query = query.where(PermitRequest.round_number == round_number)
    return list(db.session.scalars(query).all())


@dataclass(frozen=True)
class PointLoad:
    """A point's approved permits in an election and whether they ever exceed its capacity."""

    point: CollectionPoint
    permits: list[PermitPerson]
    peak: int

    @property
    def overbooked(self) -> bool:
        return self.peak > self.point.capacity


def point_loads(election: Election, round_number: int | None = None) -> list[PointLoad]:
    by_point: dict[int, list[PermitPerson]] = {}
    for permit in permits_of(election, round_number):
        if permit.state is PersonState.APPROVED and permit.point is not None:
            by_point.setdefault(permit.point.id, []).append(permit)
    loads = []
    for permits in by_point.values():
        point = permits[0].point
        assert point is not None
        # Capacity counts every election's permits at the point; the peak does too.
        starts = min(p.starts_at for p in permits if p.starts_at)
        ends = max(p.ends_at for p in permits if p.ends_at)
        everyone = capacity.overlapping(point, starts, ends)
        windows = [(p.starts_at, p.ends_at) for p in everyone if p.starts_at and p.ends_at]
        loads.append(PointLoad(point, permits, capacity.peak(windows)))
    return sorted(loads, key=lambda load: load.point.code)


@dataclass(frozen=True)
class PermitCheck:
    """What the public verification page may show: validity, the name, the place, the time. Nothing else."""

    status: str  #: "valid", "revoked" or "expired"
    name: str
    place: str
    address: str
    starts_at: datetime
    ends_at: datetime


def check_permit(token: str, *, at: datetime) -> PermitCheck | None:
    if not token or len(token) > 64:
        return None
    person = db.session.scalar(select(PermitPerson).where(PermitPerson.permit_token == token))
    if person is None or person.point is None or person.starts_at is None or person.ends_at is None:
        return None
    if person.state is PersonState.REVOKED:
        status = "revoked"
    elif person.state is PersonState.APPROVED and at < person.ends_at:
        status = "valid"
    elif person.state is PersonState.APPROVED:
        status = "expired"
    else:
        return None
    return PermitCheck(
        status=status,
        name=person.name,
        place=person.point.name,
        address=person.point.address,
        starts_at=person.starts_at,
        ends_at=person.ends_at,
    )
