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
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import re
import threading
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.x509.oid import NameOID

from portal.signatures import speedups
from portal.signatures.logs import quiet_pyhanko_logging
from portal.signatures.trust import TrustConfig, TrustedListData, load_trusted_lists
from portal.signatures.verdict import Reason, SignatureReport, SignerInfo, Verdict

__all__ = ["quiet_pyhanko_logging", "validate_in_process"]

logger = logging.getLogger(__name__)

#: More incremental updates than any signed application has (the generated PDF, a few signatures,
#: validation data, document timestamps): each costs a difference analysis, so a file with thousands
#: of them is refused as unreadable before that work starts.
MAX_REVISIONS = 64

# ---------------------------------------------------------------------------------------------------
# Parsed trust material, cached per configuration fingerprint (a fresh ValidationContext is built for
# every validation from it).


@dataclass(frozen=True)
class _Material:
    anchors: tuple[asn1_x509.Certificate, ...]
    tsa_anchors: tuple[asn1_x509.Certificate, ...]
    other_certs: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...]
    #: The same CRLs parsed by cryptography, for checking their signatures.
    crypto_crls: tuple[Any, ...]
    lists: TrustedListData | None

    @staticmethod
    def without_lists(material: _Material) -> _Material:
        return replace(material, lists=None)

    @staticmethod
    def without_crls(material: _Material) -> _Material:
        return replace(material, crls=(), crypto_crls=())


_material_cache: dict[str, _Material] = {}
_material_lock = threading.Lock()


def _material(trust: TrustConfig) -> _Material:
    key = trust.fingerprint
    with _material_lock:
        found = _material_cache.get(key)
    if found is not None:
        return found
    from cryptography.x509 import load_der_x509_crl

    roots = tuple(asn1_x509.Certificate.load(der) for der in trust.roots)
    lists = load_trusted_lists(trust.trusted_lists, trust.tl_signers) if trust.trusted_lists else None
    listed_cas = lists.ca_certificates if lists else ()
    listed_tsas: tuple[asn1_x509.Certificate, ...] = ()
    if lists is not None:
        listed_tsas = tuple(
            authority.certificate
            for authority in lists.registry.known_timestamp_authorities  # type: ignore[attr-defined]
            if getattr(authority, "certificate", None) is not None
        )
    material = _Material(
        anchors=_unique(roots + listed_cas),
        tsa_anchors=_unique(roots + listed_cas + listed_tsas),
        other_certs=tuple(asn1_x509.Certificate.load(der) for der in trust.other_certs),
        crls=tuple(asn1_crl.CertificateList.load(der) for der in trust.crls),
        crypto_crls=tuple(load_der_x509_crl(der) for der in trust.crls),
        lists=lists,
    )
    with _material_lock:
        if len(_material_cache) > 16:
            _material_cache.clear()
        _material_cache[key] = material
    return material


def _unique(certs: tuple[asn1_x509.Certificate, ...]) -> tuple[asn1_x509.Certificate, ...]:
    seen: set[bytes] = set()
    result = []
    for cert in certs:
        if cert.sha256 not in seen:
            seen.add(cert.sha256)
            result.append(cert)
    return tuple(result)


def _validation_context(material: _Material, trust: TrustConfig, moment: datetime, *, tsa: bool = False) -> Any:
    """A fresh context for one validation. Without fetching, revocation is checked by
    :func:`_revocation_problem` against the configured CRLs instead of by pyHanko (whose CRL issuer
    search cannot handle a CRL signed by a trust anchor that is not self-signed, which is what a
    trusted list's CA/QC service certificate usually is)."""
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    if not trust.allow_fetching:
        rule = RevocationCheckingRule.NO_CHECK
    elif trust.revocation_mode == "hard":
        rule = RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
    else:
        rule = RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    policy = CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule))
    return ValidationContext(
        trust_roots=list(material.tsa_anchors if tsa else material.anchors),
        other_certs=list(material.other_certs),
        crls=list(material.crls),
        allow_fetching=trust.allow_fetching,
        revinfo_policy=policy,
        moment=moment,
        best_signature_time=moment,
        # The configured CRLs are issued now; a signature is judged at its (earlier) time.
        retroactive_revinfo=True,
    )


# ---------------------------------------------------------------------------------------------------


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
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        logger.info("signed PDF %s: unreadable (%s: %s)", digest, type(error).__name__, error)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)

    try:
        # The judgement reads strictly: a startxref that needs correcting is not what a viewer reads.
        structure = _structure(reader, data)
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        logger.info("signed PDF %s: not readable strictly (%s: %s)", digest, type(error).__name__, error)
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)

    material = _material(trust)
    original_info = _original_info(original) if original is not None else None
    embedded_crls = _embedded_dss_crls(reader)
    timestamps = await _document_timestamps(reader, data, fields, trust, material, embedded_crls, received_at)
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
            original_info,
            deadline,
            received_at,
            embedded_crls,
        )
        if report is None:
            continue
        extra: list[Reason] = []
        revision = report.signed_revision
        if structure.trailing_data or (
            structure.hidden_in is not None and revision is not None and structure.hidden_in > revision
        ):
            extra.append(Reason.MODIFIED_AFTER_SIGNING)
        elif structure.hidden_in is not None:
            extra.append(Reason.MALFORMED_PDF)
        for stamp in timestamps:
            if revision is not None and stamp.revision > revision:
                extra.extend(stamp.reasons)
        if extra:
            report = replace(report, reasons=tuple(dict.fromkeys(report.reasons + tuple(extra))))
        reports.append(_with_level(report, timestamps, _dss_revision(reader)))
    verdict = Verdict.from_reports(digest, tuple(reports))
    return replace(verdict, trusted_lists=material.lists.lists if material.lists is not None else ())


def _with_level(
    report: SignatureReport, timestamps: list[_DocumentTimestamp], dss_revision: int | None
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


def _dss_revision(reader: Any) -> int | None:
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


@dataclass(frozen=True)
class _Structure:
    #: The first revision whose body defines an object its cross-reference section does not list.
    hidden_in: int | None
    #: Anything but whitespace after the end of the last revision.
    trailing_data: bool


_OBJECT_HEADER = re.compile(rb"(?<![0-9])([0-9]+)[\x00\t\n\x0c\r ]+([0-9]+)[\x00\t\n\x0c\r ]+obj(?![A-Za-z])")
_STREAM_START = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(\r\n|\n|\r)")
_WHITESPACE = b"\x00\t\n\x0c\r "


def _structure(reader: Any, data: bytes) -> _Structure:
    """What a lenient reader glosses over and a viewer that rebuilds the xref would show.

    Raises ``ValueError`` when a revision's ``startxref`` does not point at its cross-reference
    section (the lenient reader corrects a few bytes off; the judgement does not). Finds objects
    defined in an incremental update but listed in no cross-reference section (stream data skipped),
    attributed to the revision whose section follows them, and bytes after the end of the last
    revision. The first revision is not searched: for an upload it is the portal's own PDF, checked
    byte for byte, and other files' generators are often sloppy there.
    """
    from pyhanko.pdf_utils.xref import XRefSectionType

    xrefs = reader.xrefs
    listed: dict[int, int] = {}
    sections: list[tuple[int, int]] = []
    file_end = 0
    for revision in range(xrefs.total_revisions):
        info = xrefs.get_xref_container_info(revision)
        declared = info.declared_startxref
        at = len(data) - len(data[declared:].lstrip(_WHITESPACE))
        if info.xref_section_type in (XRefSectionType.STANDARD, XRefSectionType.HYBRID_MAIN):
            if not data.startswith(b"xref", at) or not at < info.start_location <= at + 6:
                raise ValueError(f"startxref of revision {revision} does not point at its xref table")
        elif at != info.start_location:
            raise ValueError(f"startxref of revision {revision} does not point at its xref stream")
        section = xrefs.get_xref_data(revision)
        for part in (section, section.hybrid.xref_data if section.hybrid is not None else None):
            if part is not None:
                # an offset pointing at the whitespace before the header is a common harmless slip
                listed.update(
                    {_skip_whitespace(data, offset): idnum for idnum, (_gen, offset) in part.standard_xrefs.items()}
                )
        if info.stream_ref is not None and info.xref_section_type == XRefSectionType.STREAM:
            listed.setdefault(info.start_location, info.stream_ref.idnum)  # the xref stream itself
        sections.append((info.start_location, revision))
        eof = data.find(b"%%EOF", info.end_location)
        if eof < 0:
            raise ValueError(f"no %%EOF after revision {revision}")
        file_end = max(file_end, eof + 5)
    sections.sort()
    hidden_in: int | None = None
    for position in _unlisted_objects(data, listed):
        following = [revision for start, revision in sections if start > position]
        revision = following[0] if following else sections[-1][1]
        if revision == 0:
            continue  # the document as first written (for an upload: the portal's own PDF)
        hidden_in = revision if hidden_in is None else min(hidden_in, revision)
    return _Structure(hidden_in=hidden_in, trailing_data=bool(data[file_end:].strip(_WHITESPACE)))


def _skip_whitespace(data: bytes, offset: int) -> int:
    end = offset
    while end < len(data) and end < offset + 16 and data[end] in _WHITESPACE:
        end += 1
    return end


def _unlisted_objects(data: bytes, listed: dict[int, int]) -> list[int]:
    """Offsets of object headers ("12 0 obj") outside stream data that no xref section lists."""
    found: list[int] = []
    position = 0
    while position < len(data):
        stream = _STREAM_START.search(data, position)
        chunk_end = stream.end() if stream else len(data)
        found.extend(
            match.start()
            for match in _OBJECT_HEADER.finditer(data, position, chunk_end)
            if listed.get(match.start()) != int(match.group(1))
        )
        if stream is None:
            break
        end = data.find(b"endstream", chunk_end)
        position = len(data) if end < 0 else end + len(b"endstream")
    return found


@dataclass(frozen=True)
class _DocumentTimestamp:
    revision: int
    reasons: tuple[Reason, ...]


async def _document_timestamps(
    reader: Any,
    data: bytes,
    fields: list[Any],
    trust: TrustConfig,
    material: _Material,
    embedded_crls: tuple[Any, ...],
    received_at: datetime,
) -> list[_DocumentTimestamp]:
    """Every document timestamp validated like a timestamp: the token intact, its byte range exactly
    the file so far with one hex string in the gap, the TSA trusted and not revoked at the token's time."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, async_validate_pdf_timestamp

    result: list[_DocumentTimestamp] = []
    for fq_name, sig_object, sig_field in fields:
        try:
            if _get(sig_object.get_object(), "/Type") != "/DocTimeStamp":
                continue
        except (PdfError, ValueError, TypeError, KeyError, AttributeError):
            continue
        revision = reader.xrefs.get_last_change(sig_object.reference) if hasattr(sig_object, "reference") else 0
        try:
            embedded = EmbeddedPdfSignature(reader, sig_field, fq_name)
            revision = embedded.signed_revision
            status = await async_validate_pdf_timestamp(
                embedded, validation_context=_validation_context(material, trust, received_at, tsa=True)
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
            result.append(_DocumentTimestamp(revision, (Reason.INTEGRITY,)))
            continue
        reasons: list[Reason] = []
        if not (status.intact and status.valid) or not _gap_ok(embedded, data):
            reasons.append(Reason.INTEGRITY)
        elif not status.trusted or status.validation_path is None:
            reasons.append(Reason.NOT_TRUSTED)
        else:
            problem = _revocation_problem(
                status.validation_path, material, trust, status.timestamp.astimezone(UTC), received_at, embedded_crls
            )
            if problem is not None:
                reasons.append(problem)
        result.append(_DocumentTimestamp(revision, tuple(reasons)))
    return result


def _embedded_dss_crls(reader: Any) -> tuple[Any, ...]:
    """The CRLs (as (asn1crypto, cryptography) pairs) and OCSP responses (as :class:`_CarriedOcsp`) in
    the document security store (PAdES B-LT)."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return ()
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        logger.info("unreadable document security store (%s: %s)", type(error).__name__, error)
        return ()
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    for refs, found in ((dss.crls, crls), (dss.ocsps, ocsps)):
        for ref in refs:
            try:
                found.append(ref.get_object().data)
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
    return _parse_crls(crls) + _parse_ocsps(ocsps)


@dataclass(frozen=True)
class _CarriedOcsp:
    """A successful basic OCSP response the file carries."""

    response: Any  # asn1crypto.ocsp.BasicOCSPResponse


def _parse_ocsps(ders: list[bytes]) -> tuple[_CarriedOcsp, ...]:
    from asn1crypto import ocsp as asn1_ocsp

    result = []
    for der in ders:
        try:
            response = asn1_ocsp.OCSPResponse.load(der)
            if response["response_status"].native != "successful":
                continue
            response_bytes = response["response_bytes"]
            if response_bytes["response_type"].native != "basic_ocsp_response":
                continue
            basic = response_bytes["response"].parsed
            basic.native  # noqa: B018 - parse now, not lazily later
            result.append(_CarriedOcsp(basic))
        except (ValueError, TypeError, KeyError):
            continue
    return tuple(result)


def _ocsp_status(
    carried: _CarriedOcsp,
    cert: asn1_x509.Certificate,
    issuer_name: asn1_x509.Name,
    issuer_key_info: Any,
    moment: datetime,
    received_at: datetime,
) -> str | None:
    """ "good" or "revoked" when the response is about ``cert``, signed by its issuer (or by a responder
    the issuer certified for OCSP signing) and covers ``moment``; None otherwise."""
    basic = carried.response
    tbs = basic["tbs_response_data"]
    status: str | None = None
    for single in tbs["responses"]:
        cert_id = single["cert_id"]
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
        if algorithm not in ("sha1", "sha256") or cert_id["serial_number"].native != cert.serial_number:
            continue
        if cert_id["issuer_name_hash"].native != getattr(issuer_name, algorithm):
            continue
        if cert_id["issuer_key_hash"].native != getattr(issuer_key_info, algorithm):
            continue
        this_update = single["this_update"].native
        next_update = single["next_update"].native
        if this_update > received_at or (next_update is not None and next_update < moment):
            continue
        cert_status = single["cert_status"]
        if cert_status.name == "good":
            status = status or "good"
        elif cert_status.name == "revoked":
            revoked_at = cert_status.chosen["revocation_time"].native
            reason = cert_status.chosen["revocation_reason"].native
            if reason != "remove_from_crl" and (revoked_at is None or revoked_at <= moment):
                status = "revoked"
            else:
                status = status or "good"
    if status is None or not _ocsp_signed_for(basic, issuer_name, issuer_key_info):
        return None
    return status


def _ocsp_signed_for(basic: Any, issuer_name: asn1_x509.Name, issuer_key_info: Any) -> bool:
    """The response is signed by the issuer's key, or by a certificate in it that the issuer signed
    for OCSP signing."""
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    validator = DefaultSignatureValidator()

    def verifies(signature: bytes, signed: bytes, key: Any, algorithm: Any) -> bool:
        try:
            validator.validate_signature(signature, signed, key, algorithm)
        except Exception:  # any failure on a hostile signature means "does not verify"
            return False
        return True

    signed = basic["tbs_response_data"].dump()
    signature, algorithm = basic["signature"].native, basic["signature_algorithm"]
    if verifies(signature, signed, issuer_key_info, algorithm):
        return True
    for responder in basic["certs"] or ():
        usages = responder.extended_key_usage_value
        if responder.issuer != issuer_name or usages is None or "ocsp_signing" not in usages.native:
            continue
        certified = verifies(
            responder["signature_value"].native,
            responder["tbs_certificate"].dump(),
            issuer_key_info,
            responder["signature_algorithm"],
        )
        if certified and verifies(signature, signed, responder.public_key, algorithm):
            return True
    return False


def _cms_crls(embedded: Any) -> tuple[Any, ...]:
    """The CRLs in the signature's ``adbe-revocationInfoArchival`` signed attribute."""
    from pyhanko.sign.general import NonexistentAttributeError, find_unique_cms_attribute

    try:
        archival = find_unique_cms_attribute(embedded.signer_info["signed_attrs"], "adobe_revocation_info_archival")
    except (NonexistentAttributeError, ValueError, KeyError):
        return ()
    return _parse_crls([crl.dump() for crl in (archival["crl"] or ())]) + _parse_ocsps(
        [response.dump() for response in (archival["ocsp"] or ())]
    )


def _parse_crls(ders: list[bytes]) -> tuple[Any, ...]:
    from cryptography.x509 import load_der_x509_crl

    result = []
    for der in ders:
        try:
            parsed = asn1_crl.CertificateList.load(der)
            parsed.native  # noqa: B018 - parse now, not lazily later
            result.append((parsed, load_der_x509_crl(der)))
        except (ValueError, TypeError):
            continue
    return tuple(result)


def _gap_ok(embedded: Any, data: bytes) -> bool:
    """The unsigned gap of the byte range is exactly one hexadecimal string, written right after the
    signature dictionary's ``/Contents`` key, holding the value that dictionary's ``/Contents`` has."""
    byte_range = list(embedded.byte_range)
    if len(byte_range) != 4:
        return False
    start, end = byte_range[1], byte_range[2]
    chunk = data[start:end]
    if not _HEX_STRING.fullmatch(chunk) or (end - start) % 2:
        return False
    if not data[:start].rstrip(_WHITESPACE).endswith(b"/Contents"):
        return False
    return bytes.fromhex(chunk[1:-1].decode("ascii")) == bytes(embedded.pkcs7_content)


_HEX_STRING = re.compile(rb"<[0-9A-Fa-f]*>")


@dataclass(frozen=True)
class _OriginalInfo:
    length: int
    revisions: int
    startxref: int


def _original_info(original: bytes) -> _OriginalInfo | None:
    """Where the portal's own PDF ends: its length, revision count and last startxref (None: unreadable)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(original), strict=False)
        revisions = reader.xrefs.total_revisions
        startxref = reader.xrefs.get_startxref_for_revision(revisions - 1)
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return _OriginalInfo(length=len(original), revisions=revisions, startxref=startxref)


async def _validate_field(
    reader: Any,
    data: bytes,
    fq_name: str,
    sig_object: Any,
    sig_field: Any,
    trust: TrustConfig,
    material: _Material,
    original: bytes | None,
    original_info: _OriginalInfo | None,
    deadline: datetime | None,
    received_at: datetime,
    embedded_crls: tuple[Any, ...] = (),
) -> SignatureReport | None:
    """The report of one signature field; None for document timestamps (judged apart)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.validation.errors import DisallowedAlgorithmError, SignatureValidationError
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    try:
        sig_type = _get(sig_object.get_object(), "/Type", "/Sig")
    except (PdfError, ValueError, TypeError, KeyError, AttributeError):
        return _broken(fq_name, Reason.MALFORMED_PDF)
    if sig_type == "/DocTimeStamp":
        return None
    try:
        embedded = EmbeddedPdfSignature(reader, sig_field, fq_name)
    except (PdfError, SignatureValidationError, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        # An empty or placeholder /Contents, a CMS that does not parse, several SignerInfos...
        logger.info("signature %s: unreadable CMS (%s: %s)", fq_name, type(error).__name__, error)
        return _broken(fq_name, Reason.INTEGRITY)
    if embedded.sig_object_type == "/DocTimeStamp":
        return None
    try:
        return await _validate_signature(
            embedded, data, trust, material, original, original_info, deadline, received_at, embedded_crls
        )
    except DisallowedAlgorithmError as error:
        logger.info("signature %s: disallowed algorithm (%s)", fq_name, error.failure_message)
        return _broken(fq_name, Reason.WEAK_ALGORITHM, signer=_signer_info_safe(embedded))
    except SignatureValidationError as error:
        logger.info("signature %s: invalid (%s)", fq_name, error.failure_message)
        return _broken(fq_name, Reason.INTEGRITY, signer=_signer_info_safe(embedded))
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        logger.info("signature %s: unreadable (%s: %s)", fq_name, type(error).__name__, error)
        return _broken(fq_name, Reason.MALFORMED_PDF, signer=_signer_info_safe(embedded))


def _broken(fq_name: str, reason: Reason, *, signer: SignerInfo | None = None) -> SignatureReport:
    return SignatureReport(
        field_name=str(fq_name),
        signer=signer,
        signing_time=None,
        timestamp=None,
        coverage="unclear",
        reasons=(reason,),
    )


def _signer_info_safe(embedded: Any) -> SignerInfo | None:
    try:
        return _signer_info(embedded.signer_cert, qualified=False, qc_type=None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _tst_time(embedded: Any) -> datetime | None:
    """The (not yet verified) time of the signature timestamp token, if there is one."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    for signed_data in extract_tst_data_iter(embedded.signer_info, signed=False):
        tst_info = signed_data["encap_content_info"]["content"].parsed
        gen_time = tst_info["gen_time"].native
        if isinstance(gen_time, datetime):
            return gen_time.astimezone(UTC)
    return None


async def _validate_signature(
    embedded: Any,
    data: bytes,
    trust: TrustConfig,
    material: _Material,
    original: bytes | None,
    original_info: _OriginalInfo | None,
    deadline: datetime | None,
    received_at: datetime,
    embedded_crls: tuple[Any, ...] = (),
) -> SignatureReport:
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
    from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    reasons: list[Reason] = []
    # Revocation data the file carries: the document security store and the CMS (PAdES B-LT).
    embedded_crls = embedded_crls + _cms_crls(embedded)

    # The proof-of-existence time: a timestamp token's time (verified below), else the upload.
    claimed_tst = _tst_time(embedded)
    moment = min(claimed_tst, received_at) if claimed_tst else received_at
    status = await async_validate_pdf_signature(
        embedded,
        signer_validation_context=_validation_context(material, trust, moment),
        ts_validation_context=_validation_context(material, trust, received_at, tsa=True),
        diff_policy=DEFAULT_DIFF_POLICY,
    )
    timestamp: datetime | None = None
    tst = status.timestamp_validity
    if tst is not None:
        if not (tst.intact and tst.valid):
            reasons.append(Reason.INTEGRITY)
        elif tst.trusted and tst.validation_path is not None:
            # A token from a TSA revoked (or of unknown status) at the token's time does not count.
            token_time = tst.timestamp.astimezone(UTC)
            if (
                _revocation_problem(tst.validation_path, material, trust, token_time, received_at, embedded_crls)
                is None
            ):
                timestamp = token_time
    if claimed_tst is not None and timestamp is None:
        # The token does not count: judge the certificate at the upload time instead.
        moment = received_at
        embedded = _fresh_embedded(embedded)
        status = await async_validate_pdf_signature(
            embedded,
            signer_validation_context=_validation_context(material, trust, moment),
            ts_validation_context=_validation_context(material, trust, received_at, tsa=True),
            diff_policy=DEFAULT_DIFF_POLICY,
        )

    # 1. integrity
    if not (status.intact and status.valid):
        reasons.append(Reason.INTEGRITY)

    # 2. coverage: the whole file, or later changes that are validation data / document timestamps only
    coverage = status.coverage
    modification = status.modification_level
    whole = coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and modification is not None
        and status.docmdp_ok is not False
        and (
            modification <= ModificationLevel.LTA_UPDATES
            # pyHanko grades some tools' document timestamps as form filling: look closer.
            or modification == ModificationLevel.FORM_FILLING
        )
        # whatever pyHanko's grade: only validation data and harmless document timestamps were added
        and _only_timestamps_added(embedded)
    )
    if whole and coverage == SignatureCoverageLevel.ENTIRE_REVISION and _junk_after_last_revision(embedded, data):
        whole = False
    if not whole or not _gap_ok(embedded, data):
        reasons.append(Reason.MODIFIED_AFTER_SIGNING)

    # 3. binding to the portal's PDF
    if original is not None and not _bound_to_original(embedded, data, original, original_info):
        reasons.append(Reason.NOT_BOUND_TO_ORIGINAL)

    # 4. trust, validity, revocation (only meaningful for a cryptographically valid signature)
    cert = embedded.signer_cert
    path = status.validation_path
    trusted = False
    if status.intact and status.valid:
        problem = await _trust_problem(status, cert, embedded, material, trust, moment)
        if problem is None:
            trusted = True
        else:
            reasons.append(problem)
        if path is not None and problem not in (Reason.REVOKED, Reason.NOT_TRUSTED):
            revocation = _revocation_problem(path, material, trust, moment, received_at, embedded_crls)
            if revocation is not None:
                reasons.append(revocation)
                trusted = False

    # 5. qualification: assessed on a trusted path; without one, only the QCStatements are looked at
    #    (so that an untrusted or revoked certificate is not also reported as not qualified).
    if trusted:
        qualified, qc_type, qscd_listed = _qualification(cert, path, material, moment)
    else:
        qualified, qc_type, qscd_listed = _qualification(cert, None, _Material.without_lists(material), moment)
    if qualified and qc_type == "eseal" and not trust.allow_seals:
        reasons.append(Reason.SEAL_NOT_ALLOWED)
    elif not qualified or qc_type not in ("esign", "eseal"):
        reasons.append(Reason.NOT_QUALIFIED)
    qualified = qualified and trusted

    # 6. the claimed time must fall within the certificate's validity (a claim outside it is false)
    claimed = status.signer_reported_dt.astimezone(UTC) if status.signer_reported_dt else None
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if claimed is not None and not (not_before <= claimed <= not_after):
        reasons.append(Reason.EXPIRED)

    # 7. the deadline: a trusted timestamp's time, else the receipt (the claimed time is the signer's say-so)
    signing_time = min(timestamp or received_at, received_at)
    if deadline is not None and signing_time >= deadline:
        reasons.append(Reason.AFTER_DEADLINE)

    return SignatureReport(
        field_name=str(embedded.field_name),
        signer=_signer_info(cert, qualified=qualified, qc_type=qc_type if qualified else None),
        signing_time=signing_time,
        timestamp=timestamp,
        coverage=coverage.name.lower() if coverage is not None else "unclear",
        reasons=tuple(dict.fromkeys(reasons)),
        claimed_time=claimed,
        signed_revision=embedded.signed_revision,
        pades_level=("B-T" if timestamp else "B-B") if status.intact and status.valid else None,
        qscd_certificate=_qc_sscd(cert),
        qscd_trusted_list=qscd_listed,
        judged_at=moment,
        judged_at_basis="signature_timestamp" if timestamp else "receipt",
        revinfo_embedded=bool(
            path is not None
            and embedded_crls
            and _revocation_problem(
                path,
                _Material.without_crls(material),
                trust.with_policy(revocation_mode="hard", allow_fetching=False),
                moment,
                received_at,
                embedded_crls,
            )
            is None
        ),
    )


def _junk_after_last_revision(embedded: Any, data: bytes) -> bool:
    """Bytes after the signed revision that are no revision at all (pyHanko ignores them): anything
    but whitespace there is a change after signing."""
    if embedded.signed_revision != embedded.reader.xrefs.total_revisions - 1:
        return False
    byte_range = list(embedded.byte_range)
    return bool(data[byte_range[2] + byte_range[3] :].strip(b"\x00\t\n\x0c\r "))


def _only_timestamps_added(embedded: Any) -> bool:
    """After the signed revision, only document timestamps and validation data were added."""
    from pyhanko.pdf_utils.misc import PdfError

    reader = embedded.reader
    try:
        return _only_signature_added(
            reader, embedded.signed_revision, reader.xrefs.total_revisions - 1, timestamps_only=True
        )
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return False


def _fresh_embedded(embedded: Any) -> Any:
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    return EmbeddedPdfSignature(embedded.reader, embedded.sig_field, embedded.fq_name)


async def _trust_problem(
    status: Any, cert: asn1_x509.Certificate, embedded: Any, material: _Material, trust: TrustConfig, moment: datetime
) -> Reason | None:
    """Map pyHanko's trust indication to a reason; re-run path validation when it is unspecific."""
    from pyhanko.sign.ades.report import AdESIndeterminate

    indication = status.trust_problem_indic
    if indication is None:
        return None
    direct = {
        AdESIndeterminate.REVOKED_NO_POE: Reason.REVOKED,
        AdESIndeterminate.REVOKED_CA_NO_POE: Reason.REVOKED,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: Reason.EXPIRED,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: Reason.EXPIRED,
        AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: Reason.NOT_TRUSTED,
        AdESIndeterminate.TRY_LATER: Reason.REVOCATION_UNKNOWN,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE: Reason.WEAK_ALGORITHM,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE: Reason.WEAK_ALGORITHM,
        AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE: Reason.NOT_TRUSTED,
    }
    if indication in direct:
        return direct[indication]
    return await _classify_path_failure(cert, embedded, material, trust, moment)


async def _classify_path_failure(
    cert: asn1_x509.Certificate, embedded: Any, material: _Material, trust: TrustConfig, moment: datetime
) -> Reason:
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import (
        ExpiredError,
        InsufficientRevinfoError,
        NotYetValidError,
        PathBuildingError,
        RevokedError,
        ValidationError,
    )

    validator = CertificateValidator(
        cert,
        intermediate_certs=list(embedded.other_embedded_certs),
        validation_context=_validation_context(material, trust, moment),
    )
    try:
        await validator.async_validate_usage(set())
    except RevokedError:
        return Reason.REVOKED
    except (ExpiredError, NotYetValidError):
        return Reason.EXPIRED
    except InsufficientRevinfoError:
        return Reason.REVOCATION_UNKNOWN
    except (PathBuildingError, ValidationError):
        return Reason.NOT_TRUSTED
    return Reason.NOT_TRUSTED


def _revocation_problem(
    path: Any,
    material: _Material,
    trust: TrustConfig,
    moment: datetime,
    received_at: datetime,
    embedded_crls: tuple[Any, ...] = (),
) -> Reason | None:
    """Check every certificate of the path below the anchor against the configured CRLs of its issuer.

    A CRL counts when its issuer name matches, its signature verifies with the issuer's key and it is
    current at the upload (``next_update`` not passed). Revoked before ``moment`` (and not
    ``removeFromCRL``): ``revoked``, whatever the mode. No current CRL for a certificate: in hard mode
    ``revocation_unknown`` (unless pyHanko fetched OCSP/CRLs itself, ``allow_fetching``), in soft
    mode nothing. Complete CRLs only: no delta CRLs, no indirect CRLs. Revocation data the file
    carries (``embedded_crls``: CRLs and OCSP responses from the DSS and the CMS) counts when it
    covers ``moment``; an OCSP response must be signed by the issuer or by a responder certificate
    the issuer signed for OCSP signing.
    """
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    issuer_key_info = path.trust_anchor.authority.public_key
    issuer_name = path.trust_anchor.authority.name
    unknown = False
    for cert in path.iter_certs(include_root=False):
        issuer_key = load_der_public_key(issuer_key_info.dump())
        status = _crl_status(cert, issuer_name, issuer_key, material, moment, received_at, embedded_crls)  # type: ignore[arg-type]
        if status != "revoked":
            for carried in embedded_crls:
                if isinstance(carried, _CarriedOcsp):
                    answer = _ocsp_status(carried, cert, issuer_name, issuer_key_info, moment, received_at)
                    if answer == "revoked" or (answer == "good" and status == "unknown"):
                        status = answer
        if status == "revoked":
            return Reason.REVOKED
        if status == "unknown":
            unknown = True
        issuer_key_info = cert.public_key
        issuer_name = cert.subject
    if unknown and trust.revocation_mode == "hard" and not trust.allow_fetching:
        return Reason.REVOCATION_UNKNOWN
    return None


def _crl_status(
    cert: asn1_x509.Certificate,
    issuer_name: asn1_x509.Name,
    issuer_key: Any,
    material: _Material,
    moment: datetime,
    received_at: datetime,
    embedded_crls: tuple[Any, ...] = (),
) -> str:
    """ "good", "revoked" or "unknown" (no current CRL of that issuer, signed with its key).

    A configured CRL counts when current at the upload; a CRL the file carries (DSS, CMS) when its
    validity covers ``moment``, the time the signature is judged at, and it was issued by the upload."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    found = False
    candidates = [(p, c, False) for p, c in zip(material.crls, material.crypto_crls, strict=True)]
    candidates += [(item[0], item[1], True) for item in embedded_crls if isinstance(item, tuple)]
    for parsed, crypto_crl, carried in candidates:
        tbs = parsed["tbs_cert_list"]
        if tbs["issuer"] != issuer_name:
            continue
        try:
            if isinstance(issuer_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
                if not crypto_crl.is_signature_valid(issuer_key):
                    continue
            else:
                continue
        except (ValueError, TypeError):
            continue
        next_update = tbs["next_update"].native
        if carried:
            this_update = tbs["this_update"].native
            if this_update > received_at or (next_update is not None and next_update < moment):
                continue
        elif next_update is not None and next_update < received_at:
            continue
        found = True
        for revoked in tbs["revoked_certificates"]:
            if revoked["user_certificate"].native != cert.serial_number:
                continue
            if _crl_reason(revoked) == "remove_from_crl":
                continue
            revoked_at = revoked["revocation_date"].native
            if revoked_at is None or revoked_at <= moment:
                return "revoked"
    return "good" if found else "unknown"


def _crl_reason(revoked: Any) -> str | None:
    for extension in revoked["crl_entry_extensions"]:
        if extension["extn_id"].native == "crl_reason":
            return extension["extn_value"].native
    return None


def _qc_statements(cert: asn1_x509.Certificate) -> tuple[bool, str | None]:
    """(QcCompliance present, the single QcType as "esign"/"eseal"/"web" or None)."""
    from pyhanko.sign.ades import qualified_asn1

    compliance = False
    qc_type: str | None = None
    for statement in qualified_asn1.get_qc_statements(cert):
        statement_id = statement["statement_id"].native
        if statement_id == "qc_compliance":
            compliance = True
        elif statement_id == "qc_type":
            types = [t.native for t in statement["statement_info"]]
            if len(types) == 1:
                qc_type = {"qct_esign": "esign", "qct_eseal": "eseal", "qct_web": "web"}.get(types[0])
    return compliance, qc_type


def _qualification(
    cert: asn1_x509.Certificate, path: Any, material: _Material, moment: datetime
) -> tuple[bool, str | None, bool | None]:
    """Whether the certificate is qualified, and for what: the trusted list's assessment when one is
    configured (and a path to it exists), else the QCStatements (QcCompliance and a QcType); third,
    whether the list's assessment puts the key on a QSCD (None: no list assessed it)."""
    try:
        compliance, qc_type = _qc_statements(cert)
    except (ValueError, TypeError, KeyError):
        return False, None, None
    if material.lists is None:
        return (compliance and qc_type is not None), qc_type, None
    if path is None:
        return False, qc_type, None
    from pyhanko.sign.validation.qualified.assess import QualificationAssessor

    try:
        result = QualificationAssessor(material.lists.registry).check_entity_cert_qualified(path, moment=moment)  # type: ignore[arg-type]
    except (NotImplementedError, ValueError, TypeError, KeyError):
        return False, qc_type, None
    listed_type = {"qct_esign": "esign", "qct_eseal": "eseal", "qct_web": "web"}.get(result.status.qc_type.value)
    return result.status.qualified, listed_type, result.status.qualified and result.status.qc_key_security.is_qscd


def _qc_sscd(cert: asn1_x509.Certificate) -> bool | None:
    """The certificate's QcSSCD statement: its issuer declares the key sits on a QSCD (None: unreadable)."""
    from pyhanko.sign.ades import qualified_asn1

    try:
        return any(s["statement_id"].native == "qc_sscd" for s in qualified_asn1.get_qc_statements(cert))
    except (ValueError, TypeError, KeyError):
        return None


def _bound_to_original(embedded: Any, data: bytes, original: bytes, info: _OriginalInfo | None) -> bool:
    """The signed revision is an incremental update of ``original`` that adds the signature and
    changes nothing else of the original's content."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if info is None or not data.startswith(original):
        return False
    byte_range = list(embedded.byte_range)
    if len(byte_range) != 4 or byte_range[0] != 0 or byte_range[1] < info.length:
        return False
    revision = embedded.signed_revision
    base = info.revisions - 1
    if revision <= base or embedded.reader.xrefs.get_startxref_for_revision(base) != info.startxref:
        return False
    try:
        signed = PdfFileReader(BytesIO(data[: byte_range[2] + byte_range[3]]), strict=False)
        if signed.xrefs.total_revisions != revision + 1:
            return False
        return _only_signature_added(signed, base, revision)
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return False


#: Catalog entries a signing tool may add or change: the form, permissions, XMP metadata, validation data.
_CATALOG_MAY_CHANGE = frozenset({"/AcroForm", "/Perms", "/Metadata", "/DSS", "/Extensions"})
#: AcroForm entries a signing tool may change.
_ACROFORM_MAY_CHANGE = frozenset({"/Fields", "/SigFlags", "/DR", "/DA", "/NeedAppearances"})


def _only_signature_added(reader: Any, base: int, last: int, *, timestamps_only: bool = False) -> bool:
    """Between revisions ``base`` and ``last``, objects that existed at ``base`` changed only as adding
    signatures needs.

    Allowed: the catalog's form, XMP metadata and validation data (DSS) entries, the document info,
    the form's field list and signature flags, the DSS and what it holds, signature fields being filled,
    and pages gaining signature widgets. New fields must be signature fields; with ``timestamps_only``
    they must hold document timestamps. Nothing that existed may be freed. New objects may exist:
    only what is reachable from the checked objects is rendered, and those references are checked.
    """
    from pyhanko.pdf_utils import generic

    xrefs = reader.xrefs
    changed: set[Any] = set()
    for revision in range(base + 1, last + 1):
        if any(xrefs.get_introducing_revision(ref) <= base for ref in xrefs.refs_freed_in_revision(revision)):
            return False
        for ref in xrefs.explicit_refs_in_revision(revision):
            if xrefs.get_introducing_revision(ref) <= base:
                changed.add(ref)
    old = reader.get_historical_resolver(base)
    new = reader.get_historical_resolver(last)
    old_root_ref = old.trailer_view.raw_get("/Root")
    new_root_ref = new.trailer_view.raw_get("/Root")
    if not isinstance(old_root_ref, generic.IndirectObject) or not isinstance(new_root_ref, generic.IndirectObject):
        return False
    old_root = old.get_object(old_root_ref.reference)
    new_root = new.get_object(new_root_ref.reference)
    if not _same_except(old_root, new_root, _CATALOG_MAY_CHANGE | {"/Version"}) or not _version_ok(old_root, new_root):
        return False
    new_form_dict = _get(new_root, "/AcroForm")
    if isinstance(new_form_dict, generic.DictionaryObject) and "/XFA" in new_form_dict:
        return False
    allowed: set[Any] = {old_root_ref.reference}
    info_ref = old.trailer_view.raw_get("/Info") if "/Info" in old.trailer_view else None
    if isinstance(info_ref, generic.IndirectObject):
        allowed.add(info_ref.reference)
    if "/Metadata" in old_root and isinstance(old_root.raw_get("/Metadata"), generic.IndirectObject):
        allowed.add(old_root.raw_get("/Metadata").reference)
    if "/DSS" in old_root:
        allowed |= _refs_under(old_root.raw_get("/DSS"), depth=4)

    def acceptable_field(field: Any) -> bool:
        if _get(field, "/FT") != "/Sig" or not _harmless_annotation(field):
            return False
        if not timestamps_only:
            return True
        value = _get(field, "/V")
        return isinstance(value, generic.DictionaryObject) and _get(value, "/Type") == "/DocTimeStamp"

    old_fields: list[Any] = []
    if "/AcroForm" in old_root:
        acroform_ref = old_root.raw_get("/AcroForm")
        old_form = acroform_ref.get_object()
        new_form = _get(new_root, "/AcroForm")
        if new_form is None or not _same_except(old_form, new_form, _ACROFORM_MAY_CHANGE):
            return False
        if isinstance(acroform_ref, generic.IndirectObject):
            allowed.add(acroform_ref.reference)
        fields_ref = old_form.raw_get("/Fields") if "/Fields" in old_form else None
        if isinstance(fields_ref, generic.IndirectObject):
            allowed.add(fields_ref.reference)
        old_fields = list(_get(old_form, "/Fields", ()))
        for field_ref in old_fields:  # fields of the original: only signature fields may change
            if isinstance(field_ref, generic.IndirectObject) and field_ref.reference in changed:
                if not acceptable_field(new.get_object(field_ref.reference)):
                    return False
                allowed.add(field_ref.reference)
    if "/AcroForm" in new_root:
        old_field_refs = {f.reference for f in old_fields if isinstance(f, generic.IndirectObject)}
        for field_ref in _get(new_root["/AcroForm"], "/Fields", ()):
            if not isinstance(field_ref, generic.IndirectObject):
                return False
            if field_ref.reference not in old_field_refs and not acceptable_field(field_ref.get_object()):
                return False
    for page_ref in _page_refs(old_root.raw_get("/Pages")):
        old_page = old.get_object(page_ref)
        new_page = new.get_object(page_ref)
        annots_ref = old_page.raw_get("/Annots") if "/Annots" in old_page else None
        annots_changed = isinstance(annots_ref, generic.IndirectObject) and annots_ref.reference in changed
        if page_ref not in changed and not annots_changed:
            continue
        if not _same_except(old_page, new_page, frozenset({"/Annots"})):
            return False
        if not _only_signature_widgets_added(old_page, new_page, acceptable_field):
            return False
        allowed.add(page_ref)
        if isinstance(annots_ref, generic.IndirectObject):
            allowed.add(annots_ref.reference)
    return changed <= allowed


def _refs_under(value: Any, depth: int) -> set[Any]:
    """References reachable from ``value`` through dictionaries and arrays, ``depth`` levels down."""
    from pyhanko.pdf_utils import generic

    found: set[Any] = set()
    if isinstance(value, generic.IndirectObject):
        found.add(value.reference)
        if depth <= 0:
            return found
        value = value.get_object()
    if depth <= 0:
        return found
    if isinstance(value, generic.DictionaryObject):
        for key in value:
            found |= _refs_under(value.raw_get(key), depth - 1)
    elif isinstance(value, list):
        for item in value:
            found |= _refs_under(item, depth - 1)
    return found


def _page_refs(pages: Any, depth: int = 0) -> list[Any]:
    """References of the page objects under a page tree node (of one revision), cycles cut."""
    from pyhanko.pdf_utils import generic

    if depth > 64 or not isinstance(pages, generic.IndirectObject):
        return []
    node = pages.get_object()
    if _get(node, "/Type") == "/Page":
        return [pages.reference]
    result = []
    for kid in _get(node, "/Kids", ()):
        result.extend(_page_refs(kid, depth + 1))
    return result


def _only_signature_widgets_added(old_page: Any, new_page: Any, acceptable_field: Any) -> bool:
    """The page's annotations are the old ones plus widgets of acceptable (signature) fields."""
    from pyhanko.pdf_utils import generic

    def refs(page: Any) -> list[Any] | None:
        annots = page.raw_get("/Annots") if "/Annots" in page else generic.ArrayObject()
        if isinstance(annots, generic.IndirectObject):
            annots = annots.get_object()
        if not isinstance(annots, list):
            return None
        return [a.reference if isinstance(a, generic.IndirectObject) else None for a in annots]

    old_refs, new_refs = refs(old_page), refs(new_page)
    if old_refs is None or new_refs is None or None in new_refs:
        return False
    if not {r for r in old_refs if r is not None} <= set(new_refs):
        return False
    from portal.signatures.pagetext import page_text_boxes

    text: list[Any] | None = None
    for annot in _get(new_page, "/Annots", ()):
        if annot.reference in old_refs:
            continue
        widget = annot.get_object()
        if text is None:
            boxes = page_text_boxes(old_page)
            text = [(-1e9, -1e9, 1e9, 1e9)] if boxes is None else boxes  # unreadable: all of it is text
        if _get(widget, "/Subtype") != "/Widget" or not _harmless_annotation(widget, text):
            return False
        field = widget if "/FT" in widget or "/Parent" not in widget else widget["/Parent"]
        if not acceptable_field(field):
            return False
    return True


#: The largest visible signature or timestamp widget allowed, in points: each side at most about
#: 11.6 cm and the area at most 32,000 pt2 (under 4 % of an A4 page; e.g. 300 x 100 or 100 x 300):
#: a stamp, not an overlay over the page.
MAX_WIDGET_SIDE = 330.0
MAX_WIDGET_AREA = 32_000.0
#: Annotation flags that keep a widget off screen and paper: Hidden (2), NoView (32).
_INVISIBLE_FLAGS = 2 | 32


def _harmless_annotation(widget: Any, text: list[Any] | None = None) -> bool:
    """A signature field or widget a signer may add: no actions (``/A``, ``/AA``), and either invisible
    (a zero-size rectangle, or Hidden/NoView) or at most a bounded small stamp that, when the page's
    ``text`` boxes are given, overlaps none of them."""
    from pyhanko.pdf_utils import generic

    if not isinstance(widget, generic.DictionaryObject) or "/A" in widget or "/AA" in widget:
        return False
    for kid in _get(widget, "/Kids", ()):
        if not _harmless_annotation(kid.get_object() if isinstance(kid, generic.IndirectObject) else kid):
            return False
    if "/Rect" not in widget:
        return True
    rect = _get(widget, "/Rect")
    if not isinstance(rect, list) or len(rect) != 4:
        return False
    try:
        x1, y1, x2, y2 = (float(value) for value in rect)
        flags = int(_get(widget, "/F", 0))
    except (TypeError, ValueError):
        return False
    width, height = abs(x2 - x1), abs(y2 - y1)
    if flags & _INVISIBLE_FLAGS or width == 0 or height == 0:
        return True
    if width > MAX_WIDGET_SIDE or height > MAX_WIDGET_SIDE or width * height > MAX_WIDGET_AREA:
        return False
    left, right, bottom, top = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return not any(bx1 < right and left < bx2 and by1 < top and bottom < by2 for bx1, by1, bx2, by2 in text or ())


#: PDF versions a signing tool may declare in the catalog (pyHanko writes /2.0 for ECDSA, for example).
_PDF_VERSIONS = ("/1.0", "/1.1", "/1.2", "/1.3", "/1.4", "/1.5", "/1.6", "/1.7", "/2.0")


def _version_ok(old_root: Any, new_root: Any) -> bool:
    """The catalog's /Version is unchanged, or set to a known PDF version not lower than before."""
    if "/Version" not in new_root:
        return "/Version" not in old_root
    new = str(new_root.raw_get("/Version"))
    if new not in _PDF_VERSIONS:
        return False
    if "/Version" not in old_root:
        return True
    old = str(old_root.raw_get("/Version"))
    return old in _PDF_VERSIONS and _PDF_VERSIONS.index(new) >= _PDF_VERSIONS.index(old)


def _get(dictionary: Any, key: str, default: Any = None) -> Any:
    """A dictionary entry, dereferenced (pyHanko's ``get`` returns references as they are)."""
    from pyhanko.pdf_utils import generic

    if not isinstance(dictionary, generic.DictionaryObject) or key not in dictionary:
        return default
    return dictionary[key]


def _same_except(old: Any, new: Any, ignored: frozenset[str]) -> bool:
    """Two dictionaries have the same entries (references compared as references), ``ignored`` aside."""
    from pyhanko.pdf_utils import generic

    if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
        return False
    keys = (set(old) | set(new)) - ignored
    return all(key in old and key in new and _same(old.raw_get(key), new.raw_get(key)) for key in keys)


def _same(old: Any, new: Any, depth: int = 0) -> bool:
    from pyhanko.pdf_utils import generic

    if depth > 32:
        return False
    if isinstance(old, generic.IndirectObject) or isinstance(new, generic.IndirectObject):
        return (
            isinstance(old, generic.IndirectObject)
            and isinstance(new, generic.IndirectObject)
            and old.reference == new.reference
        )
    if isinstance(old, generic.DictionaryObject) or isinstance(new, generic.DictionaryObject):
        if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
            return False
        if set(old) != set(new):
            return False
        return all(_same(old.raw_get(k), new.raw_get(k), depth + 1) for k in old)
    if isinstance(old, list) or isinstance(new, list):
        if not isinstance(old, list) or not isinstance(new, list) or len(old) != len(new):
            return False
        return all(_same(a, b, depth + 1) for a, b in zip(old, new, strict=True))
    return type(old) is type(new) and old == new


#: Labels for the name attributes RFC 4514 has no short name for.
_NAME_LABELS = {
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.TITLE: "title",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


def _signer_info(cert: asn1_x509.Certificate, *, qualified: bool, qc_type: str | None) -> SignerInfo:
    with warnings.catch_warnings():
        # e.g. a negative serial number: shown as it is, not warned about on stderr
        warnings.simplefilter("ignore")
        parsed = crypto_x509.load_der_x509_certificate(cert.dump())
    common_names = parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    org_ids = parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    return SignerInfo(
        subject=parsed.subject.rfc4514_string(_NAME_LABELS),
        common_name=str(common_names[0].value) if common_names else None,
        organisation_identifier=str(org_ids[0].value) if org_ids else None,
        issuer=parsed.issuer.rfc4514_string(_NAME_LABELS),
        serial=format(cert.serial_number, "X"),
        qualified=qualified,
        qc_type=qc_type,
    )
