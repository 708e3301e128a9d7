"""Filming permits in a real browser: an outlet asks for a crew of two, a reviewer (second factor)
approves one person at a collection point, the outlet downloads the permit, pyHanko validates its
signature as the configured office certificate's, and the QR code's page says valid, then revoked."""

from __future__ import annotations

import functools
import re
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

import pyotp
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.filming import service
from portal.filming.models import CollectionPoint, PermitPerson
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.factories import PASSWORD, make_test_election
from tests.filming.helpers import office_party, office_signing_config, pyhanko_status
from tests.mailbox import Mailbox

pytestmark = BROWSER_TEST

OUTLET = "redakce@televize.example"
REVIEWER = "povoleni@czso.example"
TOTP_SECRET = pyotp.random_base32()


@pytest.fixture
def live_settings(tmp_path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return office_signing_config(tmp_path / "office")


def prepare(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        make_test_election("prez2099")
        confirmed_outlet(OUTLET, name="Televize Morava a.s.", ico="47114983", password=PASSWORD)
        reviewer = accounts.create_staff(
            email=REVIEWER, role=Role.REVIEWER, password=PASSWORD, language="cs", at=utcnow()
        )
        reviewer.totp_secret = TOTP_SECRET
        db.session.add(
            CollectionPoint(
                code="BRN1",
                name="Brno-střed",
                address="Dominikánské náměstí 196/1, 602 00 Brno",
                region="Jihomoravský kraj",
                district="Brno-město",
                capacity=2,
            )
        )
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


def sign_out(page: Page) -> None:
    page.locator(".account-nav form button").click()


def in_thread(function, *args):  # type: ignore[no-untyped-def]
    """pyHanko runs its own event loop; Playwright keeps one on this thread."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(function, *args).result()


def test_permit_request_approval_signed_permit_and_verification(
    live_server: LiveServer, page: Page, mailbox: Mailbox, tmp_path
) -> None:
    cs = functools.partial(live_server.text, "cs")
    prepare(live_server)
    url = live_server.url

    sign_in(page, url, OUTLET)
    page.locator(".main-nav a", has_text=cs("Filming permits")).click()
    page.locator("a", has_text=cs("Requests for this election")).click()
    page.locator("#applicant_name").fill("Eva Redaktorová")
    page.locator("#applicant_phone").fill("274 051 111")
    page.locator("#persons-0-name").fill("Jana Nováková")
    page.locator("#persons-0-phone").fill("601 123 456")
    page.locator("#persons-0-email").fill("jana@televize.example")
    page.locator("#persons-1-name").fill("Petr Svoboda")
    page.locator("#persons-1-phone").fill("602 123 456")
    page.locator("#persons-1-email").fill("petr@televize.example")
    page.locator("input[name=kinds][value=video]").check()
    page.locator("#scope").fill("Příjezd výsledků z okrsků do Brna.")
    page.locator("#preferred_area").select_option("district:Brno-město")
    page.locator("#preferred_points").select_option("BRN1")
    page.locator("#submit_request").click()
    expect(page.locator(".notice-success")).to_have_text(
        cs("Your permit request has been submitted. We have sent you a receipt.")
    )
    expect(page.locator("tr.person")).to_have_count(2)
    reference = re.search(r"prez2099-P\d{4}", page.locator("main h2").first.inner_text()).group(0)
    assert mailbox.wait_for(OUTLET)
    sign_out(page)

    sign_in(page, url, REVIEWER, pyotp.TOTP(TOTP_SECRET).now())
    page.locator(".nav-group summary", has_text=cs("Election preparation")).click()
    page.locator(".main-nav a", has_text=cs("Filming permits")).click()
    page.locator("a", has_text="Testovací volba").click()
    page.locator("a", has_text=reference).click()
    jana = page.locator("section.person", has_text="Jana Nováková")
    jana.locator("select[name$='-point']").select_option("BRN1")
    jana.locator("input[name$='-starts_at']").fill("2100-01-14T15:00")
    jana.locator("input[name$='-ends_at']").fill("2100-01-14T19:00")
    jana.locator("button", has_text=cs("Approve and issue the permit")).click()
    expect(page.locator(".notice-success")).to_contain_text("Jana Nováková")
    expect(page.locator("section.person", has_text="Jana Nováková")).to_contain_text(cs("Permit issued"))
    sign_out(page)

    sign_in(page, url, OUTLET)
    page.locator(".main-nav a", has_text=cs("Filming permits")).click()
    page.locator("a", has_text=reference).click()
    row = page.locator("tr.person", has_text="Jana Nováková")
    expect(row).to_contain_text("Brno-střed")
    with page.expect_download() as download_info:
        row.locator("button", has_text=cs("Download the permit")).click()
    saved = tmp_path / "permit.pdf"
    download_info.value.save_as(saved)
    permit = saved.read_bytes()

    status = in_thread(pyhanko_status, permit)
    assert status.bottom_line and status.signing_cert.dump() == office_party().der

    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(permit)).pages)
    verify_url = re.search(r"http://127\.0\.0\.1:\d+/permits/verify/[\w-]+", text).group(0)
    page.goto(verify_url)
    expect(page.locator(".permit-status")).to_have_text(cs("Valid"))
    main = page.locator("main")
    expect(main).to_contain_text("Jana Nováková")
    expect(main).to_contain_text("Brno-střed")
    expect(main).to_contain_text("14. 1. 2100 15:00")
    expect(main).not_to_contain_text("601")
    expect(main).not_to_contain_text("jana@televize.example")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-permit-verification.png"), full_page=True)

    with live_server.app.app_context():
        person = db.session.query(PermitPerson).filter_by(name="Jana Nováková").one()
        staff = accounts.find_user_by_email(REVIEWER)
        service.revoke_permit(person, staff=staff, at=utcnow())
        db.session.commit()
    page.reload()
    expect(page.locator(".permit-status")).to_have_text(cs("Revoked"))
