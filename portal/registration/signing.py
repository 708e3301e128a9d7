"""Signed submissions (R6): the upload of the generated PDF signed by the outlet, and the data-box
delivery recorded by staff. Both end in :func:`portal.registration.service.submit` with evidence; the
upload goes through :mod:`portal.signatures.submission`, the flow permit requests share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from flask import current_app
from pyhanko.pdf_utils.generic import DictionaryObject, IndirectObject
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader

from allowlist.addresses import AddressPolicy
from portal.accounts.models import User
from portal.audit.service import record
from portal.registration import service
from portal.registration.content import content_digest
from portal.registration.documents import store_document
from portal.registration.errors import RegistrationError
from portal.registration.models import ApplicationVersion, SubmissionChannel
from portal.registration.pdf import render_application_pdf
from portal.signatures import submission
from portal.signatures.submission import LANGUAGES, PDF_TYPE, summary
from portal.signatures.submission import trust_config as trust_config  # re-exported for the data-box page
from portal.signatures.verdict import Reason, Verdict
from portal.submissions import errors as shared


class SignatureRefused(shared.SignatureRefused, RegistrationError):
    """The upload's signature does not meet R6; the verdict says why."""


@dataclass
class PdfStale(SignatureRefused):
    """A signed copy of a PDF the portal generated for this application from other content: the
    draft changed after the PDF was downloaded, so the signature is over something else."""

    code: str = "pdf_stale"


@dataclass
class AttachmentNotBound(RegistrationError):
    """A data-box attachment that is neither the generated PDF nor a signed copy of it."""

    code: str = "attachment_not_bound"


def databox_roots() -> tuple[bytes, ...]:
    """The certificates the data-box system's signature on a .zfo message must chain to.

    Entries are file paths, or PEM/DER bytes (tests); with none configured any valid CMS signature
    is accepted, and the delivery is still checked against the generated PDF and the deadline.
    """
    roots = []
    for entry in current_app.config["PORTAL_DATABOX_ROOTS"]:
        roots.append(entry if isinstance(entry, bytes) else Path(entry).read_bytes())
    return tuple(roots)


def generated_pdfs(version: ApplicationVersion) -> dict[str, bytes]:
    """The PDF of the version as the outlet may have downloaded it, in each language."""
    return {language: render_application_pdf(version, language=language) for language in LANGUAGES}


def judge(version: ApplicationVersion, data: bytes, *, received_at: datetime) -> tuple[Verdict, bytes]:
    """The validator's verdict on ``data`` as a signed copy of the version's PDF, and that PDF."""
    election = version.application.election
    return submission.judge(
        data,
        generated_pdfs(version),
        deadline=election.applications_close_at,
        allow_seals=election.allow_seals,
        received_at=received_at,
    )


def _refusal(version: ApplicationVersion, data: bytes, verdict: Verdict) -> SignatureRefused:
    """Why ``data`` is refused: a stale PDF of this application says so, anything else gives the verdict."""
    if Reason.NOT_BOUND_TO_ORIGINAL in verdict.reasons and _generated_from_other_content(version, data):
        return PdfStale(verdict)
    return SignatureRefused(verdict)


def _generated_from_other_content(version: ApplicationVersion, data: bytes) -> bool:
    """Whether ``data`` names this application in its keywords with a digest of other content."""
    try:
        info = PdfFileReader(BytesIO(data), strict=False).trailer_view.get("/Info")
        info = info.get_object() if isinstance(info, IndirectObject) else info
        keywords = str(info.get("/Keywords", "")) if isinstance(info, DictionaryObject) else ""
    except (PdfReadError, KeyError, TypeError, ValueError):
        return False
    prefix = f"{version.application.reference}, SHA-256 "
    return keywords.startswith(prefix) and keywords[len(prefix) :] != content_digest(version)


@dataclass
class ApplicationUpload:
    """An application version as the signed-submission flow sees it."""

    version: ApplicationVersion
    policy: AddressPolicy
    user: User

    @property
    def deadline(self) -> datetime:
        return self.version.application.election.applications_close_at

    @property
    def allow_seals(self) -> bool:
        return self.version.application.election.allow_seals

    def renderings(self) -> dict[str, bytes]:
        return generated_pdfs(self.version)

    def ensure_submittable(self, at: datetime) -> None:
        # Locks the application first: the file is judged against the content as it stays.
        service.ensure_submittable(self.version, self.policy, at=at)

    def refusal(self, data: bytes, verdict: Verdict) -> SignatureRefused:
        return _refusal(self.version, data, verdict)

    def record_refusal(self, verdict: Verdict, at: datetime) -> None:
        record(
            "application.signed_upload_refused",
            self.version.application,
            actor=self.user,
            at=at,
            after={
                "version": self.version.number,
                "reasons": [reason.value for reason in verdict.reasons],
                "sha256": verdict.document_sha256,
            },
        )

    def submit(self, evidence: submission.SignedFile, at: datetime) -> None:
        service.submit(
            self.version,
            self.policy,
            user=self.user,
            at=at,
            evidence=service.Evidence(
                channel=SubmissionChannel.SIGNED_UPLOAD,
                received_at=evidence.received_at,
                generated_pdf_sha256=evidence.generated_pdf_sha256,
                document=evidence.document,
                verdict=evidence.verdict.to_json(),
                verdict_summary=summary(evidence.verdict),
            ),
        )


def submit_signed_upload(
    version: ApplicationVersion, data: bytes, policy: AddressPolicy, *, user: User, at: datetime
) -> submission.UploadOutcome:
    """Validate the outlet's signed PDF: submit the version with it, or record why it was refused."""
    return submission.submit_signed_upload(ApplicationUpload(version, policy, user), data, at=at)


@dataclass(frozen=True)
class DataboxDelivery:
    message_id: str
    sender_box_id: str
    delivered_at: datetime
    attachment: bytes
    #: Read from the .zfo message with its signature verified, rather than typed in by hand.
    from_zfo: bool = False


def record_databox_submission(
    version: ApplicationVersion, delivery: DataboxDelivery, policy: AddressPolicy, *, staff: User, at: datetime
) -> Verdict | None:
    """Staff record a submission that arrived in the office's data box.

    The delivery time is what the deadline is checked against. A signed attachment must pass the
    same validation as an upload; an unsigned one must be exactly the PDF the portal generated
    (the data box itself identifies the sender).
    """
    service.lock_application(version.application)  # judged against the content as it stays
    renderings = generated_pdfs(version)
    verdict, original = judge(version, delivery.attachment, received_at=delivery.delivered_at)
    unsigned_original = delivery.attachment in renderings.values()
    if not verdict.accepted and not (unsigned_original and verdict.reasons == (Reason.NOT_SIGNED,)):
        if Reason.NOT_SIGNED in verdict.reasons:
            raise AttachmentNotBound()
        raise _refusal(version, delivery.attachment, verdict)
    document = store_document(delivery.attachment, PDF_TYPE, at=at)
    signed = verdict.accepted
    service.submit(
        version,
        policy,
        user=staff,
        at=at,
        evidence=service.Evidence(
            channel=SubmissionChannel.DATABOX,
            received_at=delivery.delivered_at,
            generated_pdf_sha256=hashlib.sha256(original if signed else delivery.attachment).hexdigest(),
            document=document,
            verdict=verdict.to_json() if signed else None,
            verdict_summary=summary(verdict) if signed else "unsigned attachment identical to the generated PDF",
            databox_message_id=delivery.message_id,
            databox_sender_box_id=delivery.sender_box_id,
            recorded_by=staff,
            databox_from_zfo=delivery.from_zfo,
        ),
    )
    return verdict if signed else None
