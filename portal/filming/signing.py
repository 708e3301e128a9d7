"""A permit request signed with a recognised electronic signature (R6, where the election requires it).

The same validation as a signed application: the trust configuration and the validator of
:mod:`portal.registration.signing` and :mod:`portal.signatures`, bound to the PDF the portal generated
for the request and to the permit deadline.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime

from flask import current_app

from portal.accounts.models import User
from portal.audit.service import record
from portal.filming import service
from portal.filming.errors import SignatureRefused
from portal.filming.models import PermitRequest
from portal.filming.request_pdf import render_request_pdf
from portal.registration.documents import store_document
from portal.registration.signing import LANGUAGES, summary, trust_config
from portal.signatures.validate import validate_signed_pdf
from portal.signatures.verdict import Verdict

PDF_TYPE = "application/pdf"


def generated_pdfs(request: PermitRequest) -> dict[str, bytes]:
    """The request's PDF as the outlet may have downloaded it, in each language."""
    return {language: render_request_pdf(request, language=language) for language in LANGUAGES}


def judge(request: PermitRequest, data: bytes, *, received_at: datetime) -> tuple[Verdict, bytes]:
    """The validator's verdict on ``data`` as a signed copy of the request's PDF, and that PDF."""
    renderings = generated_pdfs(request)
    original = next((r for r in renderings.values() if data.startswith(r)), renderings["cs"])
    trust = dataclasses.replace(trust_config(), allow_seals=request.election.allow_seals)
    verdict = validate_signed_pdf(
        data,
        trust=trust,
        original=original,
        deadline=service.requests_close_at(request.election),
        received_at=received_at,
        max_bytes=current_app.config["PORTAL_SIGNED_PDF_MAX_BYTES"],
    )
    return verdict, original


def submit_signed_upload(request: PermitRequest, data: bytes, *, user: User, at: datetime) -> Verdict:
    """Validate the outlet's signed PDF and, when it qualifies, submit the request with it.

    A refusal is raised with the verdict; the caller rolls back and records it with
    :func:`record_refused_upload`, so the trace survives the rollback.
    """
    service.ensure_submittable(request, at=at)
    verdict, original = judge(request, data, received_at=at)
    if not verdict.accepted:
        raise SignatureRefused(verdict)
    document = store_document(data, PDF_TYPE, at=at)
    service.submit(
        request,
        user=user,
        at=at,
        evidence=service.Evidence(
            received_at=at,
            generated_pdf_sha256=hashlib.sha256(original).hexdigest(),
            document=document,
            verdict=verdict.to_json(),
            verdict_summary=summary(verdict),
        ),
    )
    return verdict


def record_refused_upload(request: PermitRequest, verdict: Verdict, *, user: User, at: datetime) -> None:
    """The audit trace of a refused upload: its reasons and digest (the file itself is not kept)."""
    record(
        "permit_request.signed_upload_refused",
        request,
        actor=user,
        at=at,
        after={"reasons": [reason.value for reason in verdict.reasons], "sha256": verdict.document_sha256},
    )
