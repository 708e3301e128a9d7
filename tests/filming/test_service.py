"""Permit request rules: drafting and submission, the deadline (across DST), capacity, transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.elections.prague import end_of_prague_day
from portal.extensions import db
from portal.filming import service
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
from portal.filming.models import PersonState, RequestState
from tests.filming.conftest import JANA, PETR, processing_window, request_content

SECOND = timedelta(seconds=1)
NOW = datetime(2099, 6, 1, 10, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def staff(make_staff):
    return make_staff()


def test_a_draft_may_be_incomplete_but_a_submission_may_not(election, make_applicant):
    applicant = make_applicant()
    with pytest.raises(ContentInvalid) as invalid:
        service.save_draft(
            applicant.organisation,
            election,
            request_content(persons=[("Jana Nováková", "", ""), ("", "", ""), ("Petr", "12", "")]),
            user=applicant,
            at=NOW,
        )
    # A malformed phone is refused even in a draft, and named by the row the outlet sees (the third).
    assert invalid.value.errors == {"persons-2-phone": ("invalid_phone", {})}

    draft = service.save_draft(
        applicant.organisation,
        election,
        request_content(persons=[("Jana Nováková", "", ""), ("", "", "")], scope="", kinds=[]),
        user=applicant,
        at=NOW,
    )
    assert draft.state is RequestState.DRAFT and [p.name for p in draft.persons] == ["Jana Nováková"]
    with pytest.raises(ContentInvalid) as incomplete:
        service.submit(draft, user=applicant, at=NOW)
    assert set(incomplete.value.errors) == {"persons-0-phone", "persons-0-email", "scope", "kinds"}
    assert draft.state is RequestState.DRAFT


def test_saving_again_overwrites_the_one_draft_and_submission_normalises(election, make_applicant, make_point):
    make_point("BRN1")
    applicant = make_applicant()
    first = service.save_draft(applicant.organisation, election, request_content(), user=applicant, at=NOW)
    second = service.save_draft(
        applicant.organisation,
        election,
        request_content(persons=[JANA, PETR], points=("brn1",)),
        user=applicant,
        at=NOW,
    )
    assert first is second
    service.submit(second, user=applicant, at=NOW)
    assert second.state is RequestState.SUBMITTED and second.submitted_at == NOW
    assert [(p.name, p.phone) for p in second.persons] == [
        ("Jana Nováková", "+420601123456"),
        ("Petr Svoboda", "+420602123456"),
    ]
    assert [p.code for p in second.preferred_points] == ["BRN1"]
    assert len(second.content_sha256) == 64
    # A new draft may follow (another crew); the submitted request stays.
    third = service.save_draft(applicant.organisation, election, request_content(), user=applicant, at=NOW)
    assert third is not second and service.requests_of(applicant.organisation, election) == [third, second]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"round_number": 3}, "round_number", "invalid_round"),
        ({"kinds": ["video", "smell"]}, "kinds", "invalid_choice"),
        ({"preferred_region": "Bavorsko"}, "preferred_area", "invalid_choice"),
        ({"preferred_district": "Kladno"}, "preferred_area", "invalid_choice"),  # not in Jihomoravský kraj
        ({"applicant_email": "eva@"}, "applicant_email", "invalid_email"),
        ({"scope": "x" * 2001}, "scope", "too_long"),
        ({"points": ("NOPE",)}, "preferred_points", "unknown_point"),
    ],
)
def test_bad_content_is_refused_with_the_field_and_changes_nothing(election, make_applicant, change, field, code):
    applicant = make_applicant()
    with pytest.raises(ContentInvalid) as invalid:
        service.save_draft(applicant.organisation, election, request_content(**change), user=applicant, at=NOW)
    assert invalid.value.errors[field][0] == code
    db.session.rollback()
    assert service.requests_of(applicant.organisation) == []


# The deadline -----------------------------------------------------------------------------------------------------


def test_the_deadline_defaults_to_the_application_deadline(election, make_applicant):
    closes = election.applications_close_at
    assert service.requests_close_at(election) == closes
    applicant = make_applicant()
    draft = service.save_draft(applicant.organisation, election, request_content(), user=applicant, at=closes - SECOND)
    service.submit(draft, user=applicant, at=closes - SECOND)
    with pytest.raises(DeadlinePassed) as late:
        service.save_draft(applicant.organisation, election, request_content(), user=applicant, at=closes)
    assert late.value.closes_at == closes


@pytest.mark.parametrize(
    ("day", "end_utc"),
    [
        # Sunday of the autumn change: the day has 25 hours, and it ends at midnight CET.
        (date(2098, 10, 26), datetime(2098, 10, 26, 23, 0, tzinfo=UTC)),
        # Sunday of the spring change: 23 hours, ending at midnight CEST.
        (date(2099, 3, 29), datetime(2099, 3, 29, 22, 0, tzinfo=UTC)),
    ],
)
def test_its_own_deadline_ends_with_the_prague_day_across_a_dst_change(
    election, staff, make_applicant, make_permit_request, day, end_utc
):
    service.set_deadline(election, day, staff=staff, at=NOW)
    assert service.requests_close_at(election) == end_utc == end_of_prague_day(day)
    assert service.accepts_requests(election, end_utc - SECOND)
    assert not service.accepts_requests(election, end_utc)

    on_time = make_permit_request(election, at=end_utc - SECOND)
    assert on_time.state is RequestState.SUBMITTED

    applicant = make_applicant()
    draft = service.save_draft(applicant.organisation, election, request_content(), user=applicant, at=end_utc - SECOND)
    with pytest.raises(DeadlinePassed):
        service.submit(draft, user=applicant, at=end_utc)  # one second after the last accepted instant
    assert draft.state is RequestState.DRAFT
    assert service.elections_open_for_requests(end_utc - SECOND) == [election]
    assert service.elections_open_for_requests(end_utc) == []


def test_a_deadline_after_processing_starts_is_refused(election, staff):
    last_processing_day = election.rounds[-1].processing_starts_at.date()
    with pytest.raises(DeadlineInvalid):
        service.set_deadline(election, last_processing_day, staff=staff, at=NOW)
    assert service.requests_close_at(election) == election.applications_close_at


def test_the_deadline_change_is_audited(election, staff):
    service.set_deadline(election, date(2099, 12, 1), staff=staff, at=NOW)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "filming.deadline_set"))
    assert event.after == {"requests_close_at": "2099-12-01T23:00:00+00:00"}


def test_a_plain_submission_is_refused_where_a_signature_is_required(make_election, make_applicant):
    election = make_election(code="kv2099", signature_required=True)
    applicant = make_applicant()
    draft = service.save_draft(applicant.organisation, election, request_content(), user=applicant, at=NOW)
    with pytest.raises(SignatureRequired):
        service.submit(draft, user=applicant, at=NOW)
    assert draft.state is RequestState.DRAFT


# Capacity -----------------------------------------------------------------------------------------------------------


def test_capacity_is_respected_and_over_booking_needs_an_explicit_confirmation(
    election, staff, make_point, make_permit_request, mailbox
):
    point = make_point("BRN1", capacity=2)
    start, end = processing_window(election)
    first = make_permit_request(election, persons=[JANA, PETR])
    second = make_permit_request(election, persons=[("Karel Novák", "+420 603 123 456", "karel@tv.example")])
    for person in first.persons:
        service.approve_person(person, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)

    third = second.persons[0]
    # Overlapping the others by one hour only is still three at one time.
    with pytest.raises(CapacityExceeded) as full:
        service.approve_person(
            third,
            point=point,
            starts_at=end - timedelta(hours=1),
            ends_at=end + timedelta(hours=2),
            staff=staff,
            at=NOW,
        )
    assert (full.value.capacity, full.value.peak) == (2, 3)
    assert [name.split(" (")[0] for name in full.value.others] == ["Jana Nováková", "Petr Svoboda"]
    assert third.state is PersonState.REQUESTED

    # Arriving when they leave is fine: windows are half-open.
    service.approve_person(third, point=point, starts_at=end, ends_at=end + timedelta(hours=2), staff=staff, at=NOW)
    assert third.state is PersonState.APPROVED and not third.overbooked
    assert service.point_loads(election)[0].peak == 2


def test_over_booking_confirmed_is_marked_and_shown(election, staff, make_point, make_permit_request):
    point = make_point("BRN1", capacity=1)
    start, end = processing_window(election)
    one, two = make_permit_request(election, persons=[JANA, PETR]).persons
    service.approve_person(one, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    service.approve_person(two, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW, allow_overbooking=True)
    assert two.overbooked and not one.overbooked
    (load,) = service.point_loads(election)
    assert load.peak == 2 and load.overbooked
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permit.approve")).all()[-1]
    assert event.after["overbooked"] is True


def test_capacity_counts_every_election_at_the_point_and_revocation_frees_it(
    election, staff, make_election, make_point, make_permit_request
):
    point = make_point("BRN1", capacity=1)
    senate = make_election(code="senat2099", kind="senate")  # the same days: the same collection points
    start, end = processing_window(election)
    (mine,) = make_permit_request(election).persons
    (theirs,) = make_permit_request(senate).persons
    service.approve_person(mine, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    with pytest.raises(CapacityExceeded):
        service.approve_person(theirs, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    service.revoke_permit(mine, staff=staff, at=NOW, reason="Nedostavil se na instruktáž.")
    service.approve_person(theirs, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    assert theirs.state is PersonState.APPROVED


@pytest.mark.parametrize(
    ("hours", "offset", "reason"),
    [(-1, 0, "order"), (25, 0, "too_long"), (4, 30, "outside_round"), (4, -48, "outside_round")],
)
def test_a_window_outside_the_round_or_in_the_wrong_order_is_refused(
    election, staff, make_point, make_permit_request, hours, offset, reason
):
    point = make_point()
    (person,) = make_permit_request(election).persons
    start = election.rounds[0].processing_starts_at + timedelta(hours=offset)
    with pytest.raises(WindowInvalid) as refused:
        service.approve_person(
            person, point=point, starts_at=start, ends_at=start + timedelta(hours=hours), staff=staff, at=NOW
        )
    assert refused.value.reason == reason


def test_an_inactive_point_takes_no_new_permit(election, staff, make_point, make_permit_request):
    point = make_point(active=False)
    (person,) = make_permit_request(election).persons
    start, end = processing_window(election)
    with pytest.raises(PointUnavailable):
        service.approve_person(person, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)


# Transitions -----------------------------------------------------------------------------------------------------


def test_each_person_is_decided_once_and_only_an_approved_permit_can_be_revoked(
    election, staff, make_point, make_permit_request
):
    point = make_point()
    start, end = processing_window(election)
    jana, petr = make_permit_request(election, persons=[JANA, PETR]).persons
    service.reject_person(petr, staff=staff, at=NOW, internal_reason="  Kapacita Brna.  ")
    assert petr.state is PersonState.REJECTED and petr.internal_reason == "Kapacita Brna."
    with pytest.raises(IllegalTransition):
        service.approve_person(petr, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    with pytest.raises(IllegalTransition):
        service.revoke_permit(jana, staff=staff, at=NOW)
    service.approve_person(jana, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    with pytest.raises(IllegalTransition):
        service.approve_person(jana, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    service.revoke_permit(jana, staff=staff, at=NOW)
    assert jana.state is PersonState.REVOKED and jana.revoked_at == NOW
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("permit.")] == ["permit.reject", "permit.approve", "permit.revoke"]


def test_persons_of_a_draft_cannot_be_decided(election, staff, make_point, make_permit_request):
    (person,) = make_permit_request(election, state="draft").persons
    with pytest.raises(IllegalTransition):
        service.reject_person(person, staff=staff, at=NOW)


def test_the_public_check_says_valid_then_expired_or_revoked(election, staff, make_point, make_permit_request):
    point = make_point(name="Brno-střed")
    start, end = processing_window(election)
    (person,) = make_permit_request(election).persons
    service.approve_person(person, point=point, starts_at=start, ends_at=end, staff=staff, at=NOW)
    token = person.permit_token
    assert service.check_permit(token, at=end - SECOND).status == "valid"
    assert service.check_permit(token, at=end).status == "expired"
    check = service.check_permit(token, at=start)
    assert (check.name, check.place, check.starts_at, check.ends_at) == ("Jana Nováková", "Brno-střed", start, end)
    assert not hasattr(check, "phone") and not hasattr(check, "email")
    service.revoke_permit(person, staff=staff, at=NOW)
    assert service.check_permit(token, at=start).status == "revoked"
    assert service.check_permit("nonexistent", at=start) is None
    assert service.check_permit("x" * 500, at=start) is None
