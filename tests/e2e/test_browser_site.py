"""The site as a public body publishes it, in a real browser: the footer's legal pages in both languages, the
staff navigation on one line, the header on a phone, stacked tables that keep their column names, the focus
on the error summary after a failed save, and the election-night board updating itself without a reload.

Every page visited here is also checked with axe-core by the ``page`` fixture (tests/e2e/conftest.py).
"""

from __future__ import annotations

import functools
import json
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Page, expect

from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.night.collect import store_stats
from portal.night.stats import parse_stats
from portal.registration.models import AddressSettings
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, AxeLog, LiveServer, check_accessibility
from tests.factories import PASSWORD, make_test_election

pytestmark = BROWSER_TEST

STAFF = "noc@czso.example"
TOTP_SECRET = pyotp.random_base32()
ELECTION = "prez2099"


@pytest.fixture
def live_settings() -> dict[str, object]:
    return {"PORTAL_NIGHT_POLL_SECONDS": 1}


def test_the_footer_leads_to_the_accessibility_statement_privacy_notice_and_contacts(
    live_server: LiveServer, page: Page
) -> None:
    cs = functools.partial(live_server.text, "cs")
    page.goto(live_server.url + "/")
    footer = page.locator("footer")
    expect(footer).to_contain_text("Na padesátém 81, 100 82 Praha 10")

    footer.get_by_role("link", name=cs("Accessibility statement")).click()
    expect(page).to_have_url(live_server.url + "/accessibility")
    expect(page.locator("h1")).to_have_text("Prohlášení o přístupnosti")
    main = page.locator("main")
    for heading in ("Stav souladu", "Nepřístupný obsah", "Vypracování tohoto prohlášení"):
        expect(main.get_by_role("heading", name=heading)).to_be_visible()
    expect(main.get_by_role("heading", name="Zpětná vazba a kontaktní údaje")).to_be_visible()
    expect(main.get_by_role("heading", name="Postupy pro vymáhání")).to_be_visible()
    expect(main).to_contain_text("částečně v souladu se zákonem č. 99/2019 Sb.")
    expect(main).to_contain_text("axe-core")  # the method of assessment
    expect(main).to_contain_text("5. 12. 2026")  # the date it was prepared, in Czech format
    expect(main).to_contain_text("Digitální a informační agentura")
    expect(main.locator("a[href='mailto:volby-media@czso.cz']")).to_be_visible()

    footer.get_by_role("link", name=cs("Personal data protection")).click()
    expect(page.locator("h1")).to_have_text("Ochrana osobních údajů")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(2)).to_contain_text("Osoby natáčející na přebíracích místech")
    expect(rows.nth(2)).to_contain_text("1 rok po konci voleb")
    expect(page.locator("main")).to_contain_text("Český statistický úřad, IČO 00025593")
    expect(page.locator("main")).to_contain_text("Úřad pro ochranu osobních údajů")

    footer.get_by_role("link", name=cs("Contact")).click()
    expect(page.locator("h1")).to_have_text("Kontakt")
    expect(page.locator("main .facts")).to_contain_text("2gfaasy")
    expect(page.locator("main a[href='tel:+420274051111']")).to_have_text("+420 274 051 111")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-contact.png"), full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Contact")
    expect(page.locator("main .facts")).to_contain_text("Czech Statistical Office")
    page.locator("footer").get_by_role("link", name="Accessibility statement").click()
    expect(page.locator("main")).to_contain_text("partially compliant with Act No. 99/2019 Coll.")
    expect(page.locator("main")).to_contain_text("Digital and Information Agency")
    page.locator("footer").get_by_role("link", name="Personal data protection").click()
    expect(page.locator("main table tbody tr").nth(4)).to_contain_text("the audit log")


def test_a_failed_save_puts_the_focus_on_the_error_summary(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url + "/signup")
    page.locator("#ico").fill("25123890")  # a wrong check digit; the other fields empty
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".error-summary a").first).to_be_focused()


def outlet_stats(organisation_id: int, name: str, requests: int, at: float) -> bytes:
    document = {
        "generated_at": at,
        "election": ELECTION,
        "snapshot_version": 1,
        "organisations": [
            {
                "organisation_id": organisation_id,
                "organisation": name,
                "requests": requests,
                "bytes": requests * 100,
                "not_modified": 0,
                "refused": 0,
                "rate_limited": 0,
                "last_seen": at,
                "not_modified_share": 0.0,
                "addresses": [
                    {
                        "address": "192.0.2.10",
                        "kind": "production",
                        "requests": requests,
                        "bytes": requests * 100,
                        "not_modified": 0,
                        "refused": 0,
                        "rate_limited": 0,
                        "last_seen": at,
                    }
                ],
            }
        ],
        "unknown": {"refused": 0, "rate_limited": 0},
        "responses": {},
    }
    return json.dumps(document).encode()


def prepare_night(live_server: LiveServer, make_application, make_applicant, make_organisation) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """An election with three approved outlets (so the queue has a stacked table), and a staff member."""
    with live_server.app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        election = make_test_election(ELECTION)
        staff = accounts.create_staff(email=STAFF, role=Role.ADMIN, password=PASSWORD, language="cs", at=utcnow())
        staff.totp_secret = TOTP_SECRET
        wire = make_organisation(name="Tisková agentura Noc")
        make_application(election, make_applicant(wire), production=["192.0.2.10"], state="approved", staff=staff)
        other = make_organisation(name="Rádio Sever")
        make_application(election, make_applicant(other), production=["192.0.2.20"], state="approved", staff=staff)
        db.session.commit()
        return wire.id, wire.name


def sign_in_staff(page: Page, url: str) -> None:
    page.goto(url + "/login")
    page.locator("#email").fill(STAFF)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("#code").fill(pyotp.TOTP(TOTP_SECRET).now())
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".account-nav")).to_contain_text(STAFF)


def test_the_night_board_updates_itself_without_a_reload(
    live_server: LiveServer, page: Page, axe_log: AxeLog, make_application, make_applicant, make_organisation
) -> None:
    wire_id, wire = prepare_night(live_server, make_application, make_applicant, make_organisation)
    url = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_staff(page, url)

    # The staff navigation fits one line at 1280 px: its groups open on demand.
    page.wait_for_load_state("load")  # measured with the stylesheets and fonts in place
    page.evaluate("() => document.fonts.ready.then(() => true)")
    row = page.locator(".main-nav-row")
    assert row.bounding_box()["height"] < 60  # type: ignore[index]
    page.locator(".nav-group summary", has_text="Správa").click()
    expect(page.locator(".nav-group a", has_text="Auditní protokol")).to_be_visible()

    page.goto(url + "/staff/night")
    expect(page.locator("main tbody tr").first).to_contain_text(ELECTION)
    page.locator("main tbody a").first.click()
    expect(page.locator("h1")).to_contain_text("Testovací volba")
    expect(page.locator("#board-live")).to_be_visible()  # the script runs and says so
    expect(page.locator("#board-outlets tr")).to_have_count(2)
    expect(page.locator("#board-outlets tr", has_text=wire).locator(".state")).to_have_text("dosud neviděna")
    expect(page.locator("[data-key=never] strong")).to_have_text("2")
    page.evaluate("() => { window.notReloaded = true; }")
    first_update = page.locator("#board").get_attribute("data-updated")

    # The collector stores two rounds of the proxy's counters: 900 requests between them.
    now = utcnow()
    with live_server.app.app_context():
        for seconds_ago, requests in ((60, 100), (0, 1000)):
            at = now - timedelta(seconds=seconds_ago)
            store_stats("proxy-1", parse_stats(outlet_stats(wire_id, wire, requests, at.timestamp())), at=at)
        db.session.commit()

    served = page.locator("#board-outlets tr", has_text=wire)
    expect(served.locator(".state")).to_have_text("obsluhována")
    expect(served.locator(".state")).to_have_class("state state-ok")
    expect(served.locator("td.num")).to_have_text("180,0")  # 900 requests in the last 5 minutes, Czech format
    expect(page.locator("[data-key=served] strong")).to_have_text("1")
    expect(page.locator("#chart-line")).not_to_have_attribute("points", "")
    expect(page.locator("#chart-y text").last).to_have_text("15")  # 15 requests per second: 0, 5, 10, 15
    assert page.locator("#chart-x text").count() >= 5  # the time axis: every 10 minutes of the hour
    assert page.evaluate("() => window.notReloaded === true"), "the board reloaded instead of updating"
    assert page.locator("#board").get_attribute("data-updated") != first_update
    assert check_accessibility(page, axe_log) == []  # the updated board, too
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "night-board-desktop.png"), full_page=True)

    # On a phone: the header takes at most a fifth of the first screen; table cells keep their column names.
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("() => document.fonts.ready.then(() => true)")
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 844 / 5, header
    cell = served.locator("td.num")
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert "Požadavky za minutu" in label, label
    page.screenshot(path=str(ARTIFACTS / "night-board-390.png"), full_page=True)


def test_the_night_board_works_without_javascript(
    live_server: LiveServer, browser, make_application, make_applicant, make_organisation
) -> None:  # type: ignore[no-untyped-def]
    prepare_night(live_server, make_application, make_applicant, make_organisation)
    context = browser.new_context(locale="cs-CZ", java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_staff(page, live_server.url)
        page.goto(live_server.url + f"/staff/elections/{ELECTION}/night")
        expect(page.locator("#board-live")).to_be_hidden()
        expect(page.locator("#board-outlets tr")).to_have_count(2)
        page.locator("#board-refresh").click()
        expect(page).to_have_url(live_server.url + f"/staff/elections/{ELECTION}/night")
        expect(page.locator("head meta[http-equiv=refresh]")).to_have_count(0)
    finally:
        context.close()
