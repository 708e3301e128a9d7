"""The validation itself, in the calling process: pyHanko behind one function returning a frozen verdict.

:func:`validate_in_process` never raises for bad input. It runs in the validation worker process
(see ``worker.py``); ``validate.validate_signed_pdf`` is the entry point everybody else uses.

How each rule is decided, per embedded signature (document timestamps are judged apart: each must be
intact, its gap one hex string, its TSA trusted and not revoked at its time, or every signature before
it is refused):

* structure, read strictly: every ``startxref`` points at its cross-reference section; an incremental
  update defines no object its section does not list (after the signature: a modification; in or
  before the signed revision: ``malformed_pdf``); nothing but whitespace after the last ``%%EOF``;

* integrity: pyHanko's ``intact`` and ``valid`` (the digest over the byte range, the CMS signature), a
  structurally broken CMS, a tampered timestamp token; ``weak_algorithm`` for an intact signature made
  with what pyHanko's default algorithm policy no longer accepts (SHA-1, RSA below 2048 bits);
* coverage: the byte range's gap is exactly one hex string, the signature dictionary's ``/Contents``;
  the signature covers the whole file, or its whole revision followed only by changes pyHanko's
  difference analysis grades ``FORM_FILLING`` at most and our own object check finds to be validation
  data and document timestamps in harmless widgets (no actions, invisible or a bounded small stamp);
* binding: the signed revision is an incremental update of ``original``: its bytes are a prefix, its
  last revision is one of ours, and between the two the objects of the original changed only as
  adding a signature needs (catalog form entries, a raised ``/Version``, the form's field list, pages
  gaining harmless signature widgets; nothing freed, no new non-signature fields, no ``/XFA``);
* trust and expiry: pyHanko's certificate path validation against the anchors (the configured roots
  and the CA/QC service certificates of the verified trusted lists) at the proof-of-existence time:
  a trusted timestamp token's time, else the upload time (the claimed time is the signer's say-so);
* revocation: without fetching, every certificate of the path is checked against the configured CRLs
  of its issuer (signature verified, current) and the CRLs the file carries (DSS, CMS
  ``adbe-revocationInfoArchival``; verified, covering the time judged); the same for a timestamp's TSA
  at the token's time (a token from a revoked TSA does not count); with fetching, pyHanko fetches OCSP/CRLs too; hard
  mode refuses when nothing is known, soft mode accepts then; revoked is always refused;
* qualification: pyHanko's ``QualificationAssessor`` over the verified trusted lists (a service
  "granted" at that time, QCStatements, the list's qualifiers), or the QCStatements alone when no
  list is configured (QcCompliance and a QcType); QcType esign, eseal only when seals are allowed;
* time: a claimed signing time outside the certificate's validity is ``expired``; the deadline is
  judged at a trusted timestamp's time, else at the upload (never at the claimed time).

This module runs the steps and assembles the report; each rule is decided in a module of its own:
``structure`` (the bytes read strictly, the signature's gap), ``revisions`` (what changed between
revisions: binding and later changes), ``timestamps`` (document and signature timestamps, the PAdES
level), ``revocation`` (CRLs and OCSP responses), ``certificates`` (trust indication, qualification,
the signer's names), ``material`` (the parsed trust configuration and pyHanko's validation context).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from portal.signatures import speedups
from portal.signatures.certificates import qc_sscd, qualification, signer_info, signer_info_safe, trust_problem
from portal.signatures.logs import quiet_pyhanko_logging
from portal.signatures.material import Material, trust_material, validation_context
from portal.signatures.pdfobjects import entry
from portal.signatures.revisions import (
    OriginalInfo,
    bound_to_original,
    only_timestamps_added,
    original_info,
)
from portal.signatures.revocation import cms_crls, embedded_dss_crls, revinfo_embedded, revocation_problem
from portal.signatures.structure import Structure, gap_ok, junk_after_last_revision, read_structure
from portal.signatures.timestamps import (
    DocumentTimestamp,
    document_timestamps,
    dss_revision,
    token_time,
    tst_time,
    with_level,
)
from portal.signatures.trust import TrustConfig
from portal.signatures.verdict import Reason, SignatureReport, SignerInfo, Verdict

__all__ = ["MAX_REVISIONS", "validate_in_process"]

logger = logging.getLogger(__name__)

#: More incremental updates than any signed application has (the generated PDF, a few signatures,
#: validation data, document timestamps): each costs a difference analysis, so a file with thousands
#: of them is refused as unreadable before that work starts.
MAX_REVISIONS = 64

#: What pyHanko and its parsers raise on a file they cannot read.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def validate_in_process(
    data: bytes,
    *,
    trust: TrustConfig,
    original: bytes | None,
    deadline: datetime | None,
    received_at: datetime,
) -> Verdict:
    """Validate ``data`` in this process. Never raises for bad input: refuses with reasons."""
    quiet_pyhanko_logging()
    speedups.install()
    digest = hashlib.sha256(data).hexdigest()
    received_at = _aware(received_at)
    deadline = _aware(deadline) if deadline is not None else None
    if not data.startswith(b"%PDF-"):
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)
    try:
        return _run(_validate(data, digest, trust, original, deadline, received_at))
    except RecursionError:
        logger.info("signed PDF %s: too deeply nested", digest)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)
    except MemoryError:
        logger.info("signed PDF %s: out of memory", digest)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)
    except Exception as error:
        # The boundary for hostile input: pyHanko and its parsers may raise anything on a crafted file.
        # Known failures are mapped precisely further in; what reaches here is an unreadable file.
        logger.info("signed PDF %s: unreadable (%s: %s)", digest, type(error).__name__, error)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)


def _run(coroutine: Any) -> Verdict:
    """Run the validation's coroutine; in a thread of its own when this thread has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC)


async def _validate(
    data: bytes,
    digest: str,
    trust: TrustConfig,
    original: bytes | None,
    deadline: datetime | None,
    received_at: datetime,
) -> Verdict:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted or reader.xrefs.total_revisions > MAX_REVISIONS:
            return Verdict.refuse(digest, Reason.MALFORMED_PDF)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except (PdfError, *_UNREADABLE) as error:
        logger.info("signed PDF %s: unreadable (%s: %s)", digest, type(error).__name__, error)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)

    try:
        # The judgement reads strictly: a startxref that needs correcting is not what a viewer reads.
        structure = read_structure(reader, data)
    except (PdfError, *_UNREADABLE) as error:
        logger.info("signed PDF %s: not readable strictly (%s: %s)", digest, type(error).__name__, error)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)

    material = trust_material(trust)
    info = original_info(original) if original is not None else None
    embedded_crls = embedded_dss_crls(reader)
    timestamps = await document_timestamps(reader, data, fields, trust, material, embedded_crls, received_at)
    reports: list[SignatureReport] = []
    for fq_name, sig_object, sig_field in fields:
        report = await _validate_field(
            reader,
            data,
            fq_name,
            sig_object,
            sig_field,
            trust,
            material,
            original,
            info,
            deadline,
            received_at,
            embedded_crls,
        )
        if report is None:
            continue
        extra = _file_reasons(report.signed_revision, structure, timestamps)
        if extra:
            report = replace(report, reasons=tuple(dict.fromkeys(report.reasons + tuple(extra))))
        reports.append(with_level(report, timestamps, dss_revision(reader)))
    verdict = Verdict.from_reports(digest, tuple(reports))
    return replace(verdict, trusted_lists=material.lists.lists if material.lists is not None else ())


def _file_reasons(revision: int | None, structure: Structure, timestamps: list[DocumentTimestamp]) -> list[Reason]:
    """What the file around a signature of ``revision`` adds to its reasons: hidden objects or trailing
    bytes (after the signature: a modification; in or before it: malformed), and the reasons of the
    document timestamps that follow it."""
    extra: list[Reason] = []
    if structure.trailing_data or (
        structure.hidden_in is not None and revision is not None and structure.hidden_in > revision
    ):
        extra.append(Reason.MODIFIED_AFTER_SIGNING)
    elif structure.hidden_in is not None:
        extra.append(Reason.MALFORMED_PDF)
    for stamp in timestamps:
        if revision is not None and stamp.revision > revision:
            extra.extend(stamp.reasons)
    return extra


async def _validate_field(
    reader: Any,
    data: bytes,
    fq_name: str,
    sig_object: Any,
    sig_field: Any,
    trust: TrustConfig,
    material: Material,
    original: bytes | None,
    info: OriginalInfo | None,
    deadline: datetime | None,
    received_at: datetime,
    embedded_crls: tuple[Any, ...] = (),
) -> SignatureReport | None:
    """The report of one signature field; None for document timestamps (judged apart)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.validation.errors import DisallowedAlgorithmError, SignatureValidationError
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    try:
        sig_type = entry(sig_object.get_object(), "/Type", "/Sig")
    except (PdfError, ValueError, TypeError, KeyError, AttributeError):
        return _broken(fq_name, Reason.MALFORMED_PDF)
    if sig_type == "/DocTimeStamp":
        return None
    try:
        embedded = EmbeddedPdfSignature(reader, sig_field, fq_name)
    except (PdfError, SignatureValidationError, *_UNREADABLE) as error:
        # An empty or placeholder /Contents, a CMS that does not parse, several SignerInfos...
        logger.info("signature %s: unreadable CMS (%s: %s)", fq_name, type(error).__name__, error)
        return _broken(fq_name, Reason.INTEGRITY)
    if embedded.sig_object_type == "/DocTimeStamp":
        return None
    try:
        return await _validate_signature(
            embedded, data, trust, material, original, info, deadline, received_at, embedded_crls
        )
    except DisallowedAlgorithmError as error:
        logger.info("signature %s: disallowed algorithm (%s)", fq_name, error.failure_message)
        return _broken(fq_name, Reason.WEAK_ALGORITHM, signer=signer_info_safe(embedded))
    except SignatureValidationError as error:
        logger.info("signature %s: invalid (%s)", fq_name, error.failure_message)
        return _broken(fq_name, Reason.INTEGRITY, signer=signer_info_safe(embedded))
    except (PdfError, *_UNREADABLE) as error:
        logger.info("signature %s: unreadable (%s: %s)", fq_name, type(error).__name__, error)
        return _broken(fq_name, Reason.MALFORMED_PDF, signer=signer_info_safe(embedded))


def _broken(fq_name: str, reason: Reason, *, signer: SignerInfo | None = None) -> SignatureReport:
    return SignatureReport(
        field_name=str(fq_name),
        signer=signer,
        signing_time=None,
        timestamp=None,
        coverage="unclear",
        reasons=(reason,),
    )


async def _validate_signature(
    embedded: Any,
    data: bytes,
    trust: TrustConfig,
    material: Material,
    original: bytes | None,
    info: OriginalInfo | None,
    deadline: datetime | None,
    received_at: datetime,
    embedded_crls: tuple[Any, ...] = (),
) -> SignatureReport:
    # Revocation data the file carries: the document security store and the CMS (PAdES B-LT).
    embedded_crls = embedded_crls + cms_crls(embedded)

    # The proof-of-existence time: a timestamp token's time (verified below), else the upload.
    claimed_tst = tst_time(embedded)
    moment = min(claimed_tst, received_at) if claimed_tst else received_at
    status = await _pyhanko_status(embedded, material, trust, moment, received_at)
    timestamp, token_reasons = token_time(status.timestamp_validity, material, trust, received_at, embedded_crls)
    reasons = list(token_reasons)
    if claimed_tst is not None and timestamp is None:
        # The token does not count: judge the certificate at the upload time instead.
        moment = received_at
        embedded = _fresh_embedded(embedded)
        status = await _pyhanko_status(embedded, material, trust, moment, received_at)
    valid = bool(status.intact and status.valid)

    # 1. integrity
    if not valid:
        reasons.append(Reason.INTEGRITY)

    # 2. coverage: the whole file, or later changes that are validation data / document timestamps only
    if not _covers_whole(embedded, status, data):
        reasons.append(Reason.MODIFIED_AFTER_SIGNING)

    # 3. binding to the portal's PDF
    if original is not None and not bound_to_original(embedded, data, original, info):
        reasons.append(Reason.NOT_BOUND_TO_ORIGINAL)

    # 4. trust, validity, revocation (only meaningful for a cryptographically valid signature)
    cert = embedded.signer_cert
    path = status.validation_path
    trusted = False
    if valid:
        trusted, problems = await _trust_reasons(
            status, cert, embedded, material, trust, moment, received_at, embedded_crls
        )
        reasons.extend(problems)

    # 5. qualification: assessed on a trusted path; without one, only the QCStatements are looked at
    #    (so that an untrusted or revoked certificate is not also reported as not qualified).
    if trusted:
        qualified, qc_type, qscd_listed = qualification(cert, path, material, moment)
    else:
        qualified, qc_type, qscd_listed = qualification(cert, None, Material.without_lists(material), moment)
    problem = _qualification_problem(qualified, qc_type, trust)
    if problem is not None:
        reasons.append(problem)
    qualified = qualified and trusted

    # 6. the claimed time must fall within the certificate's validity (a claim outside it is false)
    claimed = status.signer_reported_dt.astimezone(UTC) if status.signer_reported_dt else None
    if not _claim_within_validity(cert, claimed):
        reasons.append(Reason.EXPIRED)

    # 7. the deadline: a trusted timestamp's time, else the receipt (the claimed time is the signer's say-so)
    signing_time = min(timestamp or received_at, received_at)
    if deadline is not None and signing_time >= deadline:
        reasons.append(Reason.AFTER_DEADLINE)

    coverage = status.coverage
    return SignatureReport(
        field_name=str(embedded.field_name),
        signer=signer_info(cert, qualified=qualified, qc_type=qc_type if qualified else None),
        signing_time=signing_time,
        timestamp=timestamp,
        coverage=coverage.name.lower() if coverage is not None else "unclear",
        reasons=tuple(dict.fromkeys(reasons)),
        claimed_time=claimed,
        signed_revision=embedded.signed_revision,
        pades_level=("B-T" if timestamp else "B-B") if valid else None,
        qscd_certificate=qc_sscd(cert),
        qscd_trusted_list=qscd_listed,
        judged_at=moment,
        judged_at_basis="signature_timestamp" if timestamp else "receipt",
        revinfo_embedded=revinfo_embedded(path, material, trust, moment, received_at, embedded_crls),
    )


async def _pyhanko_status(
    embedded: Any, material: Material, trust: TrustConfig, moment: datetime, received_at: datetime
) -> Any:
    """pyHanko's validation of the signature, its certificate judged at ``moment``."""
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
    from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature

    return await async_validate_pdf_signature(
        embedded,
        signer_validation_context=validation_context(material, trust, moment),
        ts_validation_context=validation_context(material, trust, received_at, tsa=True),
        diff_policy=DEFAULT_DIFF_POLICY,
    )


def _fresh_embedded(embedded: Any) -> Any:
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    return EmbeddedPdfSignature(embedded.reader, embedded.sig_field, embedded.fq_name)


def _covers_whole(embedded: Any, status: Any, data: bytes) -> bool:
    """The signature covers the whole file, or its whole revision followed only by validation data and
    harmless document timestamps; and its gap is exactly the one hex string of ``/Contents``."""
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    coverage = status.coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        whole = True
    elif coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        whole = _later_changes_allowed(embedded, status) and not junk_after_last_revision(embedded, data)
    else:
        whole = False
    return whole and gap_ok(embedded, data)


def _later_changes_allowed(embedded: Any, status: Any) -> bool:
    """What follows the signed revision: pyHanko grades it validation data at most (or form filling,
    as it grades some tools' document timestamps), the DocMDP permissions allow it, and our own check
    finds only validation data and harmless document timestamps were added."""
    from pyhanko.sign.diff_analysis import ModificationLevel

    modification = status.modification_level
    return bool(
        modification is not None
        and status.docmdp_ok is not False
        and (modification <= ModificationLevel.LTA_UPDATES or modification == ModificationLevel.FORM_FILLING)
        and only_timestamps_added(embedded)
    )


async def _trust_reasons(
    status: Any,
    cert: Any,
    embedded: Any,
    material: Material,
    trust: TrustConfig,
    moment: datetime,
    received_at: datetime,
    embedded_crls: tuple[Any, ...],
) -> tuple[bool, list[Reason]]:
    """Whether the signer's certificate is trusted at ``moment`` (a valid path to an anchor, not
    revoked), and the reasons why not."""
    reasons: list[Reason] = []
    problem = await trust_problem(status, cert, embedded, material, trust, moment)
    trusted = problem is None
    if problem is not None:
        reasons.append(problem)
    path = status.validation_path
    if path is not None and problem not in (Reason.REVOKED, Reason.NOT_TRUSTED):
        revocation = revocation_problem(path, material, trust, moment, received_at, embedded_crls)
        if revocation is not None:
            reasons.append(revocation)
            trusted = False
    return trusted, reasons


def _qualification_problem(qualified: bool, qc_type: str | None, trust: TrustConfig) -> Reason | None:
    """A seal where seals are not allowed; anything but a qualified signature or seal."""
    if qualified and qc_type == "eseal" and not trust.allow_seals:
        return Reason.SEAL_NOT_ALLOWED
    if not qualified or qc_type not in ("esign", "eseal"):
        return Reason.NOT_QUALIFIED
    return None


def _claim_within_validity(cert: Any, claimed: datetime | None) -> bool:
    """The signer's claimed signing time (if any) falls within the certificate's validity period."""
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    return claimed is None or bool(not_before <= claimed <= not_after)
