"""Revocation without fetching: every certificate of a path against the configured CRLs of its
issuer and the revocation data the file carries (CRLs and OCSP responses in the document security
store and in the CMS's ``adbe-revocationInfoArchival`` attribute)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from portal.signatures.material import Material
from portal.signatures.trust import TrustConfig
from portal.signatures.verdict import Reason

__all__ = ["CarriedOcsp", "cms_crls", "embedded_dss_crls", "revinfo_embedded", "revocation_problem"]

logger = logging.getLogger(__name__)


def embedded_dss_crls(reader: Any) -> tuple[Any, ...]:
    """The CRLs (as (asn1crypto, cryptography) pairs) and OCSP responses (as :class:`CarriedOcsp`) in
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


def cms_crls(embedded: Any) -> tuple[Any, ...]:
    """The CRLs in the signature's ``adbe-revocationInfoArchival`` signed attribute."""
    from pyhanko.sign.general import NonexistentAttributeError, find_unique_cms_attribute

    try:
        archival = find_unique_cms_attribute(embedded.signer_info["signed_attrs"], "adobe_revocation_info_archival")
    except (NonexistentAttributeError, ValueError, KeyError):
        return ()
    return _parse_crls([crl.dump() for crl in (archival["crl"] or ())]) + _parse_ocsps(
        [response.dump() for response in (archival["ocsp"] or ())]
    )


@dataclass(frozen=True)
class CarriedOcsp:
    """A successful basic OCSP response the file carries."""

    response: Any  # asn1crypto.ocsp.BasicOCSPResponse


def _parse_ocsps(ders: list[bytes]) -> tuple[CarriedOcsp, ...]:
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
            result.append(CarriedOcsp(basic))
        except (ValueError, TypeError, KeyError):
            continue
    return tuple(result)


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


def revocation_problem(
    path: Any,
    material: Material,
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
                if isinstance(carried, CarriedOcsp):
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


def revinfo_embedded(
    path: Any,
    material: Material,
    trust: TrustConfig,
    moment: datetime,
    received_at: datetime,
    embedded_crls: tuple[Any, ...],
) -> bool:
    """The revocation data the file carries alone covers the whole path (PAdES B-LT): checked in hard
    mode, without the configured CRLs and without fetching."""
    return bool(
        path is not None
        and embedded_crls
        and revocation_problem(
            path,
            Material.without_crls(material),
            trust.with_policy(revocation_mode="hard", allow_fetching=False),
            moment,
            received_at,
            embedded_crls,
        )
        is None
    )


def _ocsp_status(
    carried: CarriedOcsp,
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


def _crl_status(
    cert: asn1_x509.Certificate,
    issuer_name: asn1_x509.Name,
    issuer_key: Any,
    material: Material,
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
