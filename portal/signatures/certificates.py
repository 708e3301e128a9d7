"""What the signer's certificate says and whether its path holds: pyHanko's trust indication as a
reason (path validation re-run when it is unspecific), qualification (trusted lists or
QCStatements) and the signer's names for the report."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from cryptography.x509.oid import NameOID

from portal.signatures.material import Material, validation_context
from portal.signatures.trust import TrustConfig
from portal.signatures.verdict import Reason, SignerInfo

__all__ = ["qc_sscd", "qualification", "signer_info", "signer_info_safe", "trust_problem"]


async def trust_problem(
    status: Any, cert: asn1_x509.Certificate, embedded: Any, material: Material, trust: TrustConfig, moment: datetime
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
    cert: asn1_x509.Certificate, embedded: Any, material: Material, trust: TrustConfig, moment: datetime
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
        validation_context=validation_context(material, trust, moment),
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


def qualification(
    cert: asn1_x509.Certificate, path: Any, material: Material, moment: datetime
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


def qc_sscd(cert: asn1_x509.Certificate) -> bool | None:
    """The certificate's QcSSCD statement: its issuer declares the key sits on a QSCD (None: unreadable)."""
    from pyhanko.sign.ades import qualified_asn1

    try:
        return any(s["statement_id"].native == "qc_sscd" for s in qualified_asn1.get_qc_statements(cert))
    except (ValueError, TypeError, KeyError):
        return None


#: Labels for the name attributes RFC 4514 has no short name for.
_NAME_LABELS = {
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.TITLE: "title",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


def signer_info(cert: asn1_x509.Certificate, *, qualified: bool, qc_type: str | None) -> SignerInfo:
    """Who signed, as the report shows it."""
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


def signer_info_safe(embedded: Any) -> SignerInfo | None:
    """The signer of a signature that failed validation, when its certificate is readable."""
    try:
        return signer_info(embedded.signer_cert, qualified=False, qc_type=None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
