"""The application PDF: every field, Czech text intact, the same bytes every time, signable by pyHanko."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import render_template
from flask_babel import force_locale
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader

from portal.extensions import db
from portal.registration.content import TERMS_VERSION, content_digest
from portal.registration.pdf import render_application_pdf
from portal.registration.terms import TERMS

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
COMPANY = "Žluťoučký kůň, s.r.o."


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def version(election, make_organisation, make_applicant, make_application):
    organisation = make_organisation(name=COMPANY)
    organisation.address = "Příčná 1892/4, 110 00 Praha 1"
    applicant = make_applicant(organisation=organisation)
    application = make_application(
        election, applicant=applicant, production=("192.0.2.10", "2001:db8::10"), test=("198.51.100.5",), at=NOW
    )
    version = application.latest
    version.note = "Připojujeme se přes dva nezávislé okruhy."
    db.session.flush()
    return version


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_same_version_renders_to_the_same_bytes(version):
    first = render_application_pdf(version)
    second = render_application_pdf(version)

    assert first == second
    assert first.startswith(b"%PDF-")


def test_the_environment_does_not_change_the_bytes(version, monkeypatch):
    before = render_application_pdf(version)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # reportlab's invariant mode reads it

    assert render_application_pdf(version) == before


def test_different_content_renders_to_different_bytes(version):
    before = render_application_pdf(version)
    version.note = "Jiná poznámka."
    db.session.flush()

    after = render_application_pdf(version)

    assert after != before
    ids = [PdfReader(BytesIO(pdf)).trailer["/ID"][0] for pdf in (before, after)]
    assert ids[0] != ids[1], "the /ID follows the content"


def test_the_dates_are_the_versions_creation_not_the_clock(version):
    reader = PdfReader(BytesIO(render_application_pdf(version)))

    assert reader.metadata.creation_date == version.created_at.replace(microsecond=0)
    assert reader.metadata.modification_date == reader.metadata.creation_date


def test_every_field_is_in_the_text_with_its_diacritics(version):
    application = version.application
    text = text_of(render_application_pdf(version))

    for expected in [
        "Český statistický úřad",
        "Žádost o přístup k výsledkům voleb pro média",
        COMPANY,
        application.organisation.ico,
        "Příčná 1892/4, 110 00 Praha 1",
        application.reference,
        "Testovací volba",
        "prez2099",
        version.contact_email,
        "+420274051111",
        "192.0.2.10",
        "2001:db8::10",
        "198.51.100.5",
        f"Podmínky přístupu (verze {TERMS_VERSION})",
        "Při každém zveřejnění výsledků musí být jako jejich zdroj uveden Český",
        "Připojujeme se přes dva nezávislé okruhy.",
        content_digest(version),
        "uznávaným elektronickým podpisem",
        "http://portal.test",
        "2gfaasy",
    ]:
        assert expected in text, expected


def test_the_english_rendering_is_in_english(version):
    czech = render_application_pdf(version)
    english = render_application_pdf(version, language="en")

    assert english != czech
    text = text_of(english)
    assert "Czech Statistical Office" in text
    assert "Application for media access to election results" in text
    assert "Test election" in text
    assert "recognised electronic signature (uznávaný elektronický podpis)" in text
    assert COMPANY in text


def test_an_unsupported_language_is_refused(version):
    with pytest.raises(ValueError, match="unsupported language"):
        render_application_pdf(version, language="de")


def test_the_font_is_embedded(version):
    pdf = render_application_pdf(version)
    reader = PdfReader(BytesIO(pdf))

    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font["/FontDescriptor"].get_object()
    assert fonts, "no fonts"
    for name, descriptor in fonts.items():
        assert "/FontFile2" in descriptor, f"{name} is not embedded"
        assert name.startswith("/AAAAA"), f"{name}: subset prefixes are by order, not random"


def test_it_is_a_clean_single_revision_pdf(version):
    reader = PdfFileReader(BytesIO(render_application_pdf(version)), strict=True)

    assert reader.xrefs.total_revisions == 1
    assert reader.embedded_signatures == []
    assert reader.trailer["/Root"]["/Pages"]["/Count"] >= 1


def test_pyhanko_signs_it_and_the_signature_is_intact(version):
    pdf = render_application_pdf(version)
    root, signer = make_signer()

    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
    signed = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Signature"), signer=signer).getvalue()

    assert signed.startswith(pdf), "the signature is an incremental update of the generated bytes"
    reader = PdfFileReader(BytesIO(signed), strict=True)
    assert reader.xrefs.total_revisions == 2
    [embedded] = reader.embedded_signatures
    status = validate_pdf_signature(
        embedded, signer_validation_context=ValidationContext(trust_roots=[root], allow_fetching=False)
    )
    assert_intact_and_trusted(status)
    assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE
    assert status.modification_level is ModificationLevel.NONE


def test_the_form_shows_the_same_terms_as_the_pdf(app):
    with app.test_request_context(), force_locale("cs"):
        html = render_template("registration/_terms.html", terms_version=TERMS_VERSION)
        lines = [str(line) for line in TERMS[TERMS_VERSION]]

    assert f"Podmínky přístupu (verze {TERMS_VERSION})" in html
    for line in lines:
        assert f"<li>{line}</li>" in html


# Helpers -----------------------------------------------------------------------------------------------


def assert_intact_and_trusted(status: PdfSignatureStatus) -> None:
    assert status.intact, "the signed bytes changed"
    assert status.valid, "the signature does not verify"
    assert status.trusted, "the signer does not chain to the test root"


def make_signer() -> tuple[asn1_x509.Certificate, signers.SimpleSigner]:
    """A test root and a signer certificate it issued, made here: no files, no network."""
    not_before = datetime.now(UTC) - timedelta(days=1)
    not_after = not_before + timedelta(days=30)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Testovací kořenová CA")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Jan Novák")]))
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    root_asn1 = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    leaf_asn1 = asn1_x509.Certificate.load(leaf.public_bytes(serialization.Encoding.DER))
    key_der = signer_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=leaf_asn1,
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([root_asn1, leaf_asn1]),
    )
    return root_asn1, signer


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
