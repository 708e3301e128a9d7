"""The whole path in a real browser: an outlet applies with two production addresses and one test
address, a reviewer signs in with the second factor and approves, the outlet sees the decision,
and the receipt mail arrives over SMTP."""

from __future__ import annotations

import functools

import pyotp
from playwright.sync_api import Page, expect

from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.registration.models import AddressSettings
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.factories import PASSWORD, make_test_election
from tests.mailbox import Mailbox, body_of

pytestmark = BROWSER_TEST

OUTLET = "redakce@radio.example"
REVIEWER = "kontrola@czso.example"
TOTP_SECRET = pyotp.random_base32()


def prepare(live_server: LiveServer) -> str:
    """An open election, an outlet and a reviewer with a second factor; returns the election code."""
    with live_server.app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        election = make_test_election("prez2099")
        confirmed_outlet(OUTLET, name="Rádio Test s.r.o.", ico="00027383", password=PASSWORD)
        reviewer = accounts.create_staff(
            email=REVIEWER, role=Role.REVIEWER, password=PASSWORD, language="cs", at=utcnow()
        )
        reviewer.totp_secret = TOTP_SECRET
        db.session.commit()
        return election.code


def sign_in(page: Page, url: str, email: str, code: str | None = None) -> None:
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    if code is not None:
        page.locator("#code").fill(code)
        page.locator("main form button[type=submit]").click()
    expect(page.locator(".account-nav")).to_contain_text(email)


def sign_out(page: Page) -> None:
    page.locator(".account-nav form button").click()


def test_outlet_applies_staff_approves_outlet_sees_the_decision(
    live_server: LiveServer, page: Page, mailbox: Mailbox
) -> None:
    cs = functools.partial(live_server.text, "cs")
    code = prepare(live_server)
    url = live_server.url

    sign_in(page, url, OUTLET)
    page.locator(".main-nav a", has_text=cs("Applications")).click()
    page.locator("form", has=page.locator("button", has_text=cs("New application"))).locator("button").click()
    expect(page.locator("h1")).to_contain_text(f"{code}-0001")
    page.locator("#contact_phone").fill("+420 274 051 111")
    page.locator("#production-0").fill("192.0.2.10")
    page.locator("#production-1").fill("2001:DB8::10")
    page.locator("#test-0").fill("198.51.100.7")
    page.locator("#accept_terms").check()
    page.locator("#submit_application").click()
    expect(page.locator(".notice-success")).to_be_visible()
    expect(page.locator("main")).to_contain_text("2001:db8::10")  # stored canonical

    receipt = mailbox.wait_for(OUTLET)
    assert f"{code}-0001" in receipt["Subject"]
    assert "192.0.2.10" in body_of(receipt) and "198.51.100.7" in body_of(receipt)
    sign_out(page)

    sign_in(page, url, REVIEWER, pyotp.TOTP(TOTP_SECRET).now())
    page.locator(".main-nav a", has_text=cs("Review")).click()
    page.locator("a", has_text=f"{code}-0001").click()
    expect(page.locator("main")).to_contain_text("198.51.100.7")
    page.locator("button", has_text=cs("Approve")).click()
    expect(page.locator(".notice-success")).to_have_text(cs("The application has been approved."))
    sign_out(page)

    sign_in(page, url, OUTLET)
    page.locator(".main-nav a", has_text=cs("Applications")).click()
    page.locator("a", has_text=f"{code}-0001").click()
    expect(page.locator(".facts").first).to_contain_text(cs("Approved"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-application-approved.png"), full_page=True)
    decision = [m for m in mailbox.to(OUTLET) if m["Subject"] != receipt["Subject"]]
    assert decision, "the decision mail did not arrive"
