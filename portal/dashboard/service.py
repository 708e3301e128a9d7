"""What the overview and the work page show, read from the feature packages; nothing is written."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from allowlist.addresses import AddressPolicy
from allowlist.phase import Phase
from portal.accounts.models import Organisation
from portal.elections.models import Election, ElectionStatus
from portal.elections.service import all_elections, phase
from portal.extensions import db
from portal.filming import service as filming
from portal.filming.models import PermitPerson, PermitRequest, PersonState, RequestState
from portal.meetings import service as meetings
from portal.meetings.models import MeetingReply, TechnicalMeeting
from portal.night.models import FeedAddress
from portal.registration import service as registration
from portal.registration.completeness import readiness
from portal.registration.models import Application, ApplicationVersion, VersionState


class NextStep(enum.StrEnum):
    """What the outlet should do next in an election; the page puts each in words."""

    APPLY = "apply"  #: no application yet, applications are open
    COMPLETE = "complete"  #: a draft that is not complete yet
    SIGN = "sign"  #: a complete draft: download the PDF, sign it, upload it
    SUBMIT = "submit"  #: a complete draft: submit it in the portal
    WAIT = "wait"  #: submitted, waiting for the office's decision
    TEST = "test"  #: approved: check the connection with the proxy's self-test
    LIVE = "live"  #: approved, results are being processed
    CLOSED = "closed"  #: applications are closed and nothing is in force
    NONE = "none"  #: nothing to do


@dataclass(frozen=True)
class AddressInForce:
    address: str
    kind: str
    #: When a feed proxy last served this address in the election (None: never, or nothing collected).
    last_seen: datetime | None


@dataclass(frozen=True)
class OutletElection:
    election: Election
    phase: Phase
    application: Application | None
    next_step: NextStep
    addresses: list[AddressInForce]
    meeting: TechnicalMeeting | None
    reply: MeetingReply | None
    permit_requests: list[PermitRequest]
    filming_open: bool


def open_elections(at: datetime) -> list[Election]:
    """Elections that are not over: in registration, testing or live, soonest deadline first."""
    elections = [
        e for e in all_elections() if e.status is not ElectionStatus.CANCELLED and phase(e, at) != Phase.CLOSED
    ]
    return sorted(elections, key=lambda e: e.applications_close_at)


def outlet_overview(organisation: Organisation, policy: AddressPolicy, *, at: datetime) -> list[OutletElection]:
    rows = []
    for election in open_elections(at):
        applications = registration.applications_of(organisation.id, [election.id])
        # The application that matters: one in force, else the newest.
        application = next((a for a in applications if a.in_force is not None), None) or (
            applications[-1] if applications else None
        )
        current = phase(election, at)
        meeting = meetings.current_meeting(election)
        rows.append(
            OutletElection(
                election=election,
                phase=current,
                application=application,
                next_step=_next_step(application, current, policy, at),
                addresses=_addresses_in_force(application),
                meeting=meeting,
                reply=meetings.reply_of(meeting, organisation) if meeting is not None else None,
                permit_requests=[
                    r for r in filming.requests_of(organisation, election) if r.state is RequestState.SUBMITTED
                ],
                filming_open=filming.accepts_requests(election, at),
            )
        )
    return rows


def _next_step(application: Application | None, current: Phase, policy: AddressPolicy, at: datetime) -> NextStep:
    is_open = current is Phase.REGISTRATION
    if application is None:
        return NextStep.APPLY if is_open else NextStep.CLOSED
    latest = application.latest
    if latest.state is VersionState.DRAFT and is_open:
        if not readiness(latest, policy, at=at).ready:
            return NextStep.COMPLETE
        return NextStep.SIGN if application.election.signature_required else NextStep.SUBMIT
    if latest.state is VersionState.SUBMITTED:
        return NextStep.WAIT
    if application.in_force is not None:
        return NextStep.LIVE if current is Phase.LIVE else NextStep.TEST
    return NextStep.APPLY if is_open else NextStep.CLOSED


def _addresses_in_force(application: Application | None) -> list[AddressInForce]:
    version = application.in_force if application is not None else None
    if version is None:
        return []
    texts = [a.address for a in version.addresses]
    seen = dict(
        db.session.execute(
            select(FeedAddress.address, func.max(FeedAddress.last_seen))
            .where(FeedAddress.election_id == application.election_id, FeedAddress.address.in_(texts))
            .group_by(FeedAddress.address)
        ).all()
    )
    return [AddressInForce(a.address, a.kind.value, seen.get(a.address)) for a in version.addresses]


# The staff's work -----------------------------------------------------------------------------------------


@dataclass
class ElectionWork:
    election: Election
    phase: Phase
    waiting_applications: int = 0
    #: Drafts of a signature election: a data-box delivery for one of them is recorded by staff.
    databox_drafts: list[Application] = field(default_factory=list)
    waiting_persons: int = 0
    meeting: TechnicalMeeting | None = None
    registered_outlets: int = 0
    replies: int = 0


def staff_work(*, at: datetime) -> list[ElectionWork]:
    rows = []
    for election in open_elections(at):
        work = ElectionWork(election, phase(election, at))
        work.waiting_applications = _count(
            select(func.count())
            .select_from(ApplicationVersion)
            .join(Application)
            .where(Application.election_id == election.id, ApplicationVersion.state == VersionState.SUBMITTED)
        )
        if election.signature_required and work.phase is Phase.REGISTRATION:
            work.databox_drafts = list(
                db.session.scalars(
                    select(Application)
                    .join(ApplicationVersion)
                    .where(Application.election_id == election.id, ApplicationVersion.state == VersionState.DRAFT)
                    .order_by(Application.id)
                ).all()
            )
        work.waiting_persons = _count(
            select(func.count())
            .select_from(PermitPerson)
            .join(PermitRequest)
            .where(
                PermitRequest.election_id == election.id,
                PermitRequest.state == RequestState.SUBMITTED,
                PermitPerson.state == PersonState.REQUESTED,
            )
        )
        work.meeting = meetings.current_meeting(election)
        work.registered_outlets = len(meetings.registered_organisations(election))
        work.replies = len(work.meeting.replies) if work.meeting is not None else 0
        rows.append(work)
    return rows


def _count(query) -> int:  # type: ignore[no-untyped-def]
    return int(db.session.scalar(query) or 0)
