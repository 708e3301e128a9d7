"""Four eyes in a real browser: a reviewer records a data-box delivery by hand and cannot approve it;
a second reviewer sees who recorded it and how, and approves."""

from __future__ import annotations

import functools

import pyotp
from playwright.sync_api import Page, expect

from portal.access import service as decisions
from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.registration import service
from portal.registration.content import ApplicationContent
from portal.registration.models import AddressSettings
from portal.registration.pdf import render_application_pdf
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.e2e.test_browser_application import sign_in, sign_out
from tests.factories import PASSWORD, make_test_election

pytestmark = BROWSER_TEST

RECORDER = "podatelna@czso.example"
SECOND = "kontrola@czso.example"
SECRETS = {RECORDER: pyotp.random_base32(), SECOND: pyotp.random_base32()}


def prepare(live_server: LiveServer, tmp_path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A draft that must be signed or sent through the data box, its generated PDF, two reviewers."""
    with live_server.app.app_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        election = make_test_election("prez2099", signature_required=True)
        outlet = confirmed_outlet("redakce@tv.example", name="TV Test s.r.o.", ico="26439395", password=PASSWORD)
        application = service.start_application(outlet.organisation, election, outlet, at=utcnow())
        content = ApplicationContent(
            contact_email=outlet.email,
            contact_phone="+420 274 051 111",
            production=["192.0.2.44"],
            test=[],
            accept_terms=True,
        )
        service.save_draft(application.latest, content, decisions.address_policy(), at=utcnow())
        for email, secret in SECRETS.items():
            staff = accounts.create_staff(
                email=email, role=Role.REVIEWER, password=PASSWORD, language="cs", at=utcnow()
            )
            staff.totp_secret = secret
        db.session.commit()
        pdf = tmp_path / "zadost.pdf"
        pdf.write_bytes(render_application_pdf(application.latest, language="cs"))
        return application.id, str(pdf)


def test_the_recorder_is_refused_and_a_second_reviewer_approves(live_server: LiveServer, page: Page, tmp_path) -> None:
    cs = functools.partial(live_server.text, "cs")
    application_id, pdf = prepare(live_server, tmp_path)
    url = live_server.url

    sign_in(page, url, RECORDER, pyotp.TOTP(SECRETS[RECORDER]).now())
    page.goto(f"{url}/staff/applications/{application_id}/databox")
    page.locator("#message_id").fill("1234567")
    page.locator("#sender_box_id").fill("abc1234")
    page.locator("#delivered_at").fill("2099-12-10T10:00")
    page.locator("#attachment").set_input_files(pdf)
    page.locator("main form button", has_text=cs("Record the submission")).click()
    expect(page.locator(".notice-success")).to_be_visible()
    page.locator("button", has_text=cs("Approve")).click()
    refusal = cs(
        "You recorded this submission from the data box yourself, so another reviewer must approve it (four eyes)."
    )
    expect(page.locator(".notice-error")).to_contain_text(refusal)
    sign_out(page)

    sign_in(page, url, SECOND, pyotp.TOTP(SECRETS[SECOND]).now())
    page.goto(f"{url}/staff/applications/{application_id}")
    expect(page.locator("main")).to_contain_text(RECORDER)
    expect(page.locator("main")).to_contain_text(cs("typed in by hand, not read from a .zfo message"))
    page.locator("button", has_text=cs("Approve")).click()
    expect(page.locator(".notice-success")).to_have_text(cs("The application has been approved."))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-four-eyes-approved.png"), full_page=True)
