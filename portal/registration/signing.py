"""Signed submissions (R6): the upload of the generated PDF signed by the outlet, and the data-box
delivery recorded by staff. Both end in :func:`portal.registration.service.submit` with evidence.
"""

from __future__ import annotations

import dataclasses
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
from portal.signatures.trust import TrustConfig
from portal.signatures.validate import validate_signed_pdf
from portal.signatures.verdict import Reason, Verdict

PDF_TYPE = "application/pdf"
LANGUAGES = ("cs", "en")


@dataclass
class SignatureRefused(RegistrationError):
    """The upload's signature does not meet R6; the verdict says why."""

    verdict: Verdict
    code: str = "signature_refused"


@dataclass
class PdfStale(SignatureRefused):
    """A signed copy of a PDF the portal generated for this application from other content: the
    draft changed after the PDF was downloaded, so the signature is over something else."""

    code: str = "pdf_stale"


@dataclass
class AttachmentNotBound(RegistrationError):
    """A data-box attachment that is neither the generated PDF nor a signed copy of it."""

    code: str = "attachment_not_bound"


def trust_config() -> TrustConfig:
    """The trust anchors, trusted lists and CRLs configured for this portal (PORTAL_TRUST_*)."""
    config = current_app.config
    cached = current_app.extensions.get("portal.trust_config")
    if cached is None:
        cached = TrustConfig.from_files(
            roots=[Path(p) for p in config["PORTAL_TRUST_ROOTS"]],
            trusted_lists=[Path(p) for p in config["PORTAL_TRUST_LISTS"]],
            tl_signers=[Path(p) for p in config["PORTAL_TRUST_LIST_SIGNERS"]],
            crls=[Path(p) for p in config["PORTAL_TRUST_CRLS"]],
            allow_fetching=config["PORTAL_SIGNATURE_FETCHING"],
            revocation_mode="soft" if config["PORTAL_SIGNATURE_SOFT_REVOCATION"] else "hard",
        )
        current_app.extensions["portal.trust_config"] = cached
    return cached


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


def _original_for(data: bytes, renderings: dict[str, bytes]) -> bytes:
    """The rendering the upload extends (a signature is an incremental update), else the Czech one."""
    for rendering in renderings.values():
        if data.startswith(rendering):
            return rendering
    return renderings["cs"]


def judge(version: ApplicationVersion, data: bytes, *, received_at: datetime) -> tuple[Verdict, bytes]:
    """The validator's verdict on ``data`` as a signed copy of the version's PDF, and that PDF."""
    original = _original_for(data, generated_pdfs(version))
    # Seals of organisations are the election's decision, off by default (DOMAIN.md).
    trust = dataclasses.replace(trust_config(), allow_seals=version.application.election.allow_seals)
    verdict = validate_signed_pdf(
        data,
        trust=trust,
        original=original,
        deadline=version.application.election.applications_close_at,
        received_at=received_at,
        max_bytes=current_app.config["PORTAL_SIGNED_PDF_MAX_BYTES"],
    )
    return verdict, original


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


def summary(verdict: Verdict) -> str:
    """One language-neutral line for the record; pages render the verdict in the reader's language."""
    signature = verdict.accepted_signature or (verdict.signatures[0] if verdict.signatures else None)
    if signature is None or signature.signer is None:
        return "; ".join(r.value for r in verdict.reasons) or "no signature"
    signer = signature.signer
    parts = [
        signer.common_name or signer.subject,
        signer.organisation_identifier or "",
        f"qualified {signer.qc_type}" if signer.qualified else "not qualified",
        f"signed {signature.signing_time.isoformat()}" if signature.signing_time else "",
    ]
    return "; ".join(p for p in parts if p)


def submit_signed_upload(
    version: ApplicationVersion, data: bytes, policy: AddressPolicy, *, user: User, at: datetime
) -> Verdict:
    """Validate the outlet's signed PDF and, when it qualifies, submit the version with it.

    A refusal is raised with the verdict; the caller rolls back and records it with
    :func:`record_refused_upload`, so the trace survives the rollback. The application is locked
    first, so the file is judged against the content that is then submitted, unchanged.
    """
    service.ensure_submittable(version, policy, at=at)
    verdict, original = judge(version, data, received_at=at)
    if not verdict.accepted:
        raise _refusal(version, data, verdict)
    document = store_document(data, PDF_TYPE, at=at)
    service.submit(
        version,
        policy,
        user=user,
        at=at,
        evidence=service.Evidence(
            channel=SubmissionChannel.SIGNED_UPLOAD,
            received_at=at,
            generated_pdf_sha256=hashlib.sha256(original).hexdigest(),
            document=document,
            verdict=verdict.to_json(),
            verdict_summary=summary(verdict),
        ),
    )
    return verdict


def record_refused_upload(version: ApplicationVersion, verdict: Verdict, *, user: User, at: datetime) -> None:
    """The audit trace of a refused upload: its reasons and digest (the file itself is not kept)."""
    record(
        "application.signed_upload_refused",
        version.application,
        actor=user,
        at=at,
        after={
            "version": version.number,
            "reasons": [reason.value for reason in verdict.reasons],
            "sha256": verdict.document_sha256,
        },
    )


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
