"""The permit PDF: signed by the configured office certificate (checked with pyHanko), bilingual, with a
QR code to the verification page; mailed to the applicant and the person; no signer, no permit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
import qrcode
from pypdf import PdfReader

from portal.config import ConfigurationError, load_settings
from portal.db import utcnow
from portal.extensions import db
from portal.filming import service
from portal.filming.errors import OfficeSignerMissing
from portal.filming.models import PersonState
from portal.filming.office import load_signer
from portal.filming.permit_pdf import QrCode
from portal.filming.permits import permit_document
from portal.notifications.outbox import deliver_due
from portal.signatures.validate import validate_signed_pdf
from tests.filming.conftest import JANA, processing_window
from tests.filming.helpers import OFFICE_ORGANISATION_IDENTIFIER, office_party, pyhanko_status
from tests.mailbox import Mailbox, body_of
from tests.signatures.pki import get_test_pki


@pytest.fixture
def approved(app, make_election, make_staff, make_point, make_permit_request):
    election = make_election(code="prez2099")
    point = make_point("BRN1", name="Brno-střed, Dominikánská")
    start, end = processing_window(election)
    (person,) = make_permit_request(election, persons=[JANA]).persons
    service.approve_person(person, point=point, starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    db.session.commit()
    return person


def test_the_permit_is_signed_by_the_configured_office_certificate(approved):
    pdf = permit_document(approved).data
    status = pyhanko_status(pdf)
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.dump() == office_party().der

    # The portal's own validator agrees: a qualified electronic seal of the office.
    verdict = validate_signed_pdf(
        pdf, trust=get_test_pki().trust_config(allow_seals=True), received_at=datetime.now(UTC)
    )
    assert verdict.accepted, verdict.reasons
    signer = verdict.accepted_signature.signer
    assert signer.organisation_identifier == OFFICE_ORGANISATION_IDENTIFIER and signer.qc_type == "eseal"


def test_the_permit_says_who_where_and_when_in_czech_and_english_with_a_qr_code(approved, app):
    pdf = permit_document(approved).data
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    url = f"http://portal.test/permits/verify/{approved.permit_token}"
    for expected in (
        "Jana Nováková",
        "Brno-střed, Dominikánská",
        approved.permit_number,
        "Držitel",
        "Holder",
        "Přebírací místo",
        "Collection point",
        url,
    ):
        assert expected in text, expected
    assert "601" not in text and "jana@" not in text  # neither the phone nor the e-mail
    assert len(approved.permit_token) >= 32


def test_the_qr_code_is_the_verification_url():
    url = "http://portal.test/permits/verify/abc"
    reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=1)
    reference.add_data(url)
    reference.make(fit=True)
    assert QrCode(url, 100).matrix == reference.get_matrix()


def test_the_permit_is_mailed_to_the_applicant_and_the_person(
    app, make_election, make_staff, make_point, make_permit_request, mailbox: Mailbox
):
    election = make_election(code="prez2099")
    start, end = processing_window(election)
    (person,) = make_permit_request(election, persons=[JANA]).persons
    service.approve_person(person, point=make_point(), starts_at=start, ends_at=end, staff=make_staff(), at=utcnow())
    db.session.commit()
    deliver_due(utcnow() + timedelta(seconds=1))  # as the sender does; requests deliver after their commit
    for address in ("eva@zpravy.example", "jana@zpravy.example"):
        mail = [m for m in mailbox.to(address) if person.permit_number in m["Subject"]][-1]
        (attachment,) = list(mail.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == permit_document(person).data
        assert "Přebírací místo:" in body_of(mail)


def test_without_an_office_certificate_no_permit_is_issued_and_nothing_changes(
    make_app, make_election, make_staff, make_point, make_permit_request
):
    bare = make_app()  # no PORTAL_OFFICE_SIGNING_*
    with bare.app_context():
        election = make_election(code="prez2099")
        start, end = processing_window(election)
        (person,) = make_permit_request(election).persons
        db.session.commit()
        with pytest.raises(OfficeSignerMissing):
            service.approve_person(
                person, point=make_point(), starts_at=start, ends_at=end, staff=make_staff(), at=utcnow()
            )
        db.session.rollback()
        db.session.refresh(person)
        assert person.state is PersonState.REQUESTED and person.permit_token is None


def test_a_key_that_is_not_the_certificates_is_refused(office_config, tmp_path):
    other = get_test_pki().signer("qualified")
    from cryptography.hazmat.primitives import serialization

    wrong_key = tmp_path / "wrong.key"
    wrong_key.write_bytes(
        other.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(OfficeSignerMissing, match="does not belong"):
        load_signer(str(wrong_key), str(office_config["PORTAL_OFFICE_SIGNING_CERT"]))
    with pytest.raises(OfficeSignerMissing):
        load_signer(str(tmp_path / "missing.key"), str(office_config["PORTAL_OFFICE_SIGNING_CERT"]))


def test_the_office_settings_go_together():
    with pytest.raises(ConfigurationError, match="PORTAL_OFFICE_SIGNING_KEY"):
        load_settings(environ={"PORTAL_OFFICE_SIGNING_KEY": "/etc/portal/office.key"})
    settings = load_settings(
        environ={
            "PORTAL_OFFICE_SIGNING_KEY": "/etc/portal/office.key",
            "PORTAL_OFFICE_SIGNING_CERT": "/etc/portal/o.pem",
        }
    )
    assert settings["PORTAL_OFFICE_SIGNING_CERT"] == "/etc/portal/o.pem"
