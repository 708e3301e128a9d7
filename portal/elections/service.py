"""Election rules: default calendars, the phase at an instant, creation and editing.

Every rule takes the instant or day it is about; none reads the clock. An election created or changed
by someone (:func:`add_election`, :func:`change_election`) is recorded in the audit log here, in the
caller's transaction; :func:`create_election` alone (the seeded calendar, tests) records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import FR, relativedelta
from sqlalchemy import select

from allowlist.phase import LiveWindow, Phase, Schedule, phase_at
from portal.accounts.models import User
from portal.audit.service import record, snapshot
from portal.elections.errors import ElectionError
from portal.elections.models import Election, ElectionKind, ElectionStatus, Round
from portal.elections.prague import at_prague, end_of_prague_day
from portal.extensions import db

#: The application deadline is the Friday at least this long before the first voting day.
DEADLINE_LEAD = timedelta(days=14)
#: How long the live phase lasts unless staff end it earlier.
DEFAULT_LIVE_DURATION = timedelta(hours=24)
#: Days between the first round and the run-off, by kind; kinds without a run-off are absent.
RUNOFF_AFTER = {ElectionKind.PRESIDENT: timedelta(days=14), ElectionKind.SENATE: timedelta(days=7)}

#: Two-day elections: Friday 14:00-22:00 and Saturday 08:00-14:00; processing starts at 14:00 (R1).
VOTING_OPENS = time(14, 0)
VOTING_CLOSES = time(14, 0)


#: What the audit log keeps of an election's schedule and settings, and of each round.
AUDITED_FIELDS = (
    "name_cs",
    "name_en",
    "kind",
    "status",
    "applications_close_at",
    "has_media_server",
    "signature_required",
    "allow_seals",
    "four_eyes",
)
AUDITED_ROUND_FIELDS = ("number", "voting_starts_at", "voting_ends_at", "processing_starts_at", "live_ends_at")


@dataclass(frozen=True)
class RoundPlan:
    number: int
    voting_starts_at: datetime
    voting_ends_at: datetime
    processing_starts_at: datetime
    live_ends_at: datetime


@dataclass(frozen=True)
class ElectionPlan:
    code: str
    name_cs: str
    name_en: str
    kind: ElectionKind
    status: ElectionStatus
    application_deadline: date
    rounds: Sequence[RoundPlan]
    has_media_server: bool = True
    signature_required: bool = True
    allow_seals: bool = False
    four_eyes: bool = True
    senate_districts: Sequence[int] = field(default_factory=tuple)
    #: An exact end of applications instead of the end of ``application_deadline`` in Prague (drills).
    applications_close_at: datetime | None = None

    @property
    def closes_at(self) -> datetime:
        """The exclusive end of applications the plan asks for."""
        return self.applications_close_at or end_of_prague_day(self.application_deadline)


def default_application_deadline(first_voting_day: date) -> date:
    """The Friday at least 14 days before the first voting day (9 Sep 2022 for 23 Sep 2022)."""
    return first_voting_day - DEADLINE_LEAD + relativedelta(weekday=FR(-1))


def plan_round(number: int, first_voting_day: date, live_duration: timedelta = DEFAULT_LIVE_DURATION) -> RoundPlan:
    """A two-day round starting on ``first_voting_day`` (a Friday), processed from Saturday 14:00."""
    second_day = first_voting_day + timedelta(days=1)
    processing = at_prague(second_day, VOTING_CLOSES)
    return RoundPlan(
        number=number,
        voting_starts_at=at_prague(first_voting_day, VOTING_OPENS),
        voting_ends_at=processing,
        processing_starts_at=processing,
        live_ends_at=processing + live_duration,
    )


def default_rounds(kind: ElectionKind, first_voting_day: date) -> list[RoundPlan]:
    """Round 1, plus the run-off a week (Senate) or two (President) later."""
    rounds = [plan_round(1, first_voting_day)]
    if kind in RUNOFF_AFTER:
        runoff_day = first_voting_day + RUNOFF_AFTER[kind]
        rounds.append(plan_round(2, runoff_day))
    return rounds


def senate_districts_for(year: int) -> list[int]:
    """Districts 1-81 up in ``year``: number mod 3 is 0 in 2020, 1 in 2022, 2 in 2024, and so on."""
    remainder = ((year - 2020) // 2) % 3
    return [district for district in range(1, 82) if district % 3 == remainder]


def schedule_of(election: Election) -> Schedule:
    windows = [LiveWindow(r.number, r.processing_starts_at, r.live_ends_at) for r in election.rounds]
    closes_at = election.access_closes_at
    if closes_at is None:
        raise ElectionError("no_rounds", field="rounds")
    return Schedule(live_windows=windows, closes_at=closes_at, registration_until=election.applications_close_at)


def phase(election: Election, at: datetime) -> Phase:
    """The access phase of ``election`` at ``at`` (see DESIGN.md, "Access phases")."""
    if not election.has_media_server or election.status is ElectionStatus.CANCELLED or not election.rounds:
        return Phase.CLOSED
    return phase_at(schedule_of(election), at)


def accepts_applications(election: Election, at: datetime) -> bool:
    return phase(election, at) is Phase.REGISTRATION


def elections_open_for_applications(at: datetime) -> list[Election]:
    candidates = db.session.scalars(
        select(Election)
        .where(
            Election.applications_close_at > at,
            Election.has_media_server.is_(True),
            Election.status != ElectionStatus.CANCELLED,
        )
        .order_by(Election.applications_close_at)
    ).all()
    return [election for election in candidates if accepts_applications(election, at)]


def all_elections() -> list[Election]:
    return list(db.session.scalars(select(Election).order_by(Election.applications_close_at.desc())).all())


def election_by_code(code: str) -> Election | None:
    return db.session.scalar(select(Election).where(Election.code == code))


def _check_rounds(rounds: Sequence[RoundPlan], applications_close_at: datetime) -> None:
    if not rounds:
        raise ElectionError("no_rounds", field="rounds")
    previous_end: datetime | None = None
    for plan in rounds:
        if plan.voting_ends_at <= plan.voting_starts_at:
            raise ElectionError("voting_order", field="rounds", number=plan.number)
        if plan.live_ends_at <= plan.processing_starts_at:
            raise ElectionError("live_order", field="rounds", number=plan.number)
        if previous_end is not None and plan.processing_starts_at < previous_end:
            raise ElectionError("rounds_overlap", field="rounds", number=plan.number)
        previous_end = plan.live_ends_at
    if applications_close_at > rounds[0].processing_starts_at:
        raise ElectionError("deadline_after_processing", field="application_deadline")


def create_election(plan: ElectionPlan) -> Election:
    """A new election following ``plan``, unrecorded (the seeded calendar); people use :func:`add_election`."""
    if election_by_code(plan.code) is not None:
        raise ElectionError("code_taken", field="code", code=plan.code)
    election = Election(code=plan.code)
    apply_plan(election, plan)
    db.session.add(election)
    db.session.flush()
    return election


def apply_plan(election: Election, plan: ElectionPlan) -> None:
    """Overwrite the schedule and settings of ``election``; the code never changes."""
    closes_at = plan.closes_at
    _check_rounds(plan.rounds, closes_at)
    election.name_cs = plan.name_cs
    election.name_en = plan.name_en
    election.kind = plan.kind
    election.status = plan.status
    election.applications_close_at = closes_at
    election.has_media_server = plan.has_media_server
    election.signature_required = plan.signature_required
    election.allow_seals = plan.allow_seals
    election.four_eyes = plan.four_eyes
    election.senate_districts = list(plan.senate_districts)
    existing = {r.number: r for r in election.rounds}
    wanted = {p.number for p in plan.rounds}
    for number, stale in existing.items():
        if number not in wanted:
            election.rounds.remove(stale)
    for plan_round_ in plan.rounds:
        target = existing.get(plan_round_.number) or Round(number=plan_round_.number)
        target.voting_starts_at = plan_round_.voting_starts_at
        target.voting_ends_at = plan_round_.voting_ends_at
        target.processing_starts_at = plan_round_.processing_starts_at
        target.live_ends_at = plan_round_.live_ends_at
        if target not in election.rounds:
            election.rounds.append(target)
    db.session.flush()


def plan_of(election: Election) -> ElectionPlan:
    """The current state of ``election`` as a plan, for editing."""
    return ElectionPlan(
        code=election.code,
        name_cs=election.name_cs,
        name_en=election.name_en,
        kind=election.kind,
        status=election.status,
        application_deadline=election.application_deadline_day,
        rounds=[
            RoundPlan(r.number, r.voting_starts_at, r.voting_ends_at, r.processing_starts_at, r.live_ends_at)
            for r in election.rounds
        ],
        has_media_server=election.has_media_server,
        signature_required=election.signature_required,
        allow_seals=election.allow_seals,
        four_eyes=election.four_eyes,
        senate_districts=tuple(election.senate_districts or ()),
    )


# Changes made by someone, recorded ---------------------------------------------------------------------------


def audited(election: Election) -> dict[str, object]:
    """What the audit log keeps of ``election``: its settings and each round's schedule."""
    rounds = [snapshot(r, AUDITED_ROUND_FIELDS) for r in election.rounds]
    return {**snapshot(election, AUDITED_FIELDS), "rounds": rounds}


def add_election(plan: ElectionPlan, *, actor: User | None, at: datetime, actor_label: str | None = None) -> Election:
    """Create the election of ``plan`` and record "election.created" with what it holds."""
    election = create_election(plan)
    record("election.created", election, actor=actor, at=at, after=audited(election), actor_label=actor_label)
    return election


def change_election(election: Election, plan: ElectionPlan, *, actor: User, at: datetime, reason: str = "") -> None:
    """Apply ``plan`` to ``election`` and record "election.updated" when anything changed.

    Moving the application deadline needs a ``reason``, which goes to the audit log. The calendar's own
    checks come first; nothing is changed when either refuses.
    """
    reason = reason.strip()
    _check_rounds(plan.rounds, plan.closes_at)
    if plan.application_deadline != election.application_deadline_day and not reason:
        raise ElectionError("reason_required", field="change_reason")
    before = audited(election)
    apply_plan(election, plan)
    after = audited(election)
    if after != before:
        record("election.updated", election, actor=actor, at=at, before=before, after=after, reason=reason or None)
