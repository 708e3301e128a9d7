"""Signed submissions end to end over HTTP: download the generated PDF, sign it with the test PKI,
upload it; refusals say why; staff record data-box deliveries."""

import base64
import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.elections.prague import end_of_prague_day
from portal.extensions import db
from portal.registration.models import (
    AddressSettings,
    Application,
    Document,
    SubmissionChannel,
    VersionState,
)
from tests.factories import post_form, sign_in
from tests.signatures.pki import get_test_pki, unsigned_pdf
from tests.signatures.zfo import make_zfo

DEADLINE = date(2099, 12, 18)


@pytest.fixture
def pki():
    return get_test_pki()


@pytest.fixture
def signed_app(make_app, pki):
    app = make_app(**pki.portal_config())
    with app.app_context():
        yield app


@pytest.fixture
def outlet(signed_app, make_applicant, make_election, make_application):
    db.session.add(AddressSettings(id=1, allow_documentation=True))
    election = make_election(code="prez2099", deadline=DEADLINE, signature_required=True)
    applicant = make_applicant()
    application = make_application(election, applicant, production=["192.0.2.10"], test=["198.51.100.10"])
    db.session.commit()
    client = signed_app.test_client()
    sign_in(client, applicant)
    base = f"/organisations/{applicant.organisation_id}/applications/{application.id}"
    return client, application, base


def download(client, base, lang="cs"):
    response = client.get(f"{base}/application.pdf?lang={lang}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.get_data()


def upload(client, base, data, filename="podepsano.pdf"):
    from io import BytesIO

    return post_form(
        client, f"{base}/signed", {"signed_pdf": (BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def latest(application_id):
    db.session.expire_all()
    return db.session.get(Application, application_id).latest


def notices(client, response):
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_generated_pdf_is_the_same_every_time(outlet):
    client, _, base = outlet
    assert download(client, base) == download(client, base)
    assert download(client, base, "en") != download(client, base, "cs")


def test_a_pdf_signed_with_a_qualified_certificate_submits_the_application(outlet, pki, mailbox):
    client, application, base = outlet
    signed = pki.sign_pdf(download(client, base), "qualified")
    response = upload(client, base, signed)
    assert response.status_code == 302
    version = latest(application.id)
    assert version.state is VersionState.SUBMITTED
    record = version.submission_record
    assert record.channel is SubmissionChannel.SIGNED_UPLOAD
    assert record.verdict["accepted"] is True
    assert record.verdict["signer"]["organisation_identifier"] == "NTRCZ-47114983"
    stored = db.session.get(Document, record.document_sha256)
    assert stored.data == signed
    assert mailbox.wait_for(application.created_by.email)


def test_the_english_pdf_signed_is_accepted_too(outlet, pki):
    client, application, base = outlet
    upload(client, base, pki.sign_pdf(download(client, base, "en")))
    assert latest(application.id).state is VersionState.SUBMITTED


@pytest.mark.parametrize(
    ("make_upload", "reason"),
    [
        (lambda pki, pdf: pdf, "not_signed"),
        (lambda pki, pdf: pki.sign_pdf(pdf, "not_qualified"), "not_qualified"),
        (lambda pki, pdf: b"%PDF-1.7 garbage", "malformed_pdf"),
        (lambda pki, pdf: pki.sign_pdf(unsigned_pdf()), "not_bound_to_original"),
    ],
    ids=["unsigned", "not-qualified", "garbage", "other-document"],
)
def test_refused_uploads_say_why_and_change_nothing(outlet, pki, signed_app, make_upload, reason):
    from portal.registration.messages import SIGNATURE_REASONS

    client, application, base = outlet
    response = upload(client, base, make_upload(pki, download(client, base)))
    assert response.status_code == 302
    with signed_app.test_request_context():
        expected = str(SIGNATURE_REASONS[reason])  # in Czech, the outlet's language
    assert expected in notices(client, response)
    version = latest(application.id)
    assert version.state is VersionState.DRAFT and version.submission_record is None
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "application.signed_upload_refused")
    ).one()
    assert reason in refusal.after["reasons"]


def test_a_pdf_signed_over_a_changed_application_is_refused(outlet, pki):
    client, application, base = outlet
    signed_before_change = pki.sign_pdf(download(client, base))
    response = post_form(
        client,
        base,
        {
            "contact_email": "redakce@outlet.example",
            "contact_phone": "274 051 111",
            "production-0": "192.0.2.77",
            "accept_terms": "y",
            "save": "1",
        },
    )
    assert response.status_code == 302
    refused = upload(client, base, signed_before_change)
    assert latest(application.id).state is VersionState.DRAFT
    page = notices(client, refused)
    assert "notice-error" in page


def test_the_plain_submit_button_does_not_submit_where_a_signature_is_required(outlet):
    client, application, base = outlet
    response = post_form(
        client,
        base,
        {
            "contact_email": "redakce@outlet.example",
            "contact_phone": "274 051 111",
            "production-0": "192.0.2.10",
            "accept_terms": "y",
            "submit_application": "1",
        },
    )
    assert response.status_code == 200
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert latest(application.id).state is VersionState.DRAFT


def test_a_non_pdf_upload_is_refused_by_the_form(outlet):
    client, application, base = outlet
    response = upload(client, base, b"hello", filename="dopis.txt")
    assert response.status_code == 302
    assert latest(application.id).state is VersionState.DRAFT


def test_staff_see_the_signer_and_whether_it_matches_the_organisation(outlet, pki, make_staff):
    client, application, base = outlet
    upload(client, base, pki.sign_pdf(download(client, base)))
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    staff_client = client.application.test_client()
    sign_in(staff_client, staff)
    page = staff_client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert "NTRCZ-47114983" in page
    organisation_matches = application.organisation.ico == "47114983"
    assert ('class="match"' in page) is organisation_matches
    assert ('class="mismatch"' in page) is not organisation_matches
    document = staff_client.get(f"/staff/applications/{application.id}/document")
    assert document.status_code == 200 and document.get_data().startswith(b"%PDF-")


@pytest.fixture
def reviewer_client(signed_app, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    client = signed_app.test_client()
    sign_in(client, staff)
    return client


def databox_form(pdf, delivered_at, message_id="1234567", box="abc1234"):
    from io import BytesIO

    return {
        "message_id": message_id,
        "sender_box_id": box,
        "delivered_at": delivered_at,
        "attachment": (BytesIO(pdf), "zadost.pdf"),
    }


def test_staff_record_an_unsigned_generated_pdf_from_the_data_box(outlet, reviewer_client):
    client, application, base = outlet
    pdf = download(client, base)
    response = post_form(
        reviewer_client,
        f"/staff/applications/{application.id}/databox",
        databox_form(pdf, "2099-12-18T23:30"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    version = latest(application.id)
    record = version.submission_record
    assert version.state is VersionState.SUBMITTED and record.channel is SubmissionChannel.DATABOX
    assert record.databox_message_id == "1234567" and record.verdict is None
    assert record.received_at == end_of_prague_day(DEADLINE) - timedelta(minutes=30)


def test_a_data_box_delivery_after_the_deadline_is_refused(outlet, reviewer_client):
    client, application, base = outlet
    response = post_form(
        reviewer_client,
        f"/staff/applications/{application.id}/databox",
        databox_form(download(client, base), "2099-12-19T00:00"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert latest(application.id).state is VersionState.DRAFT


def test_a_data_box_attachment_that_is_not_the_application_is_refused(outlet, reviewer_client):
    _, application, _ = outlet
    other = unsigned_pdf()
    post_form(
        reviewer_client,
        f"/staff/applications/{application.id}/databox",
        databox_form(other, "2099-12-01T10:00"),
        content_type="multipart/form-data",
    )
    assert latest(application.id).state is VersionState.DRAFT


def test_staff_record_a_zfo_message_with_a_signed_attachment(outlet, pki, reviewer_client, signed_app):
    from datetime import datetime
    from io import BytesIO

    from portal.elections.prague import PRAGUE
    from tests.signatures.zfo import default_pki

    client, application, base = outlet
    signed = pki.sign_pdf(download(client, base))
    # Delivered a little after it was signed, as a real data message is.
    delivered = (datetime.now(PRAGUE) + timedelta(hours=2)).replace(microsecond=0)
    zfo = make_zfo(attachments=[("zadost.pdf", "application/pdf", signed)], delivered_at=delivered)
    signed_app.config["PORTAL_DATABOX_ROOTS"] = (default_pki().root_pem,)
    url = f"/staff/applications/{application.id}/databox"
    response = post_form(
        reviewer_client, url, {"zfo": (BytesIO(zfo), "zprava.zfo")}, content_type="multipart/form-data"
    )
    # First the message is read and shown, nothing recorded yet ...
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="databox-confirm"' in page
    assert '<code id="inspected-message-id">1234567890</code>' in page
    assert "CN=ZFO Test Root CA,O=Test PKI,C=CZ" in page  # the path up to the root
    assert hashlib.sha256(signed).hexdigest() in page
    assert latest(application.id).state is VersionState.DRAFT
    # ... then staff record it: the same file comes back and is read again.
    zfo_data = re.search(r'name="zfo_data" type="hidden" value="([^"]+)"', page)
    assert zfo_data is not None and base64.b64decode(zfo_data.group(1)) == zfo
    response = post_form(reviewer_client, url, {"zfo_data": zfo_data.group(1)})
    assert response.status_code == 302
    record = latest(application.id).submission_record
    assert record.channel is SubmissionChannel.DATABOX and record.verdict["accepted"] is True
    assert record.received_at == delivered


def test_a_zfo_not_signed_by_the_data_box_system_is_refused(outlet, pki, reviewer_client, signed_app):
    from io import BytesIO

    client, application, base = outlet
    zfo = make_zfo(attachments=[("zadost.pdf", "application/pdf", download(client, base))])
    signed_app.config["PORTAL_DATABOX_ROOTS"] = (pki.qualified_root.pem,)  # some other root
    response = post_form(
        reviewer_client,
        f"/staff/applications/{application.id}/databox",
        {"zfo": (BytesIO(zfo), "zprava.zfo")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and 'id="zfo-error-1"' in response.get_data(as_text=True)
    assert latest(application.id).state is VersionState.DRAFT


def test_with_the_zfo_import_off_the_form_offers_no_upload_and_takes_none(outlet, reviewer_client, signed_app):
    from io import BytesIO

    client, application, base = outlet
    signed_app.config["PORTAL_DATABOX_IMPORT"] = False
    url = f"/staff/applications/{application.id}/databox"
    page = reviewer_client.get(url).get_data(as_text=True)
    assert 'name="zfo"' not in page and ".zfo" not in page and 'name="message_id"' in page
    zfo = make_zfo(attachments=[("zadost.pdf", "application/pdf", download(client, base))])
    response = post_form(
        reviewer_client, url, {"zfo": (BytesIO(zfo), "zprava.zfo")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200 and "Vyplňte toto pole." in response.get_data(as_text=True)
    assert latest(application.id).state is VersionState.DRAFT
    typed = post_form(
        reviewer_client,
        url,
        databox_form(download(client, base), "2099-12-18T23:30"),
        content_type="multipart/form-data",
    )
    assert typed.status_code == 302 and latest(application.id).state is VersionState.SUBMITTED


def test_an_organisation_seal_is_accepted_only_where_the_election_allows_seals(outlet, pki):
    client, application, base = outlet
    sealed = pki.sign_pdf(download(client, base), "seal")
    upload(client, base, sealed)
    assert latest(application.id).state is VersionState.DRAFT
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "application.signed_upload_refused")
    ).one()
    assert refusal.after["reasons"] != []

    application.election.allow_seals = True
    db.session.commit()
    upload(client, base, sealed)
    version = latest(application.id)
    assert version.state is VersionState.SUBMITTED
    assert version.submission_record.verdict["signer"]["qc_type"] == "eseal"


def test_an_upload_for_an_incomplete_draft_names_what_is_missing(outlet, pki, signed_app):
    from portal.registration.messages import FIELD_ERRORS

    client, application, base = outlet
    signed = pki.sign_pdf(download(client, base))  # signed while the draft was complete
    post_form(
        client,
        base,
        {
            "contact_email": "",
            "contact_phone": "274 051 111",
            "production-0": "192.0.2.10",
            "accept_terms": "y",
            "save": "1",
        },
    )
    response = upload(client, base, signed)
    with signed_app.test_request_context():
        required = str(FIELD_ERRORS["required"])
    page = notices(client, response)
    assert required in page
    assert f'href="{base}#contact_email"' in page  # the refusal names the field and links to it
    assert latest(application.id).state is VersionState.DRAFT


def _inspect(reviewer_client, application, zfo):
    from io import BytesIO

    url = f"/staff/applications/{application.id}/databox"
    return post_form(reviewer_client, url, {"zfo": (BytesIO(zfo), "zprava.zfo")}, content_type="multipart/form-data")


def test_a_zfo_signed_with_sha1_is_refused_as_old_not_as_forged(outlet, reviewer_client, signed_app):
    from tests.signatures.zfo import default_pki, message_xml, sign_cms_with

    client, application, base = outlet
    signed_app.config["PORTAL_DATABOX_ROOTS"] = (default_pki().root_pem,)
    zfo = sign_cms_with(message_xml(attachments=[("zadost.pdf", "application/pdf", download(client, base))]))
    page = _inspect(reviewer_client, application, zfo).get_data(as_text=True)
    assert 'id="zfo-error-1"' in page and "SHA-1" in page
    assert 'id="databox-confirm"' not in page
    assert latest(application.id).state is VersionState.DRAFT


def test_the_confirmation_is_read_and_verified_again(outlet, reviewer_client, signed_app):
    from tests.signatures.zfo import default_pki

    client, application, base = outlet
    signed_app.config["PORTAL_DATABOX_ROOTS"] = (default_pki().root_pem,)
    zfo = make_zfo(attachments=[("zadost.pdf", "application/pdf", download(client, base))])
    assert 'id="databox-confirm"' in _inspect(reviewer_client, application, zfo).get_data(as_text=True)
    url = f"/staff/applications/{application.id}/databox"
    changed = zfo.replace(b"Redakce Testov", b"Redakce testov")
    for value in (base64.b64encode(changed).decode(), "not base64!"):
        response = post_form(reviewer_client, url, {"zfo_data": value})
        assert response.status_code == 200 and 'id="zfo-error-1"' in response.get_data(as_text=True)
    assert latest(application.id).state is VersionState.DRAFT


def test_the_read_button_without_a_file_asks_for_one(outlet, reviewer_client):
    _, application, _ = outlet
    response = post_form(reviewer_client, f"/staff/applications/{application.id}/databox", {"inspect": "1"})
    assert response.status_code == 200 and 'id="zfo-error-1"' in response.get_data(as_text=True)
    assert latest(application.id).state is VersionState.DRAFT


def test_a_pdf_downloaded_before_the_draft_changed_is_refused_as_stale(outlet, pki, signed_app):
    from portal.registration.messages import SIGNATURE_REASONS, error_message
    from portal.registration.signing import PdfStale

    client, application, base = outlet
    signed_before_change = pki.sign_pdf(download(client, base))
    post_form(
        client,
        base,
        {
            "contact_email": "redakce@outlet.example",
            "contact_phone": "274 051 111",
            "production-0": "192.0.2.77",
            "accept_terms": "y",
            "save": "1",
        },
    )
    page = notices(client, upload(client, base, signed_before_change))
    with signed_app.test_request_context():
        stale = error_message(PdfStale(verdict=None))  # type: ignore[arg-type]
        other_document = str(SIGNATURE_REASONS["not_bound_to_original"])
    assert stale in page and other_document not in page
    version = latest(application.id)
    assert version.state is VersionState.DRAFT and version.addresses_of("production") == ["192.0.2.77"]
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "application.signed_upload_refused")
    ).one()
    assert refusal.after["reasons"] == ["not_bound_to_original"]

    # The PDF of the changed draft, signed, is accepted: it is what is submitted.
    upload(client, base, pki.sign_pdf(download(client, base)))
    assert latest(application.id).state is VersionState.SUBMITTED
