"""What the validator trusts: anchor certificates, ETSI TS 119 612 trusted lists, CRLs, and the policy.

A :class:`TrustConfig` is plain, picklable data (DER and XML bytes), so it crosses into the validation
worker process unchanged. Building one checks it: every certificate and CRL must parse, and every
trusted list must carry a valid XML signature by one of the configured list signer certificates
(``tl_signers``); an unverifiable list is a configuration error (:class:`TrustConfigError`), never
silently ignored.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from portal.signatures.verdict import TrustedListInfo

__all__ = ["TrustConfig", "TrustConfigError", "TrustedListData", "load_trusted_lists"]

StrPath = str | PathLike[str]


class TrustConfigError(ValueError):
    """The trust configuration is unusable: a file that does not parse, or a trusted list whose
    signature does not verify against any configured signer certificate."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message if source is None else f"{source}: {message}")
        #: The file or item the problem is in, when known.
        self.source = source


@dataclass(frozen=True)
class TrustConfig:
    """Trust anchors, trusted lists, revocation data and the acceptance policy for one validation."""

    #: Trust anchor certificates, DER.
    roots: tuple[bytes, ...] = ()
    #: ETSI TS 119 612 trusted lists, the XML as published (signed).
    trusted_lists: tuple[bytes, ...] = ()
    #: CRLs, DER.
    crls: tuple[bytes, ...] = ()
    #: Certificates of the trusted list operators, DER: a list must be signed by one of them.
    tl_signers: tuple[bytes, ...] = ()
    #: Extra intermediate certificates for building paths (not trusted by themselves), DER.
    other_certs: tuple[bytes, ...] = ()
    #: Fetch OCSP responses and CRLs over the network (off: only ``crls`` and what the PDF embeds).
    allow_fetching: bool = False
    #: "hard": no revocation information refuses; "soft": it is accepted (a revoked certificate never is).
    revocation_mode: Literal["hard", "soft"] = "hard"
    #: Accept qualified certificates for electronic seals (QcType eseal) too.
    allow_seals: bool = False

    def __post_init__(self) -> None:
        if self.revocation_mode not in ("hard", "soft"):
            raise TrustConfigError(f"revocation_mode must be 'hard' or 'soft', not {self.revocation_mode!r}")
        for name in ("roots", "trusted_lists", "crls", "tl_signers", "other_certs"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(item, bytes) for item in value):
                raise TrustConfigError(f"{name} must be a tuple of bytes")
        for index, der in enumerate(self.roots + self.tl_signers + self.other_certs):
            _parse_certificate(der, f"certificate #{index + 1}")
        for index, der in enumerate(self.crls):
            _parse_crl(der, f"CRL #{index + 1}")
        if self.trusted_lists:
            if not self.tl_signers:
                raise TrustConfigError("a trusted list needs the certificates of its signers (tl_signers)")
            load_trusted_lists(self.trusted_lists, self.tl_signers)

    @property
    def fingerprint(self) -> str:
        """SHA-256 over everything the validation depends on; equal configs have equal fingerprints."""
        digest = hashlib.sha256()
        for name in ("roots", "trusted_lists", "crls", "tl_signers", "other_certs"):
            digest.update(name.encode())
            for item in getattr(self, name):
                digest.update(len(item).to_bytes(8, "big"))
                digest.update(item)
        digest.update(f"{self.allow_fetching}|{self.revocation_mode}|{self.allow_seals}".encode())
        return digest.hexdigest()

    def with_policy(self, **changes: object) -> TrustConfig:
        """A copy with other policy settings (``allow_seals``, ``revocation_mode``, ``allow_fetching``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_files(
        cls,
        roots: Sequence[StrPath] = (),
        trusted_lists: Sequence[StrPath] = (),
        crls: Sequence[StrPath] = (),
        tl_signers: Sequence[StrPath] = (),
        other_certs: Sequence[StrPath] = (),
        *,
        allow_fetching: bool = False,
        revocation_mode: Literal["hard", "soft"] = "hard",
        allow_seals: bool = False,
    ) -> TrustConfig:
        """Read PEM bundles or DER files (certificates, CRLs) and trusted-list XML files.

        Raises :class:`TrustConfigError` for a missing or unreadable file or an unverifiable list.
        """
        return cls(
            roots=tuple(der for path in roots for der in _read_pem_or_der(path, "CERTIFICATE")),
            trusted_lists=tuple(_read_bytes(path) for path in trusted_lists),
            crls=tuple(der for path in crls for der in _read_pem_or_der(path, "X509 CRL")),
            tl_signers=tuple(der for path in tl_signers for der in _read_pem_or_der(path, "CERTIFICATE")),
            other_certs=tuple(der for path in other_certs for der in _read_pem_or_der(path, "CERTIFICATE")),
            allow_fetching=allow_fetching,
            revocation_mode=revocation_mode,
            allow_seals=allow_seals,
        )


def _read_bytes(path: StrPath) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise TrustConfigError(f"cannot read: {error.strerror}", source=str(path)) from error


def _read_pem_or_der(path: StrPath, pem_type: str) -> list[bytes]:
    """Every object of ``pem_type`` in a PEM bundle, or the one DER object of a DER file."""
    data = _read_bytes(path)
    if not pem.detect(data):
        return [data]
    items = [der for kind, _headers, der in pem.unarmor(data, multiple=True) if kind == pem_type]
    if not items:
        raise TrustConfigError(f"no {pem_type} in the PEM file", source=str(path))
    return items


def _parse_certificate(der: bytes, source: str) -> asn1_x509.Certificate:
    try:
        cert = asn1_x509.Certificate.load(der)
        cert.native  # noqa: B018 - parse the whole structure now, not lazily later
    except (ValueError, TypeError) as error:
        raise TrustConfigError(f"not a DER certificate: {error}", source=source) from error
    return cert


def _parse_crl(der: bytes, source: str) -> asn1_crl.CertificateList:
    try:
        parsed = asn1_crl.CertificateList.load(der)
        parsed.native  # noqa: B018
    except (ValueError, TypeError) as error:
        raise TrustConfigError(f"not a DER CRL: {error}", source=source) from error
    return parsed


@dataclass(frozen=True)
class TrustedListData:
    """The verified content of the configured trusted lists."""

    #: pyHanko's registry of qualified services (CA/QC and QTST), with their status history.
    registry: object  # pyhanko.sign.validation.qualified.tsp.TSPRegistry
    #: The certificates of every CA/QC service that was "granted" at some time: trust anchors.
    ca_certificates: tuple[asn1_x509.Certificate, ...]
    #: Which lists these are: territory, sequence number, issue date (for the validation report).
    lists: tuple[TrustedListInfo, ...] = ()


_tl_cache: dict[str, TrustedListData] = {}
_tl_lock = threading.Lock()


def load_trusted_lists(trusted_lists: tuple[bytes, ...], tl_signers: tuple[bytes, ...]) -> TrustedListData:
    """Verify each list's XML signature against the signer certificates, then parse the signed content.

    The result is cached per content (lists and signers), so a worker verifies a list once.
    """
    from pyhanko.sign.validation.errors import SignatureValidationError

    from portal.signatures.logs import quiet_pyhanko_logging

    quiet_pyhanko_logging()
    from pyhanko.sign.validation.qualified.eutl_parse import trust_list_to_registry
    from pyhanko.sign.validation.qualified.tsp import TSPRegistry, TSPServiceParsingError

    key = hashlib.sha256(b"\0".join([*trusted_lists, b"--", *tl_signers])).hexdigest()
    with _tl_lock:
        cached = _tl_cache.get(key)
    if cached is not None:
        return cached
    signers = [_parse_certificate(der, f"trusted list signer #{i + 1}") for i, der in enumerate(tl_signers)]
    registry = TSPRegistry()
    for index, xml in enumerate(trusted_lists):
        source = f"trusted list #{index + 1}"
        try:
            text = xml.decode("utf-8")
        except UnicodeDecodeError as error:
            raise TrustConfigError("not UTF-8", source=source) from error
        try:
            _registry, _errors = trust_list_to_registry(text, signers, registry=registry)
        except SignatureValidationError as error:
            raise TrustConfigError(f"signature not verified: {error.failure_message}", source=source) from error
        except (TSPServiceParsingError, ValueError, TypeError, AttributeError) as error:
            raise TrustConfigError(f"not a readable ETSI TS 119 612 list: {error}", source=source) from error
    ca_certificates = tuple(
        authority.certificate
        for authority in registry.known_certificate_authorities
        if getattr(authority, "certificate", None) is not None
    )
    data = TrustedListData(
        registry=registry,
        ca_certificates=ca_certificates,
        lists=tuple(_list_info(xml) for xml in trusted_lists),
    )
    with _tl_lock:
        _tl_cache[key] = data
    return data


_TSL = "{http://uri.etsi.org/02231/v2#}"


def _list_info(xml: bytes) -> TrustedListInfo:
    """Territory, sequence number, operator and dates from a list's (verified) scheme information."""
    from datetime import datetime

    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    scheme = etree.fromstring(xml, parser).find(f"{_TSL}SchemeInformation")

    def text(path: str) -> str | None:
        node = scheme.find(path) if scheme is not None else None
        return node.text.strip() if node is not None and node.text else None

    def instant(path: str) -> datetime | None:
        value = text(path)
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
        except ValueError:
            return None

    sequence = text(f"{_TSL}TSLSequenceNumber")
    return TrustedListInfo(
        territory=text(f"{_TSL}SchemeTerritory"),
        sequence_number=int(sequence) if sequence and sequence.isdigit() else None,
        operator=text(f"{_TSL}SchemeOperatorName/{_TSL}Name"),
        issued=instant(f"{_TSL}ListIssueDateTime"),
        next_update=instant(f"{_TSL}NextUpdate/{_TSL}dateTime"),
        sha256=hashlib.sha256(xml).hexdigest(),
    )
