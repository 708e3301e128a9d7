"""The office's own signature on the permits it issues (PAdES, with pyHanko).

``PORTAL_OFFICE_SIGNING_KEY`` is the private key (PEM or DER, unencrypted) and
``PORTAL_OFFICE_SIGNING_CERT`` its certificate, optionally followed in the same PEM file by the
issuing CA certificates, which are embedded in the signature so a validator can build the path.
Loaded on first use and kept per application; a key that does not belong to the certificate is refused.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import current_app

from portal.filming.errors import OfficeSignerMissing

_EXTENSION_KEY = "portal.office_signer"
FIELD_NAME = "CSU-Permit"


def office_signer() -> Any:
    """The configured office signer (a pyHanko ``SimpleSigner``); raises :class:`OfficeSignerMissing`."""
    cached = current_app.extensions.get(_EXTENSION_KEY)
    if cached is None:
        cached = load_signer(
            current_app.config.get("PORTAL_OFFICE_SIGNING_KEY", ""),
            current_app.config.get("PORTAL_OFFICE_SIGNING_CERT", ""),
        )
        current_app.extensions[_EXTENSION_KEY] = cached
    return cached


def load_signer(key_path: str, cert_path: str) -> Any:
    from asn1crypto import keys as asn1_keys
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    if not key_path or not cert_path:
        raise OfficeSignerMissing("PORTAL_OFFICE_SIGNING_KEY and PORTAL_OFFICE_SIGNING_CERT are not set")
    try:
        key_data, cert_data = Path(key_path).read_bytes(), Path(cert_path).read_bytes()
    except OSError as error:
        raise OfficeSignerMissing(f"{error.filename}: {error.strerror}") from error
    try:
        key: asn1_keys.PrivateKeyInfo = load_private_key_from_pemder_data(key_data, passphrase=None)
        certificates = list(load_certs_from_pemder_data(cert_data))
    except (ValueError, TypeError) as error:
        raise OfficeSignerMissing(f"cannot read the key or the certificate: {error}") from error
    if not certificates:
        raise OfficeSignerMissing(f"{cert_path}: no certificate")
    certificate, *chain = certificates
    if _public_key_der(key) != certificate.public_key.dump():
        raise OfficeSignerMissing("the signing key does not belong to the certificate")
    return SimpleSigner(
        signing_cert=certificate,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )


def _public_key_der(key: Any) -> bytes:
    """The SubjectPublicKeyInfo of a private key, as a certificate carries it."""
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_der_private_key(key.dump(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign_pdf(pdf: bytes, *, reason: str, location: str) -> bytes:
    """``pdf`` with the office's signature added as an incremental update (PAdES baseline B)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    signer = office_signer()
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )

    async def sign() -> bytes:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        output = await signers.async_sign_pdf(writer, meta, signer=signer)
        return output.getvalue()

    return _run(sign)


def _run(make_coroutine: Any) -> bytes:
    """Run pyHanko's coroutine to the end, also from a thread that already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(lambda: asyncio.run(make_coroutine())).result()
