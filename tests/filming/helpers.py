"""The office's signing certificate for tests, issued by the test PKI's qualified CA, and validation
of a permit with pyHanko itself (not through the portal's validator)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tests.signatures.pki import Party, TestPKI, _name, get_test_pki

OFFICE_ORGANISATION_IDENTIFIER = "NTRCZ-00025593"
_lock = threading.Lock()
#: The office's seal, made on first use (one per test run).
_office: dict[str, Party] = {}


def office_party(pki: TestPKI | None = None) -> Party:
    """The office's qualified electronic seal, made once per test run."""
    pki = pki or get_test_pki()
    with _lock:
        if "seal" not in _office:
            _office["seal"] = pki._leaf(
                "office",
                _name(
                    "Český statistický úřad – povolení",
                    organisation="Český statistický úřad",
                    org_id=OFFICE_ORGANISATION_IDENTIFIER,
                ),
                pki.qualified_ca,
                pki.now - timedelta(days=30),
                pki.now + timedelta(days=365),
                qc=("qct_eseal", True),
            )
        return _office["seal"]


def office_signing_config(folder: Path) -> dict[str, object]:
    """PORTAL_OFFICE_SIGNING_* files in ``folder`` (key; certificate then its CA chain) and the test trust."""
    pki = get_test_pki()
    office = office_party(pki)
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / "office.key", folder / "office.pem"
    key_path.write_bytes(
        office.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(office.pem + pki.qualified_ca.pem + pki.qualified_root.pem)
    return {
        **pki.portal_config(),
        "PORTAL_OFFICE_SIGNING_KEY": str(key_path),
        "PORTAL_OFFICE_SIGNING_CERT": str(cert_path),
    }


def pyhanko_status(pdf: bytes):  # type: ignore[no-untyped-def]
    """pyHanko's own verdict on the (single) signature of ``pdf`` against the test PKI's roots and CRLs."""
    from asn1crypto import crl as asn1_crl
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    pki = get_test_pki()
    context = ValidationContext(
        trust_roots=[pki.qualified_root.asn1_cert],
        crls=[asn1_crl.CertificateList.load(der) for der in pki.crls.values()],
        allow_fetching=False,
        moment=datetime.now(UTC),
    )
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    (signature,) = reader.embedded_signatures
    return asyncio.run(async_validate_pdf_signature(signature, signer_validation_context=context))
