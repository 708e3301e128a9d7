"""An outlet registers in a real browser: sign-up, the confirmation mail, sign-in, the language switch.

The portal runs in a thread behind werkzeug's server; Playwright drives Debian's Chromium; the mail
goes through the suite's real SMTP server. Expected texts are looked up in the portal's own catalogue,
so the test holds whether or not a phrase is translated yet.
"""

from __future__ import annotations

import functools
import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer
from tests.mailbox import Mailbox, first_link

VALID_ICO = "47114983"
ICO_WITH_WRONG_CHECK_DIGIT = "25123890"
PASSWORD = "correct horse battery"

pytestmark = BROWSER_TEST


def fill_sign_up_form(page: Page, ico: str, email: str) -> None:
    page.locator("#organisation_name").fill("Deník Vysočiny")
    page.locator("#ico").fill(ico)
    page.locator("#address").fill("Masarykovo náměstí 1, 586 01 Jihlava")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_again").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_an_outlet_signs_up_confirms_signs_in_and_switches_to_english(
    live_server: LiveServer, page: Page, mailbox: Mailbox
) -> None:
    cs = functools.partial(live_server.text, "cs")
    email = "redakce@denik-vysociny.example"

    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "cs")
    page.locator("nav a[href$='/signup']").click()
    expect(page).to_have_url(live_server.url + "/signup")
    expect(page.locator("h1")).to_have_text(cs("Register an outlet"))

    # A mistyped IČO: the summary and the field both say so, and nobody is mailed.
    fill_sign_up_form(page, ICO_WITH_WRONG_CHECK_DIGIT, email)
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a[href='#ico']")).to_contain_text(cs("This IČO has a wrong check digit; please check it."))
    expect(page.locator("#ico")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#ico-error-1")).to_have_text(cs("This IČO has a wrong check digit; please check it."))
    expect(page.locator("#organisation_name")).to_have_value("Deník Vysočiny")
    assert mailbox.messages == []

    fill_sign_up_form(page, VALID_ICO, email)
    expect(page.locator("h1")).to_have_text(cs("Check your e-mail"))
    expect(page.locator("main")).to_contain_text(email)

    link = first_link(mailbox.wait_for(email))
    assert link.startswith(live_server.url + "/confirm/"), link
    page.goto(link)
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.locator(".notice-success")).to_have_text(cs("Your e-mail address is confirmed. You can sign in now."))

    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/organisations/\d+/overview$"))  # its overview
    expect(page.locator(".account-nav a[href$='/account']")).to_have_text(email)
    expect(page.get_by_role("button", name=cs("Sign out"))).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-signup-czech.png"), full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Overview: "))  # the same page, in English
    expect(page.get_by_role("button", name="Česky")).to_be_visible()
    assert len(mailbox.to(email)) == 1

    page.screenshot(path=str(ARTIFACTS / "browser-signup-english.png"), full_page=True)
