"""In a real browser: errors before the signature, the withdrawal's confirmation, and the pages people
land on after signing in. Screenshots (desktop and 390 px) go to test-artifacts/."""

from __future__ import annotations

import functools
from datetime import timedelta

import pyotp
from playwright.sync_api import Page, expect

from allowlist.addresses import AddressPolicy
from portal.access import service as decisions
from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.night.models import FeedAddress
from portal.registration import service
from portal.registration.content import ApplicationContent
from portal.registration.models import AddressSettings
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.e2e.test_browser_application import sign_in
from tests.factories import PASSWORD, make_test_election

pytestmark = BROWSER_TEST

OUTLET = "redakce@noviny.example"
REVIEWER = "kontrola@czso.example"
TOTP_SECRET = pyotp.random_base32()
PHONE = 390


def prepare(live_server: LiveServer) -> None:
    """A signature election the outlet has not applied to, and one where its application is approved
    and one of its addresses was seen at the feed proxy; a reviewer with a second factor."""
    with live_server.app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        signed_election = make_test_election("prez2099", signature_required=True)
        signed_election.name_cs = "Volba prezidenta republiky 2100"
        portal_election = make_test_election("kv2099", kind="municipal")
        portal_election.name_cs = "Volby do zastupitelstev obcí 2099"
        outlet = confirmed_outlet(OUTLET, name="Noviny Test a.s.", ico="00027383", password=PASSWORD)
        other = confirmed_outlet("zpravy@radio.example", name="Rádio Test s.r.o.", ico="47114983", password=PASSWORD)
        reviewer = accounts.create_staff(
            email=REVIEWER, role=Role.REVIEWER, password=PASSWORD, language="cs", at=utcnow()
        )
        reviewer.totp_secret = TOTP_SECRET
        now = utcnow()
        application = service.start_application(outlet.organisation, portal_election, outlet, at=now)
        content = ApplicationContent(OUTLET, "+420 274 051 111", ["192.0.2.10", "192.0.2.11"], ["198.51.100.7"], True)
        policy = AddressPolicy(allow_documentation=True)
        service.save_draft(application.latest, content, policy, at=now)
        service.submit(application.latest, policy, user=outlet, at=now)
        decisions.approve(application.latest, staff=reviewer, at=now)
        # Another outlet: an application waiting for a decision, and a draft that may come by data box.
        waiting = service.start_application(other.organisation, portal_election, other, at=now)
        other_content = ApplicationContent(other.email, "+420 274 051 112", ["203.0.113.5"], [], True)
        service.save_draft(waiting.latest, other_content, policy, at=now)
        service.submit(waiting.latest, policy, user=other, at=now)
        service.start_application(other.organisation, signed_election, other, at=now)
        db.session.add(
            FeedAddress(
                election_id=portal_election.id,
                proxy="proxy-1",
                address="192.0.2.10",
                organisation_id=outlet.organisation_id,
                kind="production",
                requests=240,
                refused=0,
                last_seen=now - timedelta(minutes=3),
                updated_at=now,
            )
        )
        db.session.commit()


def screenshots(page: Page, name: str) -> None:
    """The page as it is now, at desktop width and on a phone 390 px wide."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_outlet_overview_and_every_bad_address_at_once(live_server: LiveServer, page: Page) -> None:
    cs = functools.partial(live_server.text, "cs")
    prepare(live_server)
    sign_in(page, live_server.url, OUTLET)

    # After signing in, the outlet lands on its overview.
    expect(page.locator("h1")).to_contain_text("Noviny Test a.s.")
    approved = page.locator("#election-kv2099")
    expect(approved.locator("tbody tr").nth(0)).to_contain_text(cs("last at %(at)s").split("%")[0].strip())
    expect(approved.locator("tbody tr").nth(1)).to_contain_text(cs("not seen yet"))
    expect(approved.locator("a[href$='/whoami']")).to_be_visible()
    screenshots(page, "outlet-overview")

    # The election without an application offers to apply.
    page.locator("#election-prez2099").get_by_role("button", name=cs("Apply")).click()
    expect(page.locator("h1")).to_contain_text("prez2099-")
    page.locator("#contact_phone").fill("274 051 111")
    page.get_by_label(cs("Production address %(number)d") % {"number": 1}).fill("192.0.2.20")
    page.get_by_label(cs("Production address %(number)d") % {"number": 3}).fill("10.0.0.1")
    page.get_by_label(cs("Production address %(number)d") % {"number": 4}).fill("100.64.1.1")
    page.get_by_label(cs("Test address %(number)d") % {"number": 2}).fill("not an address")
    page.locator("#save").click()

    summary = page.locator(".error-summary li")
    expect(summary).to_have_count(3)
    expect(summary.nth(0)).to_contain_text(cs("Production address %(number)d") % {"number": 3})
    expect(summary.nth(1)).to_contain_text(cs("Production address %(number)d") % {"number": 4})
    expect(summary.nth(2)).to_contain_text(cs("Test address %(number)d") % {"number": 2})
    expect(page.locator("#production-2-error-1")).to_contain_text("10.0.0.1")
    expect(page.locator("#production-3-error-1")).to_contain_text("100.64.1.1")
    expect(page.locator("#test-1-error-1")).to_contain_text("not an address")
    expect(page.locator("a[href*='application.pdf']")).to_have_count(0)
    expect(page.locator("#readiness")).to_contain_text(
        cs("Your changes were not saved: correct the errors above and save the draft again.")
    )
    screenshots(page, "application-form-errors")

    # Saved without the bad rows but without the terms: still incomplete, so no PDF and no upload.
    page.locator("#production-2").fill("")
    page.locator("#production-3").fill("")
    page.locator("#test-1").fill("")
    page.locator("#save").click()
    expect(page.locator(".notice-success")).to_be_visible()
    expect(page.locator("#readiness")).to_contain_text(cs("What is missing before you can submit"))
    expect(page.locator("#readiness a[href='#accept_terms']")).to_be_visible()
    expect(page.locator("a[href*='application.pdf']")).to_have_count(0)
    expect(page.locator("input[name='signed_pdf']")).to_have_count(0)

    # Complete: the PDF is offered.
    page.locator("#accept_terms").check()
    page.locator("#save").click()
    expect(page.locator("#readiness")).to_contain_text(cs("Ready to submit"))
    expect(page.locator("a[href*='application.pdf']")).to_have_count(2)


def test_withdrawing_an_approved_application_asks_for_confirmation(live_server: LiveServer, page: Page) -> None:
    cs = functools.partial(live_server.text, "cs")
    prepare(live_server)
    sign_in(page, live_server.url, OUTLET)
    page.locator("#election-kv2099 a", has_text="kv2099-").click()
    page.get_by_role("link", name=cs("Withdraw the application")).click()

    expect(page.locator("h1")).to_contain_text(cs("Withdraw application %(reference)s?").split("%")[0].strip())
    expect(page.locator("main")).to_contain_text(cs("This cannot be undone."))
    expect(page.locator("main")).to_contain_text("192.0.2.10, 192.0.2.11")
    page.get_by_role("button", name=cs("Withdraw the application")).click()
    expect(page.locator(".error-summary")).to_contain_text(cs("Tick the box to confirm the withdrawal."))

    page.locator("#confirm").check()
    page.get_by_role("button", name=cs("Withdraw the application")).click()
    expect(page.locator(".notice-success")).to_have_text(cs("The application has been withdrawn."))
    expect(page.locator(".facts").first).to_contain_text(cs("Withdrawn"))


def test_staff_land_on_their_work(live_server: LiveServer, page: Page) -> None:
    cs = functools.partial(live_server.text, "cs")
    prepare(live_server)
    sign_in(page, live_server.url, REVIEWER, pyotp.TOTP(TOTP_SECRET).now())
    expect(page.locator("h1")).to_have_text(cs("Your work"))
    expect(page.locator("table.work tbody tr")).to_have_count(2)
    waiting = page.locator("table.work tr", has_text="Volby do zastupitelstev obcí 2099")
    expect(waiting.locator("a[href*='state=submitted']")).to_have_text("1 čeká")
    expect(page.locator("main")).to_contain_text(cs("Data-box deliveries to record"))
    expect(page.locator("main a[href$='/databox']")).to_contain_text("Rádio Test s.r.o.")
    screenshots(page, "staff-work")
    waiting.locator("a[href*='state=submitted']").click()
    expect(page.locator("#state")).to_have_value("submitted")
    expect(page.locator("main")).to_contain_text("kv2099-0002")
