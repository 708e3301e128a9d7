"""The staff data-box page in a real browser: a reviewer (second factor) uploads the .zfo an outlet sent
from its data box, sees what the message holds as read and verified (as ``portal databox inspect``
shows it) while nothing is saved yet, and only then records the submission."""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from allowlist.addresses import AddressPolicy
from portal.accounts import service as accounts
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.registration import service, signing
from portal.registration.content import ApplicationContent
from portal.registration.models import AddressSettings, Application, SubmissionChannel, VersionState
from tests.e2e.conftest import ARTIFACTS, BROWSER_TEST, LiveServer, confirmed_outlet
from tests.factories import PASSWORD, make_test_election
from tests.signatures.pki import get_test_pki
from tests.signatures.zfo import PRAGUE, XmlAttachment, default_pki, make_zfo

pytestmark = BROWSER_TEST

OUTLET = "redakce@zpravy.example"
REVIEWER = "podatelna@czso.example"
TOTP_SECRET = pyotp.random_base32()


@pytest.fixture
def live_settings() -> dict[str, object]:
    return {**get_test_pki().portal_config(), "PORTAL_DATABOX_ROOTS": (default_pki().root_pem,)}


def prepare(live_server: LiveServer) -> tuple[int, bytes]:
    """A draft application that needs a signature, and the PDF the portal generated for it."""
    with live_server.app.test_request_context():
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        election = make_test_election("prez2099", signature_required=True)
        applicant = confirmed_outlet(OUTLET, name="Zprávy z regionu s.r.o.", ico="47114983", password=PASSWORD)
        reviewer = accounts.create_staff(
            email=REVIEWER, role=Role.REVIEWER, password=PASSWORD, language="cs", at=utcnow()
        )
        reviewer.totp_secret = TOTP_SECRET
        application = service.start_application(applicant.organisation, election, applicant, at=utcnow())
        content = ApplicationContent(
            contact_email=OUTLET,
            contact_phone="+420 274 051 111",
            production=["192.0.2.20"],
            test=[],
            accept_terms=True,
        )
        service.save_draft(application.latest, content, AddressPolicy(allow_documentation=True), at=utcnow())
        db.session.commit()
        return application.id, signing.generated_pdfs(application.latest)["cs"]


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/login")
    page.locator("#email").fill(REVIEWER)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("#code").fill(pyotp.TOTP(TOTP_SECRET).now())
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".account-nav")).to_contain_text(REVIEWER)


def state_of(live_server: LiveServer, application_id: int):  # type: ignore[no-untyped-def]
    with live_server.app.app_context():
        application = db.session.scalars(select(Application).where(Application.id == application_id)).one()
        version = application.latest
        record = version.submission_record
        return version.state, (record.channel, record.databox_message_id, record.received_at) if record else None


def test_staff_see_the_inspected_message_before_they_record_it(live_server: LiveServer, page: Page, tmp_path) -> None:
    cs = functools.partial(live_server.text, "cs")
    application_id, pdf = prepare(live_server)
    delivered = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    form = (
        b'<f:formular xmlns:f="urn:example:form"><f:ip>192.0.2.20</f:ip></f:formular>'
        b'<f:poznamka xmlns:f="urn:example:form"/>'
    )
    zfo = tmp_path / "zprava.zfo"
    zfo.write_bytes(
        make_zfo(
            attachments=[("žádost.pdf", "application/octet-stream", pdf), XmlAttachment("formular.xml", form)],
            delivered_at=delivered,
            message_id="31415926",
            sender_box_id="zpr4v7y",
            annotation="Žádost o přístup – Zprávy z regionu",
        )
    )

    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/staff/applications/{application_id}/databox")
    page.locator("#zfo").set_input_files(str(zfo))
    page.locator("#databox-inspect").click()

    inspection = page.locator("section.databox-inspection")
    expect(inspection.locator("h2")).to_have_text(cs("The data message, read and verified"))
    expect(page.locator("#inspected-message-id")).to_have_text("31415926")
    expect(page.locator("#inspected-sender")).to_have_text("zpr4v7y")
    expect(page.locator("#inspected-recipient")).to_have_text("2gfaasy")
    expect(page.locator("#inspected-annotation")).to_have_text("Žádost o přístup – Zprávy z regionu")
    expect(page.locator("#inspected-delivered")).to_contain_text(delivered.astimezone(PRAGUE).strftime("%H:%M"))
    expect(page.locator("#inspected-signer")).to_contain_text("CN=Informační systém datových schránek (test)")
    chain = page.locator("#inspected-chain li")
    expect(chain).to_have_count(3)
    expect(chain.last).to_have_text("CN=ZFO Test Root CA,O=Test PKI,C=CZ")
    rows = page.locator("#inspected-attachments tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("žádost.pdf")
    expect(rows.nth(0)).to_contain_text(hashlib.sha256(pdf).hexdigest())
    expect(rows.nth(0)).to_contain_text(str(len(pdf)))
    expect(rows.nth(1)).to_contain_text("formular.xml")
    expect(rows.nth(1)).to_contain_text(cs("inline XML"))
    expect(rows.nth(1)).to_contain_text(hashlib.sha256(form).hexdigest())
    page.screenshot(path=str(ARTIFACTS / "databox-inspected.png"), full_page=True)
    # Shown, not saved.
    assert state_of(live_server, application_id) == (VersionState.DRAFT, None)

    page.locator("#databox-confirm button[type=submit]").click()
    expect(page.locator(".notice-success")).to_have_text(cs("The data-box submission has been recorded."))
    assert state_of(live_server, application_id) == (
        VersionState.SUBMITTED,
        (SubmissionChannel.DATABOX, "31415926", delivered),
    )


def test_a_refused_message_is_explained_and_nothing_is_shown_to_record(
    live_server: LiveServer, page: Page, tmp_path
) -> None:
    cs = functools.partial(live_server.text, "cs")
    application_id, pdf = prepare(live_server)
    data = make_zfo(attachments=[("zadost.pdf", "application/pdf", pdf)])
    tampered = tmp_path / "zmenena.zfo"
    tampered.write_bytes(data.replace(b"Redakce Testov", b"Redakce testov"))
    assert tampered.read_bytes() != data

    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/staff/applications/{application_id}/databox")
    page.locator("#zfo").set_input_files(str(tampered))
    page.locator("#databox-inspect").click()
    expect(page.locator("#zfo-error-1")).to_have_text(
        cs("The data message's signature is not valid: the file was changed.")
    )
    expect(page.locator("section.databox-inspection")).to_have_count(0)
    assert state_of(live_server, application_id) == (VersionState.DRAFT, None)
