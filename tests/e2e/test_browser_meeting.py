"""The technical meeting in a real browser: staff schedule it, the registered outlet's invitation
arrives over SMTP with an .ics parsed back with icalendar, the outlet names its attendees from the
link in the mail, staff see them; a change re-sends with a higher SEQUENCE and the same UID."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
from icalendar import Calendar
from playwright.sync_api import Page, expect

from allowlist.addresses import AddressPolicy
from portal.access import service as decisions
from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.registration import service as registration
from portal.registration.content import ApplicationContent
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.factories import PASSWORD, make_test_election
from tests.mailbox import Mailbox, body_of

pytestmark = BROWSER_TEST

OUTLET = "redakce@radio.example"
STAFF = "porada@czso.example"
TOTP_SECRET = pyotp.random_base32()
PRAGUE = ZoneInfo("Europe/Prague")


def prepare(live_server: LiveServer) -> None:
    """An election, a reviewer, and an outlet whose application is approved (a registered outlet)."""
    with live_server.app.app_context():
        election = make_test_election("prez2099")
        outlet = confirmed_outlet(OUTLET, name="Rádio Praha s.r.o.", ico="00027383", password=PASSWORD)
        staff = accounts.create_staff(email=STAFF, role=Role.REVIEWER, password=PASSWORD, language="cs", at=utcnow())
        staff.totp_secret = TOTP_SECRET
        now = utcnow()
        policy = AddressPolicy(allow_documentation=True)
        application = registration.start_application(outlet.organisation, election, outlet, at=now)
        content = ApplicationContent(OUTLET, "+420 274 051 111", ["192.0.2.10"], [], accept_terms=True)
        registration.save_draft(application.latest, content, policy, at=now)
        registration.submit(application.latest, policy, user=outlet, at=now)
        decisions.approve(application.latest, staff=staff, at=now)
        db.session.commit()


def sign_in(page: Page, url: str, email: str, code: str | None = None) -> None:
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    if code is not None:
        page.locator("#code").fill(code)
        page.locator("main form button[type=submit]").click()
    expect(page.locator(".account-nav")).to_contain_text(email)


def invitations(mailbox: Mailbox) -> list:  # type: ignore[type-arg]
    return [m for m in mailbox.to(OUTLET) if any(p.get_content_type() == "text/calendar" for p in m.iter_attachments())]


def calendar_of(message) -> Calendar:  # type: ignore[no-untyped-def]
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invitation.ics"
    assert part.get_param("method") == "REQUEST"
    return Calendar.from_ical(part.get_payload(decode=True))


def test_meeting_invitation_ics_and_the_outlets_reply(live_server: LiveServer, page: Page, mailbox: Mailbox) -> None:
    cs = functools.partial(live_server.text, "cs")
    prepare(live_server)
    url = live_server.url

    sign_in(page, url, STAFF, pyotp.TOTP(TOTP_SECRET).now())
    page.locator(".nav-group summary", has_text=cs("Election preparation")).click()
    page.locator(".main-nav a", has_text=cs("Technical meetings")).click()
    page.locator("a", has_text="Testovací volba").click()
    page.locator("#day").fill("2099-11-02")
    page.locator("#starts").fill("10:00")
    page.locator("#ends").fill("11:30")
    page.locator("#place").fill("ČSÚ, Na padesátém 81, Praha 10")
    page.locator("#video_link").fill("https://meet.example/volby")
    page.locator("#agenda").fill("1. Přístup k serveru\n2. Testovací adresy")
    page.locator("main form button[type=submit]", has_text=cs("Save and send the invitations")).click()
    expect(page.locator(".notice-success")).to_have_text(cs("The meeting has been scheduled and the invitations sent."))

    mailbox.wait_for(OUTLET)
    (invitation,) = invitations(mailbox)
    calendar = calendar_of(invitation)
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTART") == datetime(2099, 11, 2, 10, 0, tzinfo=PRAGUE)
    assert event["DTSTART"].params["TZID"] == "Europe/Prague"
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2099, 11, 2, 9, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2099, 11, 2, 11, 30, tzinfo=PRAGUE)
    assert int(event["SEQUENCE"]) == 0 and str(event["ATTENDEE"]) == f"mailto:{OUTLET}"
    uid = str(event["UID"])
    reply_link = re.search(r"http://\S+/meetings/prez2099", body_of(invitation)).group(0)

    # A change: the same UID, SEQUENCE 1.
    page.locator("#starts").fill("13:00")
    page.locator("#ends").fill("14:00")
    page.locator("main form button[type=submit]", has_text=cs("Save and send the invitations")).click()
    expect(page.locator(".notice-success")).to_have_text(cs("The meeting has been changed and the outlets told."))
    changed = [m for m in mailbox.to(OUTLET) if m["Subject"].startswith("Změna")]
    for _attempt in range(50):
        if changed:
            break
        page.wait_for_timeout(100)
        changed = [m for m in mailbox.to(OUTLET) if m["Subject"].startswith("Změna")]
    (event,) = calendar_of(changed[0]).walk("VEVENT")
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == datetime(2099, 11, 2, 13, 0, tzinfo=PRAGUE)
    page.locator(".account-nav form button").click()

    sign_in(page, url, OUTLET)
    page.goto(reply_link)
    expect(page.locator("dl.meeting")).to_contain_text("2. 11. 2099 13:00")
    page.locator("#attendees-0").fill("Jana Nováková")
    page.locator("#attendees-1").fill("Petr Svoboda")
    page.locator("main form button[type=submit]", has_text=cs("Send the reply")).click()
    expect(page.locator(".notice-success")).to_have_text(cs("Thank you: your reply has been saved."))
    expect(page.locator("dl.meeting")).to_contain_text("Jana Nováková, Petr Svoboda")
    page.locator(".account-nav form button").click()

    # The next time step's code: the first one may not be used twice.
    sign_in(page, url, STAFF, pyotp.TOTP(TOTP_SECRET).at(datetime.now(UTC) + timedelta(seconds=30)))
    page.goto(url + "/staff/elections/prez2099/meeting")
    expect(page.locator("table.attendees")).to_contain_text("Rádio Praha s.r.o.")
    expect(page.locator("table.attendees")).to_contain_text("Jana Nováková, Petr Svoboda")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-meeting-replies.png"), full_page=True)
