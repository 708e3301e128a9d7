"""The meeting pages over HTTP: staff schedule it in Prague time and the invitations arrive over SMTP
with their .ics; outlets reply; nobody sees another outlet's reply page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from portal.accounts.models import Role
from portal.extensions import db
from portal.meetings import service
from portal.meetings.service import MeetingDetails
from tests.factories import post_form, sign_in
from tests.mailbox import Mailbox, body_of
from tests.meetings.conftest import calendar_of

FORM = {
    "day": "2099-11-02",
    "starts": "10:00",
    "ends": "11:30",
    "place": "ČSÚ, Na padesátém 81, Praha 10",
    "video_link": "https://meet.example/volby",
    "agenda": "Přístup k serveru a testovací adresy.",
}


def test_staff_schedule_and_the_invitation_arrives_with_its_ics(client, election, outlets, mailbox: Mailbox):
    db.session.commit()
    sign_in(client, outlets.staff)
    response = post_form(client, "/staff/elections/prez2099/meeting", FORM)
    assert response.status_code == 302
    mail = mailbox.wait_for("redakce@radio.example")
    assert mail["Subject"] == "Pozvánka: technická porada k volbě Testovací volba"
    body = body_of(mail)
    assert "2. 11. 2099 10:00" in body and "https://meet.example/volby" in body
    assert f"/organisations/{outlets.czech.organisation_id}/meetings/prez2099" in body
    (event,) = calendar_of(mail).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2099, 11, 2, 10, 0, tzinfo=ZoneInfo("Europe/Prague"))
    assert event.decoded("DTSTART").astimezone(UTC).hour == 9  # November: CET
    english = mailbox.wait_for("night@wire.example")
    assert english["Subject"] == "Invitation: technical meeting for the election Test election"

    page = client.get("/staff/elections/prez2099/meeting").get_data(as_text=True)
    assert "Rádio Praha s.r.o." in page and "Foreign Wire Ltd." in page and "Nový deník" not in page
    assert "zatím bez odpovědi" in page

    changed = post_form(client, "/staff/elections/prez2099/meeting", {**FORM, "starts": "13:00", "ends": "14:00"})
    assert changed.status_code == 302
    update = [m for m in mailbox.to("redakce@radio.example") if m["Subject"].startswith("Změna")][-1]
    (event,) = calendar_of(update).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1

    cancelled = post_form(client, "/staff/elections/prez2099/meeting/cancel", {"reason": "Nový termín"})
    assert cancelled.status_code == 302
    cancel = [m for m in mailbox.to("desk@wire.example") if m["Subject"].startswith("Cancelled")][-1]
    calendar = calendar_of(cancel)
    assert str(calendar["METHOD"]) == "CANCEL" and int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 2


def test_bad_meeting_input_is_named_and_changes_nothing(client, election, outlets, mailbox: Mailbox):
    db.session.commit()
    sign_in(client, outlets.staff)
    for changes, message in [
        ({"ends": "09:00"}, "Porada končí dříve, než začne."),
        ({"day": "2020-01-01"}, "Porada musí začínat v budoucnu."),
        ({"place": "", "video_link": ""}, "Uveďte místo nebo odkaz na videokonferenci."),
        ({"video_link": "ftp://meet.example"}, "Zadejte odkaz na videokonferenci začínající https://."),
        ({"day": "2099-03-29", "starts": "02:30"}, "Tento čas v Praze neexistuje"),
        ({"day": "not a day"}, 'id="day-error-1"'),
    ]:
        response = post_form(client, "/staff/elections/prez2099/meeting", {**FORM, **changes})
        assert response.status_code == 200 and message in response.get_data(as_text=True), changes
    assert service.current_meeting(election) is None and mailbox.to("redakce@radio.example") == []


def test_outlets_reply_with_attendees_and_staff_see_them(client, app, election, outlets):
    service.schedule(
        election,
        MeetingDetails(
            starts_at=datetime(2099, 11, 2, 9, 0, tzinfo=UTC),
            ends_at=datetime(2099, 11, 2, 10, 0, tzinfo=UTC),
            place="ČSÚ",
        ),
        staff=outlets.staff,
        at=datetime(2099, 10, 1, tzinfo=UTC),
    )
    db.session.commit()
    sign_in(client, outlets.czech)
    url = f"/organisations/{outlets.czech.organisation_id}/meetings/prez2099"
    assert "ČSÚ" in client.get(url).get_data(as_text=True)
    assert post_form(client, url, {"attendees-0": "Jana Nováková", "attendees-2": "Petr Svoboda"}).status_code == 302
    assert "Jana Nováková, Petr Svoboda" in client.get(url).get_data(as_text=True)
    assert "Testovací volba" in client.get(f"/organisations/{outlets.czech.organisation_id}/meetings").get_data(
        as_text=True
    )
    # Another outlet's meeting page, and posting to it, is not found.
    other = f"/organisations/{outlets.english.organisation_id}/meetings/prez2099"
    assert client.get(other).status_code == 404
    assert post_form(client, other, {"attendees-0": "Vetřelec"}).status_code == 404

    staff = app.test_client()
    sign_in(staff, outlets.staff)
    page = staff.get("/staff/elections/prez2099/meeting").get_data(as_text=True)
    assert "Jana Nováková, Petr Svoboda" in page
    attendees = staff.get("/staff/elections/prez2099/meeting/attendees.csv").get_data(as_text=True)
    assert "Rádio Praha s.r.o.,," not in attendees and "Jana Nováková" in attendees
    assert post_form(staff, other, {"attendees-0": "Úředník"}).status_code == 403  # staff read, never write


def test_the_attendee_list_neutralises_formulas(app, client, election, outlets):
    service.schedule(
        election,
        MeetingDetails(
            starts_at=datetime(2099, 11, 2, 9, 0, tzinfo=UTC),
            ends_at=datetime(2099, 11, 2, 10, 0, tzinfo=UTC),
            place="ČSÚ",
        ),
        staff=outlets.staff,
        at=datetime(2099, 10, 1, tzinfo=UTC),
    )
    outlets.czech.organisation.name = '=HYPERLINK("http://evil.example")'
    db.session.commit()
    sign_in(client, outlets.czech)
    url = f"/organisations/{outlets.czech.organisation_id}/meetings/prez2099"
    assert post_form(client, url, {"attendees-0": "=1+1", "attendees-1": "Jana Nováková"}).status_code == 302
    staff = app.test_client()
    sign_in(staff, outlets.staff)
    text = staff.get("/staff/elections/prez2099/meeting/attendees.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["organisation"], r["attendee"]) for r in rows] == [
        ('\'=HYPERLINK("http://evil.example")', "'=1+1"),
        ('\'=HYPERLINK("http://evil.example")', "Jana Nováková"),
    ]


def test_an_outlet_without_an_approved_application_is_told_so(client, election, outlets):
    db.session.commit()
    sign_in(client, outlets.unregistered)
    page = client.get(f"/organisations/{outlets.unregistered.organisation_id}/meetings/prez2099")
    assert page.status_code == 200
    assert "Technické porady se účastní jen média se schválenou žádostí" in page.get_data(as_text=True)
    assert client.get(f"/organisations/{outlets.unregistered.organisation_id}/meetings/nope").status_code == 404


def test_staff_mail_all_registered_outlets(client, election, outlets, make_staff, mailbox: Mailbox):
    reviewer = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, reviewer)
    page = client.get("/staff/elections/prez2099/meeting/mail").get_data(as_text=True)
    assert "na 3 adres" in page
    sent = post_form(
        client, "/staff/elections/prez2099/meeting/mail", {"subject": "Nové adresy", "body": "Platí od pondělí."}
    )
    assert sent.status_code == 302
    assert body_of(mailbox.wait_for("night@wire.example")).startswith("Platí od pondělí.")
    assert mailbox.to("novy@denik.example") == []
