"""Timestamps: document timestamps judged apart (each intact, its gap one hex string, its TSA trusted
and not revoked at its time), a signature timestamp token's time when it counts, and the PAdES
baseline level they give a signature."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from portal.signatures.material import Material, validation_context
from portal.signatures.pdfobjects import entry
from portal.signatures.revocation import revocation_problem
from portal.signatures.structure import gap_ok
from portal.signatures.trust import TrustConfig
from portal.signatures.verdict import Reason, SignatureReport

__all__ = ["DocumentTimestamp", "document_timestamps", "dss_revision", "token_time", "tst_time", "with_level"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentTimestamp:
    revision: int
    reasons: tuple[Reason, ...]


async def document_timestamps(
    reader: Any,
    data: bytes,
    fields: list[Any],
    trust: TrustConfig,
    material: Material,
    embedded_crls: tuple[Any, ...],
    received_at: datetime,
) -> list[DocumentTimestamp]:
    """Every document timestamp validated like a timestamp: the token intact, its byte range exactly
    the file so far with one hex string in the gap, the TSA trusted and not revoked at the token's time."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_timestamp

    result: list[DocumentTimestamp] = []
    for fq_name, sig_object, sig_field in fields:
        try:
            if entry(sig_object.get_object(), "/Type") != "/DocTimeStamp":
                continue
        except (PdfError, ValueError, TypeError, KeyError, AttributeError):
            continue
        revision = reader.xrefs.get_last_change(sig_object.reference) if hasattr(sig_object, "reference") else 0
        try:
            embedded = EmbeddedPdfSignature(reader, sig_field, fq_name)
            revision = embedded.signed_revision
            status = await async_validate_pdf_timestamp(
                embedded, validation_context=validation_context(material, trust, received_at, tsa=True)
            )
        except (
            PdfError,
            SignatureValidationError,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
        ) as error:
            logger.info("document timestamp %s: invalid (%s: %s)", fq_name, type(error).__name__, error)
            result.append(DocumentTimestamp(revision, (Reason.INTEGRITY,)))
            continue
        reasons: list[Reason] = []
        if not (status.intact and status.valid) or not gap_ok(embedded, data):
            reasons.append(Reason.INTEGRITY)
        elif not status.trusted or status.validation_path is None:
            reasons.append(Reason.NOT_TRUSTED)
        else:
            problem = revocation_problem(
                status.validation_path, material, trust, status.timestamp.astimezone(UTC), received_at, embedded_crls
            )
            if problem is not None:
                reasons.append(problem)
        result.append(DocumentTimestamp(revision, tuple(reasons)))
    return result


def tst_time(embedded: Any) -> datetime | None:
    """The (not yet verified) time of the signature timestamp token, if there is one."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    for signed_data in extract_tst_data_iter(embedded.signer_info, signed=False):
        tst_info = signed_data["encap_content_info"]["content"].parsed
        gen_time = tst_info["gen_time"].native
        if isinstance(gen_time, datetime):
            return gen_time.astimezone(UTC)
    return None


def token_time(
    tst: Any,
    material: Material,
    trust: TrustConfig,
    received_at: datetime,
    embedded_crls: tuple[Any, ...],
) -> tuple[datetime | None, tuple[Reason, ...]]:
    """The time of pyHanko's validated signature timestamp token ``tst`` when it counts (intact,
    trusted, its TSA not revoked or of unknown status at the token's time), and the reasons it gives
    (a broken token is an integrity failure)."""
    if tst is None:
        return None, ()
    if not (tst.intact and tst.valid):
        return None, (Reason.INTEGRITY,)
    if not tst.trusted or tst.validation_path is None:
        return None, ()
    moment = tst.timestamp.astimezone(UTC)
    if revocation_problem(tst.validation_path, material, trust, moment, received_at, embedded_crls) is not None:
        return None, ()
    return moment, ()


def with_level(
    report: SignatureReport, timestamps: list[DocumentTimestamp], dss_revision: int | None
) -> SignatureReport:
    """The PAdES baseline level: B-T with a trusted signature timestamp or a valid document timestamp
    after the signature; B-LT when also the revocation data in the file covers the path; B-LTA when
    also a valid document timestamp follows the last change of that data."""
    if report.pades_level is None or report.signed_revision is None:
        return report
    valid_after = [t.revision for t in timestamps if not t.reasons and t.revision > report.signed_revision]
    level = "B-T" if report.timestamp is not None or valid_after else "B-B"
    if level == "B-T" and report.revinfo_embedded:
        level = "B-LT"
        after_data = dss_revision if dss_revision is not None else report.signed_revision
        if any(revision > after_data for revision in valid_after):
            level = "B-LTA"
    return replace(report, pades_level=level)


def dss_revision(reader: Any) -> int | None:
    """The revision that last changed the document security store, None without one."""
    from pyhanko.pdf_utils import generic

    dss = reader.root.raw_get("/DSS") if "/DSS" in reader.root else None
    if dss is None:
        return None
    if not isinstance(dss, generic.IndirectObject):
        return reader.xrefs.get_last_change(reader.root_ref) if hasattr(reader, "root_ref") else None
    revisions = [reader.xrefs.get_last_change(dss.reference)]
    for key in ("/CRLs", "/OCSPs", "/Certs"):
        value = dss.get_object().raw_get(key) if key in dss.get_object() else None
        if isinstance(value, generic.IndirectObject):
            revisions.append(reader.xrefs.get_last_change(value.reference))
    return max(revisions)
