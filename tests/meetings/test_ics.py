"""The invitations' .ics, parsed back with icalendar: Prague times (across the DST change), a stable UID,
SEQUENCE growing with each change, METHOD:CANCEL for a cancellation; who receives what."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.meetings import service
from portal.meetings.errors import IllegalState
from portal.meetings.service import MeetingDetails
from tests.meetings.conftest import calendar_of, outbox_to

PRAGUE = ZoneInfo("Europe/Prague")
INVITATION = "meetings/mail/invitation.txt"
AT = datetime(2028, 10, 1, 8, 0, tzinfo=UTC)
#: Monday 30 October 2028, 10:00-12:00 Prague: the day after the clocks went back (CET, UTC+1).
AFTER_DST = MeetingDetails(
    starts_at=datetime(2028, 10, 30, 9, 0, tzinfo=UTC),
    ends_at=datetime(2028, 10, 30, 11, 0, tzinfo=UTC),
    place="ČSÚ, Na padesátém 81, Praha 10, zasedací místnost 1",
    video_link="https://meet.example/csu-volby",
    agenda="1. Přístup k serveru\n2. Testovací adresy\n3. Dotazy",
)


def event_of(message):  # type: ignore[no-untyped-def]
    calendar = calendar_of(message)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_invitation_is_an_rfc5545_request_in_prague_time(app, election, outlets):
    meeting = service.schedule(election, AFTER_DST, staff=outlets.staff, at=AT)
    (message,) = outbox_to("redakce@radio.example", INVITATION)
    calendar, event = event_of(message)
    assert str(calendar["METHOD"]) == "REQUEST" and str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == meeting.uid and int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert start == datetime(2028, 10, 30, 10, 0, tzinfo=PRAGUE) and start.tzinfo.key == "Europe/Prague"
    assert start.astimezone(UTC) == datetime(2028, 10, 30, 9, 0, tzinfo=UTC)  # CET: UTC+1 after the change
    assert event["DTSTART"].params["TZID"] == "Europe/Prague"
    assert event.decoded("DTEND") == datetime(2028, 10, 30, 12, 0, tzinfo=PRAGUE)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Prague"]
    assert str(event["LOCATION"]) == AFTER_DST.place and str(event["URL"]) == AFTER_DST.video_link
    assert str(event["ATTENDEE"]) == "mailto:redakce@radio.example"
    assert str(event["ORGANIZER"]) == "mailto:volby-media@czso.cz" and str(event["STATUS"]) == "CONFIRMED"
    assert "Technická porada" in str(event["SUMMARY"]) and "Přístup k serveru" in str(event["DESCRIPTION"])
    assert message.attachments[0]["content_type"] == "text/calendar; method=REQUEST; charset=UTF-8"
    raw = calendar.to_ical().decode()
    assert "DTSTART;TZID=Europe/Prague:20281030T100000" in raw


def test_a_summer_meeting_is_in_cest_and_english_readers_get_english(app, election, outlets):
    summer = MeetingDetails(
        starts_at=datetime(2028, 10, 27, 8, 0, tzinfo=UTC),
        ends_at=datetime(2028, 10, 27, 9, 0, tzinfo=UTC),
        place="ČSÚ",
    )
    service.schedule(election, summer, staff=outlets.staff, at=AT)
    (message,) = outbox_to("night@wire.example", INVITATION)
    _calendar, event = event_of(message)
    assert event.decoded("DTSTART") == datetime(2028, 10, 27, 10, 0, tzinfo=PRAGUE)  # CEST: UTC+2
    assert "Technical meeting" in str(event["SUMMARY"]) and message.language == "en"
    assert "Invitation: technical meeting" in message.subject


def test_every_registered_outlets_contacts_are_invited_once_and_nobody_else(app, election, outlets):
    service.schedule(election, AFTER_DST, staff=outlets.staff, at=AT)
    meeting = service.current_meeting(election)
    assert [i.email for i in meeting.invitations] == [
        "desk@wire.example",
        "night@wire.example",
        "redakce@radio.example",
    ]
    assert outbox_to("novy@denik.example") == []


def test_a_change_resends_with_a_higher_sequence_and_the_same_uid(app, election, outlets):
    meeting = service.schedule(election, AFTER_DST, staff=outlets.staff, at=AT)
    uid = meeting.uid
    assert not service.update(meeting, AFTER_DST, staff=outlets.staff, at=AT)  # no change, no mail
    assert len(outbox_to("redakce@radio.example", INVITATION)) == 1

    later = MeetingDetails(
        starts_at=datetime(2028, 10, 30, 13, 0, tzinfo=UTC),
        ends_at=datetime(2028, 10, 30, 14, 30, tzinfo=UTC),
        place=AFTER_DST.place,
    )
    assert service.update(meeting, later, staff=outlets.staff, at=AT)
    _first, second = outbox_to("redakce@radio.example", INVITATION)
    _calendar, event = event_of(second)
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == datetime(2028, 10, 30, 14, 0, tzinfo=PRAGUE)
    assert "URL" not in event  # the video link was removed
    assert second.subject.startswith("Změna: technická porada")
    assert {i.sequence for i in meeting.invitations} == {1}


def test_a_cancellation_is_method_cancel_with_the_next_sequence_to_everyone_invited(app, election, outlets):
    meeting = service.schedule(election, AFTER_DST, staff=outlets.staff, at=AT)
    service.update(
        meeting, MeetingDetails(**{**AFTER_DST.__dict__, "agenda": "Nový program"}), staff=outlets.staff, at=AT
    )
    service.cancel(meeting, staff=outlets.staff, at=AT, reason="Změna termínu voleb")
    for address in ("redakce@radio.example", "desk@wire.example", "night@wire.example"):
        cancellation = outbox_to(address, "meetings/mail/cancellation.txt")[-1]
        calendar, event = event_of(cancellation)
        assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == meeting.uid and int(event["SEQUENCE"]) == 2
        assert cancellation.attachments[0]["content_type"] == "text/calendar; method=CANCEL; charset=UTF-8"
        assert cancellation.attachments[0]["filename"] == "cancellation.ics"
    with pytest.raises(IllegalState):
        service.cancel(meeting, staff=outlets.staff, at=AT)
    # A new meeting may be scheduled after a cancellation; it has a UID of its own.
    again = service.schedule(election, AFTER_DST, staff=outlets.staff, at=AT)
    assert again.uid != meeting.uid and again.sequence == 0


def test_outlets_approved_later_are_invited_to_the_current_version(
    app, election, outlets, make_applicant, make_organisation, make_application
):
    meeting = service.schedule(election, AFTER_DST, staff=outlets.staff, at=AT)
    service.update(
        meeting, MeetingDetails(**{**AFTER_DST.__dict__, "agenda": "Nový program"}), staff=outlets.staff, at=AT
    )
    latecomer = make_applicant(make_organisation(name="Pozdní zprávy"), email="pozde@zpravy.example")
    make_application(election, latecomer, production=["192.0.2.40"], state="approved", staff=outlets.staff)
    assert service.invite_new(meeting, staff=outlets.staff, at=AT) == 1
    assert service.invite_new(meeting, staff=outlets.staff, at=AT) == 0
    (message,) = outbox_to("pozde@zpravy.example", INVITATION)
    assert int(event_of(message)[1]["SEQUENCE"]) == 1
