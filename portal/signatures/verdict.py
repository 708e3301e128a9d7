"""The frozen result of validating a signed PDF: stable reason codes, the signer, the times.

The portal maps reason codes to messages in the user's language; this module has no user-facing text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DOCUMENT_REASONS",
    "ETSI_INDICATIONS",
    "Reason",
    "SignatureReport",
    "SignerInfo",
    "TrustedListInfo",
    "Verdict",
    "validation_report",
]


class Reason(enum.StrEnum):
    """Why an upload is refused. The values are stable: they are stored and shown as codes."""

    #: Not a PDF, unreadable, encrypted, or a structure pyHanko cannot process.
    MALFORMED_PDF = "malformed_pdf"
    #: No signature at all (an empty signature field does not count).
    NOT_SIGNED = "not_signed"
    #: The signature does not match the signed bytes, or its CMS structure is invalid.
    INTEGRITY = "integrity"
    #: The signature is intact but made with an algorithm or key size no longer accepted (SHA-1, RSA-1024).
    WEAK_ALGORITHM = "weak_algorithm"
    #: The signature does not cover the whole file, or a later revision changed more than
    #: validation data (DSS) or document timestamps.
    MODIFIED_AFTER_SIGNING = "modified_after_signing"
    #: The signed revision is not an incremental update of the PDF the portal generated.
    NOT_BOUND_TO_ORIGINAL = "not_bound_to_original"
    #: The signer's certificate does not chain to a configured trust anchor.
    NOT_TRUSTED = "not_trusted"
    #: The certificate is not qualified for electronic signatures (QCStatements, trusted list).
    NOT_QUALIFIED = "not_qualified"
    #: The certificate had expired (or was not yet valid) at the time of signing.
    EXPIRED = "expired"
    #: The certificate was revoked at the time of signing.
    REVOKED = "revoked"
    #: No revocation information could be had and the policy is a hard failure.
    REVOCATION_UNKNOWN = "revocation_unknown"
    #: A qualified certificate for electronic seals, while seals are not allowed.
    SEAL_NOT_ALLOWED = "seal_not_allowed"
    #: Signed after the deadline.
    AFTER_DEADLINE = "after_deadline"
    #: The upload is larger than the cap.
    TOO_LARGE = "too_large"
    #: Validation took longer than the time limit (a hostile or pathological file).
    TIMEOUT = "timeout"


#: Reasons that concern the file as a whole, not one signature.
DOCUMENT_REASONS = frozenset({Reason.MALFORMED_PDF, Reason.NOT_SIGNED, Reason.TOO_LARGE, Reason.TIMEOUT})

#: Each reason in the terms of ETSI EN 319 102-1 (5.1.3): the indication and its sub-indication.
#: A refusal is reported by its most severe reason: TOTAL_FAILED before INDETERMINATE, then this order.
ETSI_INDICATIONS: dict[Reason, tuple[str, str]] = {
    Reason.INTEGRITY: ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE"),
    Reason.MODIFIED_AFTER_SIGNING: ("TOTAL_FAILED", "HASH_FAILURE"),
    Reason.REVOKED: ("TOTAL_FAILED", "REVOKED"),
    Reason.NOT_BOUND_TO_ORIGINAL: ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE"),
    Reason.AFTER_DEADLINE: ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE"),
    Reason.MALFORMED_PDF: ("INDETERMINATE", "FORMAT_FAILURE"),
    Reason.NOT_SIGNED: ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
    Reason.TOO_LARGE: ("INDETERMINATE", "FORMAT_FAILURE"),
    Reason.TIMEOUT: ("INDETERMINATE", "FORMAT_FAILURE"),
    Reason.WEAK_ALGORITHM: ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"),
    Reason.NOT_TRUSTED: ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
    Reason.EXPIRED: ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"),
    Reason.REVOCATION_UNKNOWN: ("INDETERMINATE", "TRY_LATER"),
    Reason.NOT_QUALIFIED: ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
    Reason.SEAL_NOT_ALLOWED: ("INDETERMINATE", "CHAIN_CONSTRAINTS_FAILURE"),
}


def etsi_indication(reasons: tuple[Reason, ...]) -> tuple[str, str | None]:
    """The ETSI EN 319 102-1 indication (and sub-indication) of a set of reasons; none: TOTAL_PASSED."""
    if not reasons:
        return "TOTAL_PASSED", None
    order = list(ETSI_INDICATIONS)
    ranked = sorted(reasons, key=lambda r: (ETSI_INDICATIONS[r][0] != "TOTAL_FAILED", order.index(r)))
    return ETSI_INDICATIONS[ranked[0]]


@dataclass(frozen=True)
class TrustedListInfo:
    """One ETSI TS 119 612 trusted list the judgement used (its signature verified)."""

    territory: str | None
    sequence_number: int | None
    operator: str | None
    issued: datetime | None
    next_update: datetime | None
    sha256: str

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> TrustedListInfo:
        return cls(
            territory=document.get("territory"),
            sequence_number=document.get("sequence_number"),
            operator=document.get("operator"),
            issued=_from_iso(document.get("issued")),
            next_update=_from_iso(document.get("next_update")),
            sha256=document["sha256"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "territory": self.territory,
            "sequence_number": self.sequence_number,
            "operator": self.operator,
            "issued": _iso(self.issued),
            "next_update": _iso(self.next_update),
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class SignerInfo:
    """Who signed: taken from the signing certificate."""

    #: The subject distinguished name in RFC 4514 form.
    subject: str
    common_name: str | None
    #: The organizationIdentifier attribute (2.5.4.97), e.g. "NTRCZ-47114983", when present.
    organisation_identifier: str | None
    #: The issuer distinguished name in RFC 4514 form.
    issuer: str
    #: The serial number in hexadecimal, upper case.
    serial: str
    #: Qualified as established by the validator (QCStatements and, when configured, the trusted list).
    qualified: bool
    #: "esign", "eseal" or "web" from the QcType statement (or the trusted list), None when not qualified.
    qc_type: str | None

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SignerInfo:
        return cls(
            subject=document["subject"],
            common_name=document.get("common_name"),
            organisation_identifier=document.get("organisation_identifier"),
            issuer=document["issuer"],
            serial=document["serial"],
            qualified=bool(document["qualified"]),
            qc_type=document.get("qc_type"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "common_name": self.common_name,
            "organisation_identifier": self.organisation_identifier,
            "issuer": self.issuer,
            "serial": self.serial,
            "qualified": self.qualified,
            "qc_type": self.qc_type,
        }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _from_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class SignatureReport:
    """One embedded signature and what is wrong with it (nothing, when ``reasons`` is empty)."""

    field_name: str
    signer: SignerInfo | None
    #: The signing time used for the deadline: the trusted timestamp token's time when there is one,
    #: else the upload (the claimed time is the signer's say-so).
    signing_time: datetime | None
    #: The time of a valid signature timestamp token, when present.
    timestamp: datetime | None
    #: "entire_file", "entire_revision", "contiguous_block_from_start" or "unclear".
    coverage: str
    reasons: tuple[Reason, ...]
    #: The time the signer claims (the CMS signing time), shown but never relied on.
    claimed_time: datetime | None = None
    #: The revision the signature covers (0 = the first); not stored.
    signed_revision: int | None = field(default=None, compare=False)
    #: The PAdES baseline level reached: "B-B", "B-T" (a trusted timestamp), "B-LT" (and revocation
    #: data in the file covering the path), "B-LTA" (and a valid document timestamp over that data).
    pades_level: str | None = None
    #: The key on a qualified device: per the certificate's QcSSCD statement; per the trusted list's
    #: assessment (None: no list assessed the certificate).
    qscd_certificate: bool | None = None
    qscd_trusted_list: bool | None = None
    #: The time the certificate and the deadline were judged at, and why: "signature_timestamp" (a
    #: trusted timestamp token proves the signature existed then) or "receipt" (no trusted token).
    judged_at: datetime | None = None
    judged_at_basis: str | None = None
    #: Revocation data carried in the file covers the whole path (DSS or CMS); not stored.
    revinfo_embedded: bool = field(default=False, compare=False)

    @property
    def indication(self) -> tuple[str, str | None]:
        """ETSI EN 319 102-1 indication and sub-indication of this signature."""
        return etsi_indication(self.reasons)

    @property
    def accepted(self) -> bool:
        return not self.reasons

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SignatureReport:
        return cls(
            field_name=document["field_name"],
            signer=SignerInfo.from_json(document["signer"]) if document.get("signer") else None,
            signing_time=_from_iso(document.get("signing_time")),
            timestamp=_from_iso(document.get("timestamp")),
            coverage=document["coverage"],
            reasons=tuple(Reason(code) for code in document["reasons"]),
            claimed_time=_from_iso(document.get("claimed_time")),
            pades_level=document.get("pades_level"),
            qscd_certificate=document.get("qscd_certificate"),
            qscd_trusted_list=document.get("qscd_trusted_list"),
            judged_at=_from_iso(document.get("judged_at")),
            judged_at_basis=document.get("judged_at_basis"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "field_name": self.field_name,
            "accepted": self.accepted,
            "reasons": [reason.value for reason in self.reasons],
            "signer": self.signer.to_json() if self.signer else None,
            "signing_time": _iso(self.signing_time),
            "timestamp": _iso(self.timestamp),
            "claimed_time": _iso(self.claimed_time),
            "coverage": self.coverage,
            "indication": self.indication[0],
            "sub_indication": self.indication[1],
            "pades_level": self.pades_level,
            "qscd_certificate": self.qscd_certificate,
            "qscd_trusted_list": self.qscd_trusted_list,
            "judged_at": _iso(self.judged_at),
            "judged_at_basis": self.judged_at_basis,
        }


@dataclass(frozen=True)
class Verdict:
    """The outcome for one uploaded file.

    ``reasons`` is empty when accepted; when refused, it holds the document-level reasons, or the
    reasons of the best signature (the one with the fewest reasons; the first one on a tie).
    """

    accepted: bool
    reasons: tuple[Reason, ...]
    signatures: tuple[SignatureReport, ...]
    document_sha256: str
    #: The verified trusted lists the judgement used.
    trusted_lists: tuple[TrustedListInfo, ...] = ()

    @classmethod
    def refuse(cls, document_sha256: str, *reasons: Reason) -> Verdict:
        """A verdict without signature reports, for refusals of the file as a whole."""
        return cls(accepted=False, reasons=tuple(reasons), signatures=(), document_sha256=document_sha256)

    @classmethod
    def from_reports(cls, document_sha256: str, reports: tuple[SignatureReport, ...]) -> Verdict:
        if not reports:
            return cls.refuse(document_sha256, Reason.NOT_SIGNED)
        if any(report.accepted for report in reports):
            return cls(accepted=True, reasons=(), signatures=reports, document_sha256=document_sha256)
        best = min(reports, key=lambda report: len(report.reasons))
        return cls(accepted=False, reasons=best.reasons, signatures=reports, document_sha256=document_sha256)

    @property
    def accepted_signature(self) -> SignatureReport | None:
        """The signature that qualifies the document (the last accepted one), None when refused."""
        if not self.accepted:
            return None
        accepted = [report for report in self.signatures if report.accepted]
        return accepted[-1] if accepted else None

    @property
    def main_signature(self) -> SignatureReport | None:
        """The accepted signature, else the one whose reasons were reported."""
        if self.accepted:
            return self.accepted_signature
        if not self.signatures:
            return None
        return min(self.signatures, key=lambda report: len(report.reasons))

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Verdict:
        """The verdict back from :meth:`to_json` (as stored with a submission)."""
        return cls(
            accepted=bool(document["accepted"]),
            reasons=tuple(Reason(code) for code in document["reasons"]),
            signatures=tuple(SignatureReport.from_json(item) for item in document.get("signatures", ())),
            document_sha256=document["document_sha256"],
            trusted_lists=tuple(
                TrustedListInfo.from_json(item) for item in (document.get("report") or {}).get("trusted_lists", ())
            ),
        )

    def report(self) -> dict[str, Any]:
        """The validation report in the terms EU validators use (ETSI EN 319 102-1, PAdES levels)."""
        main = self.main_signature
        indication, sub_indication = etsi_indication(self.reasons)
        return {
            "indication": indication,
            "sub_indication": sub_indication,
            "pades_level": main.pades_level if main else None,
            "qscd_certificate": main.qscd_certificate if main else None,
            "qscd_trusted_list": main.qscd_trusted_list if main else None,
            "judged_at": _iso(main.judged_at) if main else None,
            "judged_at_basis": main.judged_at_basis if main else None,
            "trusted_lists": [item.to_json() for item in self.trusted_lists],
        }

    def to_json(self) -> dict[str, Any]:
        """The object ``portal verify-signature --json`` prints."""
        main = self.main_signature
        return {
            "accepted": self.accepted,
            "reasons": [reason.value for reason in self.reasons],
            "signer": main.signer.to_json() if main and main.signer else None,
            "signing_time": _iso(main.signing_time) if main else None,
            "timestamp": _iso(main.timestamp) if main else None,
            "coverage": main.coverage if main else None,
            "document_sha256": self.document_sha256,
            "signatures": [report.to_json() for report in self.signatures],
            "report": self.report(),
        }


def validation_report(verdict: Verdict | dict[str, Any]) -> dict[str, Any]:
    """The downloadable validation report of a verdict (or of a verdict stored as JSON, e.g. with a
    signed upload or a data-box attachment): the ETSI outcome and the facts behind it, the document's
    digest and each signature's report."""
    if isinstance(verdict, dict):
        verdict = Verdict.from_json(verdict)
    return {
        "document_sha256": verdict.document_sha256,
        "accepted": verdict.accepted,
        "reasons": [reason.value for reason in verdict.reasons],
        **verdict.report(),
        "signatures": [report.to_json() for report in verdict.signatures],
    }
