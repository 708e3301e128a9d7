"""A signed submission in a real browser: download the generated PDF, sign it with a qualified
certificate of the test PKI, upload it and see it accepted; a PDF signed over another document is
refused with the reason."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.registration.messages import SIGNATURE_REASONS
from portal.registration.models import AddressSettings
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.factories import PASSWORD, make_test_election
from tests.mailbox import Mailbox
from tests.signatures.pki import get_test_pki, unsigned_pdf

pytestmark = BROWSER_TEST

OUTLET = "redakce@denik.example"


@pytest.fixture
def live_settings() -> dict[str, object]:
    return get_test_pki().portal_config()


def prepare(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        make_test_election("prez2099", signature_required=True)
        confirmed_outlet(OUTLET, name="Deník s.r.o.", ico="47114983", password=PASSWORD)
        db.session.commit()


def sign(pdf: bytes) -> bytes:
    """Sign with the test PKI in a worker thread: Playwright keeps an event loop on this one."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(get_test_pki().sign_pdf, pdf).result()


def upload(page: Page, tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.locator("#signed_pdf").set_input_files(str(path))
    page.locator("section.signing button[type=submit]").click()


def test_outlet_signs_the_downloaded_pdf_and_submits_it(
    live_server: LiveServer, page: Page, mailbox: Mailbox, tmp_path
) -> None:
    cs = functools.partial(live_server.text, "cs")
    prepare(live_server)

    page.goto(live_server.url + "/login")
    page.locator("#email").fill(OUTLET)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator(".main-nav a", has_text=cs("Applications")).click()
    page.locator("form", has=page.locator("button", has_text=cs("New application"))).locator("button").click()
    page.locator("#contact_phone").fill("+420 274 051 111")
    page.locator("#production-0").fill("192.0.2.10")
    page.locator("#accept_terms").check()
    page.locator("#save").click()
    expect(page.locator(".notice-success")).to_be_visible()
    expect(page.locator("#submit_application")).to_have_count(0)  # a plain click cannot submit here

    with page.expect_download() as download_info:
        page.locator("section.signing a", has_text=cs("PDF in Czech")).click()
    downloaded = download_info.value
    original = tmp_path / "downloaded.pdf"
    downloaded.save_as(original)
    assert original.read_bytes().startswith(b"%PDF-")

    # A PDF signed over another document: refused, and the outlet is told why.
    upload(page, tmp_path, "other.pdf", sign(unsigned_pdf()))
    with live_server.app.test_request_context():
        reason = str(SIGNATURE_REASONS["not_bound_to_original"])
    expect(page.locator(".notice-error")).to_contain_text(reason)

    upload(page, tmp_path, "signed.pdf", sign(original.read_bytes()))
    expect(page.locator(".notice-success")).to_be_visible()
    expect(page.locator(".facts").first).to_contain_text(cs("Submitted, waiting for the decision"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-signed-submission.png"), full_page=True)
    assert mailbox.wait_for(OUTLET)
