"""Issuing a permit: a random verification token, the PDF with its QR code, the office's signature,
and the signed file stored by its SHA-256 (the outlet and staff download exactly what was issued)."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app

from portal.extensions import db
from portal.filming import office
from portal.filming.models import PermitPerson
from portal.filming.permit_pdf import render_permit_pdf
from portal.registration.documents import store_document
from portal.registration.models import Document

PDF_TYPE = "application/pdf"


def verify_url(token: str) -> str:
    """The public verification page of a permit, at the portal's public address."""
    base = str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")
    return f"{base}/permits/verify/{token}"


def issue_permit(person: PermitPerson, *, at: datetime) -> bytes:
    """Give the approved ``person`` a token and a signed permit PDF; returns the signed bytes."""
    office.office_signer()  # refuse before anything is drawn when the office cannot sign
    token = secrets.token_urlsafe(24)
    unsigned = render_permit_pdf(person, verify_url=verify_url(token), issued_at=at)
    signed = office.sign_pdf(
        unsigned,
        reason=f"Povolení k pořizování záznamu / Filming permit {person.permit_number}",
        location="Praha",
    )
    document = store_document(signed, PDF_TYPE, at=at)
    person.permit_token = token
    person.permit_document_sha256 = document.sha256
    person.issued_at = at
    db.session.flush()
    return signed


def permit_document(person: PermitPerson) -> Document | None:
    if person.permit_document_sha256 is None:
        return None
    return db.session.get(Document, person.permit_document_sha256)
