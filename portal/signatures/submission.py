"""One signed submission (R6), whatever is being submitted: an application, a permit request.

The outlet downloads the PDF the portal generated, signs it in its own tool and uploads it. The flow:
the subject's checks (state, deadline, completeness), the validator's verdict on the upload as a signed
copy of one of the subject's renderings, then either the refusal recorded in the audit log (the file
itself is not kept) or the file stored by its SHA-256 and the subject submitted with that evidence.

A refusal by the validator is returned, not raised: its audit trace belongs to the request's one unit of
work, which the caller lets commit (nothing of the submission has been written by then).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from flask import current_app

from portal.problems import PortalError
from portal.registration.documents import store_document
from portal.registration.models import Document
from portal.signatures.trust import TrustConfig
from portal.signatures.validate import validate_signed_pdf
from portal.signatures.verdict import Verdict

PDF_TYPE = "application/pdf"
#: The languages the PDFs to sign are offered in.
LANGUAGES = ("cs", "en")


@dataclass(frozen=True)
class SignedFile:
    """What an accepted upload proves, for the subject's submission record."""

    received_at: datetime  #: what the deadline is checked against
    generated_pdf_sha256: str  #: the rendering the signature extends
    document: Document  #: the upload as stored
    verdict: Verdict


@dataclass(frozen=True)
class UploadOutcome:
    verdict: Verdict
    #: Why the upload was refused (its trace is recorded); None when the subject was submitted.
    refusal: PortalError | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


class Signable(Protocol):
    """What is being submitted, as the flow needs to see it."""

    #: The end of the deadline the signature must be made before.
    deadline: datetime
    #: Whether the election accepts an organisation's seal instead of a personal signature.
    allow_seals: bool

    def renderings(self) -> dict[str, bytes]:
        """The PDF as the outlet may have downloaded it, by language."""

    def ensure_submittable(self, at: datetime) -> None:
        """Raise the feature's refusal when the subject cannot be submitted at ``at``, however it arrives."""

    def refusal(self, data: bytes, verdict: Verdict) -> PortalError:
        """The feature's error for a file the validator refused."""

    def record_refusal(self, verdict: Verdict, at: datetime) -> None:
        """The audit trace of a refused upload."""

    def submit(self, evidence: SignedFile, at: datetime) -> None:
        """Submit the subject with the accepted file as evidence."""


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


def original_for(data: bytes, renderings: dict[str, bytes]) -> bytes:
    """The rendering the upload extends (a signature is an incremental update), else the Czech one."""
    for rendering in renderings.values():
        if data.startswith(rendering):
            return rendering
    return renderings["cs"]


def judge(
    data: bytes,
    renderings: dict[str, bytes],
    *,
    deadline: datetime,
    allow_seals: bool,
    received_at: datetime,
) -> tuple[Verdict, bytes]:
    """The validator's verdict on ``data`` as a signed copy of one of ``renderings``, and that rendering."""
    original = original_for(data, renderings)
    # Seals of organisations are the election's decision, off by default (DOMAIN.md).
    trust = dataclasses.replace(trust_config(), allow_seals=allow_seals)
    verdict = validate_signed_pdf(
        data,
        trust=trust,
        original=original,
        deadline=deadline,
        received_at=received_at,
        max_bytes=current_app.config["PORTAL_SIGNED_PDF_MAX_BYTES"],
    )
    return verdict, original


def submit_signed_upload(subject: Signable, data: bytes, *, at: datetime) -> UploadOutcome:
    """Judge the outlet's signed PDF; submit ``subject`` with it, or record why it was refused.

    The subject's own refusals (a passed deadline, an incomplete draft) are raised before the file is
    judged, so the file is judged against the content that is then submitted, unchanged.
    """
    subject.ensure_submittable(at)
    verdict, original = judge(
        data, subject.renderings(), deadline=subject.deadline, allow_seals=subject.allow_seals, received_at=at
    )
    if not verdict.accepted:
        subject.record_refusal(verdict, at)
        return UploadOutcome(verdict, subject.refusal(data, verdict))
    document = store_document(data, PDF_TYPE, at=at)
    evidence = SignedFile(at, hashlib.sha256(original).hexdigest(), document, verdict)
    subject.submit(evidence, at)
    return UploadOutcome(verdict)


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
