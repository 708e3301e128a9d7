"""A permit request signed with a recognised electronic signature (R6, where the election requires it).

The flow of a signed application (:mod:`portal.signatures.submission`), bound to the PDF the portal
generated for the request and to the permit deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.accounts.models import User
from portal.audit.service import record
from portal.filming import service
from portal.filming.errors import SignatureRefused
from portal.filming.models import PermitRequest
from portal.filming.request_pdf import render_request_pdf
from portal.signatures import submission
from portal.signatures.submission import LANGUAGES
from portal.signatures.verdict import Verdict


def generated_pdfs(request: PermitRequest) -> dict[str, bytes]:
    """The request's PDF as the outlet may have downloaded it, in each language."""
    return {language: render_request_pdf(request, language=language) for language in LANGUAGES}


@dataclass
class RequestUpload:
    """A permit request's draft as the signed-submission flow sees it."""

    request: PermitRequest
    user: User

    @property
    def deadline(self) -> datetime:
        return service.requests_close_at(self.request.election)

    @property
    def allow_seals(self) -> bool:
        return self.request.election.allow_seals

    def renderings(self) -> dict[str, bytes]:
        return generated_pdfs(self.request)

    def ensure_submittable(self, at: datetime) -> None:
        service.ensure_submittable(self.request, at=at)

    def refusal(self, data: bytes, verdict: Verdict) -> SignatureRefused:
        return SignatureRefused(verdict)

    def record_refusal(self, verdict: Verdict, at: datetime) -> None:
        after = {"reasons": [reason.value for reason in verdict.reasons], "sha256": verdict.document_sha256}
        record("permit_request.signed_upload_refused", self.request, actor=self.user, at=at, after=after)

    def submit(self, evidence: submission.SignedFile, at: datetime) -> None:
        proof = service.Evidence(
            received_at=evidence.received_at,
            generated_pdf_sha256=evidence.generated_pdf_sha256,
            document=evidence.document,
            verdict=evidence.verdict.to_json(),
            verdict_summary=submission.summary(evidence.verdict),
        )
        service.submit(self.request, user=self.user, at=at, evidence=proof)


def submit_signed_upload(request: PermitRequest, data: bytes, *, user: User, at: datetime) -> submission.UploadOutcome:
    """Validate the outlet's signed PDF: submit the request with it, or record why it was refused."""
    return submission.submit_signed_upload(RequestUpload(request, user), data, at=at)
