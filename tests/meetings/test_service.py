"""Meeting rules: what a meeting needs, who may reply and until when, mail to every registered outlet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.meetings import service
from portal.meetings.errors import DetailsInvalid, MeetingExists, NobodyToMail, NotRegistered, RepliesClosed
from portal.meetings.service import MeetingDetails
from tests.meetings.conftest import outbox_to

AT = datetime(2028, 10, 1, 8, 0, tzinfo=UTC)
START = datetime(2028, 10, 30, 9, 0, tzinfo=UTC)
GOOD = MeetingDetails(starts_at=START, ends_at=START + timedelta(hours=2), place="ČSÚ Praha")


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"ends_at": START}, "ends_at", "order"),
        ({"ends_at": START + timedelta(hours=13)}, "ends_at", "duration"),
        ({"starts_at": AT - timedelta(hours=1), "ends_at": AT}, "starts_at", "past"),
        ({"place": " ", "video_link": ""}, "place", "place_or_link"),
        ({"video_link": "http://meet.example/x"}, "video_link", "invalid_link"),
        ({"video_link": "javascript:alert(1)"}, "video_link", "invalid_link"),
        ({"video_link": "https://meet example/x"}, "video_link", "invalid_link"),
        ({"agenda": "x" * 5001}, "agenda", "too_long"),
    ],
)
def test_a_meeting_needs_a_future_time_in_order_and_a_place_or_an_https_link(
    app, election, outlets, changes, field, code
):
    details = MeetingDetails(**{**GOOD.__dict__, **changes})
    with pytest.raises(DetailsInvalid) as invalid:
        service.schedule(election, details, staff=outlets.staff, at=AT)
    assert invalid.value.errors[field][0] == code
    assert service.current_meeting(election) is None


def test_one_scheduled_meeting_per_election(app, election, outlets):
    service.schedule(election, GOOD, staff=outlets.staff, at=AT)
    with pytest.raises(MeetingExists):
        service.schedule(election, GOOD, staff=outlets.staff, at=AT)


def test_registered_outlets_reply_with_attendees_until_the_meeting_starts(app, election, outlets):
    meeting = service.schedule(election, GOOD, staff=outlets.staff, at=AT)
    organisation = outlets.czech_organisation
    reply = service.reply(
        meeting, organisation, ["  Jana  Nováková ", "", "jana nováková", "Petr Svoboda"], user=outlets.czech, at=AT
    )
    assert reply.attendees == ["Jana Nováková", "Petr Svoboda"]
    again = service.reply(meeting, organisation, [], user=outlets.czech, at=AT)  # nobody will come after all
    assert again is reply and reply.attendees == []
    events = select(AuditEvent).where(AuditEvent.action == "meeting.replied").order_by(AuditEvent.id)
    last = db.session.scalars(events).all()[-1]
    assert last.before == {"attendees": ["Jana Nováková", "Petr Svoboda"]} and last.after["attendees"] == []

    with pytest.raises(DetailsInvalid):
        service.reply(meeting, organisation, [f"Osoba {n}" for n in range(6)], user=outlets.czech, at=AT)
    with pytest.raises(NotRegistered):
        service.reply(meeting, outlets.unregistered.organisation, ["X"], user=outlets.unregistered, at=AT)
    with pytest.raises(RepliesClosed):
        service.reply(meeting, organisation, ["Jana"], user=outlets.czech, at=START)
    service.cancel(meeting, staff=outlets.staff, at=AT)
    with pytest.raises(RepliesClosed):
        service.reply(meeting, organisation, ["Jana"], user=outlets.czech, at=AT)


def test_staff_mail_every_registered_outlet_in_its_language(app, election, outlets):
    count = service.mail_outlets(
        election, "Změna  testovacích adres", "Od pondělí platí nové adresy.", staff=outlets.staff, at=AT
    )
    assert count == 3
    (czech,) = outbox_to("redakce@radio.example", "meetings/mail/message.txt")
    (english,) = outbox_to("night@wire.example", "meetings/mail/message.txt")
    assert czech.subject == "Změna testovacích adres" and "Od pondělí platí nové adresy." in czech.body
    assert "Český statistický úřad, registrovaným médiím" in czech.body
    assert "Czech Statistical Office, to the registered outlets" in english.body
    assert outbox_to("novy@denik.example", "meetings/mail/message.txt") == []
    with pytest.raises(DetailsInvalid):
        service.mail_outlets(election, "", "text", staff=outlets.staff, at=AT)


def test_mail_without_registered_outlets_is_refused(app, make_election, make_staff):
    empty = make_election(code="prez2098", deadline=datetime(2098, 12, 18).date())
    with pytest.raises(NobodyToMail):
        service.mail_outlets(empty, "Předmět", "Text", staff=make_staff(), at=AT)
