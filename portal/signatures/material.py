"""The parsed trust material, cached per configuration fingerprint, and a fresh pyHanko
``ValidationContext`` built from it for every validation."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from portal.signatures.trust import TrustConfig, TrustedListData, load_trusted_lists

__all__ = ["Material", "trust_material", "validation_context"]


@dataclass(frozen=True)
class Material:
    anchors: tuple[asn1_x509.Certificate, ...]
    tsa_anchors: tuple[asn1_x509.Certificate, ...]
    other_certs: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...]
    #: The same CRLs parsed by cryptography, for checking their signatures.
    crypto_crls: tuple[Any, ...]
    lists: TrustedListData | None

    @staticmethod
    def without_lists(material: Material) -> Material:
        return replace(material, lists=None)

    @staticmethod
    def without_crls(material: Material) -> Material:
        return replace(material, crls=(), crypto_crls=())


_material_cache: dict[str, Material] = {}
_material_lock = threading.Lock()


def trust_material(trust: TrustConfig) -> Material:
    """The parsed anchors, certificates, CRLs and trusted lists of ``trust`` (cached)."""
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
    material = Material(
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


def validation_context(material: Material, trust: TrustConfig, moment: datetime, *, tsa: bool = False) -> Any:
    """A fresh context for one validation. Without fetching, revocation is checked by
    :func:`portal.signatures.revocation.revocation_problem` against the configured CRLs instead of by
    pyHanko (whose CRL issuer search cannot handle a CRL signed by a trust anchor that is not
    self-signed, which is what a trusted list's CA/QC service certificate usually is)."""
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
