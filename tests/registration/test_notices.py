"""Deadline reminders and test-cut notices: due at the right time, sent once, to the right outlets."""

from datetime import date, timedelta

from portal.accounts.models import Role
from portal.elections.prague import end_of_prague_day
from portal.extensions import db
from portal.notifications.outbox import deliver_due
from portal.registration.notices import send_due_notices
from tests.mailbox import body_of

DAYS_3 = timedelta(days=3)
HOURS_48 = timedelta(hours=48)


def send(at):
    report = send_due_notices(at, reminder_before=DAYS_3, test_cut_before=HOURS_48)
    db.session.commit()
    deliver_due(at + timedelta(seconds=1))
    return report


def test_drafts_get_one_reminder_three_days_before_the_deadline(
    app, make_election, make_application, make_staff, mailbox
):
    deadline = date(2027, 12, 17)
    election = make_election(deadline=deadline, first_voting_day=date(2028, 1, 14))
    end = end_of_prague_day(deadline)
    early = end - timedelta(days=10)
    draft = make_application(election, at=early)
    make_application(election, state="submitted", at=early)  # submitted: no reminder
    db.session.commit()

    assert send(end - DAYS_3 - timedelta(minutes=1)).reminders == 0  # not yet due
    assert send(end - DAYS_3 + timedelta(minutes=1)).reminders == 1
    assert send(end - timedelta(hours=1)).reminders == 0  # already reminded
    reminders = mailbox.to(draft.created_by.email)
    assert len(reminders) == 1 and draft.reference in reminders[0]["Subject"]
    assert "17. 12. 2027" in body_of(reminders[0])
    assert send(end + timedelta(minutes=1)).reminders == 0  # after the deadline: pointless


def test_outlets_with_test_addresses_are_told_before_processing_starts(
    app, make_election, make_application, make_staff, mailbox
):
    staff = make_staff(role=Role.REVIEWER)
    election = make_election(deadline=date(2027, 12, 17), first_voting_day=date(2028, 1, 14))
    at = end_of_prague_day(date(2027, 12, 10))
    with_test = make_application(
        election, production=["192.0.2.1"], test=["198.51.100.1"], state="approved", staff=staff, at=at
    )
    make_application(election, production=["192.0.2.2"], state="approved", staff=staff, at=at)
    db.session.commit()
    first_round = election.rounds[0].processing_starts_at

    assert send(first_round - HOURS_48 - timedelta(minutes=5)).test_cut_notices == 0
    assert send(first_round - HOURS_48 + timedelta(minutes=5)).test_cut_notices == 1
    assert send(first_round - timedelta(hours=1)).test_cut_notices == 0
    notice = mailbox.wait_for(with_test.created_by.email)
    assert "198.51.100.1" in body_of(notice) and "15. 1. 2028 14:00" in body_of(notice)
    # The run-off is a new occasion.
    runoff = election.rounds[1].processing_starts_at
    assert send(runoff - timedelta(hours=24)).test_cut_notices == 1
