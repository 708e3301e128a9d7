"""A test PKI built in the test run: qualified and non-qualified CAs, leaf signers, a TSA, CRLs and
a signed ETSI TS 119 612 trusted list, plus :func:`sign_pdf` to sign a PDF as an incremental update.

Import it anywhere (integration tests, browser tests, the benchmark)::

    from tests.signatures.pki import sign_pdf, get_test_pki

    signed = sign_pdf(pdf_bytes)                       # qualified natural person, PAdES baseline B
    signed = sign_pdf(pdf_bytes, "seal", timestamp=True)
    trust = get_test_pki().trust_config()              # roots + CRLs + the signed trusted list

or use the session fixture ``test_pki`` (registered in ``tests/conftest.py``).

Signers (``signer_name``): ``qualified`` (natural person, QcCompliance + QcType esign + QcSSCD,
organizationIdentifier NTRCZ-47114983), ``qualified_no_qscd`` (advanced signature on a qualified
certificate: no QcSSCD), ``seal`` (QcType eseal), ``not_qualified`` (non-qualified CA, no
QCStatements), ``no_qc_statements`` (qualified CA, no QCStatements), ``unlisted_ca`` (QCStatements,
but from the non-qualified CA, which is not on the trusted list), ``expired``, ``revoked`` (on the
issuing CA's CRL since 30 days ago), ``withdrawn_ca`` (its CA was "granted" on the list until 60 days
ago, "withdrawn" since), ``untrusted`` (a CA nobody configured), ``no_revocation_info`` (a CA
whose CRL is not configured), ``weak_key`` (RSA-1024: below today's minimum).
"""

from __future__ import annotations

import atexit
import base64
import functools
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal.signatures.trust import TrustConfig

if TYPE_CHECKING:
    from lxml import etree

__all__ = [
    "ORGANISATION_IDENTIFIER",
    "SIGNER_NAMES",
    "Party",
    "TestPKI",
    "append_info_updates",
    "encrypted_pdf",
    "get_test_pki",
    "sign_pdf",
    "test_pki",
    "unsigned_pdf",
]

#: The organisation identifier in the natural person's and the seal's certificates (Czech IČO 47114983).
ORGANISATION_IDENTIFIER = "NTRCZ-47114983"

SIGNER_NAMES = (
    "qualified",
    "qualified_no_qscd",
    "seal",
    "not_qualified",
    "no_qc_statements",
    "unlisted_ca",
    "expired",
    "revoked",
    "withdrawn_ca",
    "untrusted",
    "no_revocation_info",
    "weak_key",
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
_ORGANIZATION_IDENTIFIER_OID = x509.ObjectIdentifier("2.5.4.97")
_TSL_NS = "http://uri.etsi.org/02231/v2#"
_TSL_STATUS = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"
_SVC_INFO_EXT = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"


def _key_usage(*, signing: bool = False, commitment: bool = False, certificates: bool = False) -> x509.KeyUsage:
    """Key usage of a signer (``signing``, with non-repudiation as ``commitment``) or a CA (``certificates``)."""
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificates,
        crl_sign=certificates,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class Party:
    """A key and its certificate."""

    name: str
    key: PrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.der)

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return asn1_keys.PrivateKeyInfo.load(der)

    @property
    def serial_hex(self) -> str:
        return format(self.cert.serial_number, "X")


def _qc_statements(qc_type: str | None, *, sscd: bool) -> bytes:
    from pyhanko.sign.ades.qualified_asn1 import QcCertificateType, QcStatements

    statements: list[dict[str, object]] = [{"statement_id": "qc_compliance"}]
    if sscd:
        statements.append({"statement_id": "qc_sscd"})
    if qc_type is not None:
        statements.append({"statement_id": "qc_type", "statement_info": QcCertificateType([qc_type])})
    return QcStatements(statements).dump()


def _name(common_name: str, *, organisation: str | None = None, org_id: str | None = None, **extra: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if org_id:
        attributes.append(x509.NameAttribute(_ORGANIZATION_IDENTIFIER_OID, org_id))
    for oid_name, value in extra.items():
        attributes.append(x509.NameAttribute(getattr(NameOID, oid_name), value))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


class TestPKI:
    """Everything built once per process; files are written to a temporary folder."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, now: datetime | None = None, folder: Path | None = None) -> None:
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        now = self.now
        self._serial = 1000
        self._keys: Iterator[rsa.RSAPrivateKey] = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in iter(int, 1)
        )

        # --- certificate authorities ---
        self.qualified_root = self._ca("ČSÚ Test Qualified Root CA", None, now - timedelta(days=5 * 365), 15)
        self.qualified_ca = self._ca(
            "ČSÚ Test Qualified Issuing CA", self.qualified_root, now - timedelta(days=4 * 365), 10
        )
        self.withdrawn_ca = self._ca(
            "ČSÚ Test Withdrawn Qualified CA", self.qualified_root, now - timedelta(days=4 * 365), 10
        )
        self.nonqualified_root = self._ca("ČSÚ Test Non-Qualified CA", None, now - timedelta(days=5 * 365), 15)
        self.norevinfo_ca = self._ca("ČSÚ Test CA Without CRL", self.qualified_root, now - timedelta(days=4 * 365), 10)
        self.rogue_root = self._ca("Rogue Test CA", None, now - timedelta(days=5 * 365), 15)
        self.tsa = self._leaf(
            "tsa",
            _name("ČSÚ Test Time-Stamping Authority", organisation="Český statistický úřad"),
            self.qualified_root,
            now - timedelta(days=4 * 365),
            now + timedelta(days=8 * 365),
            qc=None,
            timestamping=True,
        )
        self.tl_signer = self._ca(
            "ČSÚ Test Trusted List Scheme Operator", None, now - timedelta(days=2 * 365), 5, is_ca=False
        )
        self.other_tl_signer = self._ca("Somebody Else's List Signer", None, now - timedelta(days=365), 5, is_ca=False)

        # --- leaf signers ---
        person = {"organisation": "Testovací Média a.s.", "org_id": ORGANISATION_IDENTIFIER}
        valid_from, valid_to = now - timedelta(days=365), now + timedelta(days=2 * 365)
        self.signers: dict[str, Party] = {}
        self._add_signer(
            "qualified",
            _name("Jana Nováková", GIVEN_NAME="Jana", SURNAME="Nováková", **person),
            self.qualified_ca,
            qc=("qct_esign", True),
        )
        self._add_signer(
            "qualified_no_qscd",
            _name("Petr Svoboda", GIVEN_NAME="Petr", SURNAME="Svoboda", **person),
            self.qualified_ca,
            qc=("qct_esign", False),
        )
        self._add_signer("seal", _name("Testovací Média a.s.", **person), self.qualified_ca, qc=("qct_eseal", True))
        self._add_signer("not_qualified", _name("Karel Novák", **person), self.nonqualified_root, qc=None)
        self._add_signer("no_qc_statements", _name("Eva Malá", **person), self.qualified_ca, qc=None)
        self._add_signer("unlisted_ca", _name("Ota Velký", **person), self.nonqualified_root, qc=("qct_esign", True))
        self._add_signer(
            "expired",
            _name("Marie Stará", **person),
            self.qualified_ca,
            qc=("qct_esign", True),
            valid=(now - timedelta(days=3 * 365), now - timedelta(days=365)),
        )
        self._add_signer("revoked", _name("Pavel Zrušený", **person), self.qualified_ca, qc=("qct_esign", True))
        self._add_signer("withdrawn_ca", _name("Jan Odvolaný", **person), self.withdrawn_ca, qc=("qct_esign", True))
        self._add_signer("untrusted", _name("Rogue Signer", **person), self.rogue_root, qc=("qct_esign", True))
        self._add_signer(
            "no_revocation_info", _name("Tomáš Bezcrl", **person), self.norevinfo_ca, qc=("qct_esign", True)
        )
        self._add_signer(
            "weak_key", _name("Slabý Klíč", **person), self.qualified_ca, qc=("qct_esign", True), key_size=1024
        )
        assert set(self.signers) == set(SIGNER_NAMES)
        del valid_from, valid_to

        #: When the ``revoked`` signer's certificate was revoked.
        self.revoked_at = now - timedelta(days=30)
        #: Until when the withdrawn CA was "granted" on the trusted list.
        self.withdrawn_at = now - timedelta(days=60)

        # --- CRLs (the CA without CRL deliberately has none) ---
        self.crls: dict[str, bytes] = {
            "qualified_root": self._crl(self.qualified_root, []),
            "qualified_ca": self._crl(self.qualified_ca, [(self.signers["revoked"], self.revoked_at)]),
            "withdrawn_ca": self._crl(self.withdrawn_ca, []),
            "nonqualified_root": self._crl(self.nonqualified_root, []),
        }

        # --- the trusted list ---
        self.trusted_list_xml = self.build_trusted_list()

        # --- files ---
        self.folder = folder or Path(tempfile.mkdtemp(prefix="portal-test-pki-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.roots_pem_path = self.folder / "roots.pem"
        self.roots_pem_path.write_bytes(self.qualified_root.pem + self.nonqualified_root.pem)
        self.qualified_root_pem_path = self.folder / "qualified-root.pem"
        self.qualified_root_pem_path.write_bytes(self.qualified_root.pem)
        self.crl_paths: tuple[Path, ...] = ()
        for name, der in self.crls.items():
            path = self.folder / f"{name}.crl"
            path.write_bytes(der)
            self.crl_paths += (path,)
        self.trusted_list_path = self.folder / "TSL_TEST.xml"
        self.trusted_list_path.write_bytes(self.trusted_list_xml)
        self.tl_signer_pem_path = self.folder / "tl-signer.pem"
        self.tl_signer_pem_path.write_bytes(self.tl_signer.pem)

    # --- building blocks ---

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial * 7919 + 0x1000000

    def _ca(
        self, common_name: str, issuer: Party | None, not_before: datetime, years: int, *, is_ca: bool = True
    ) -> Party:
        key = next(self._keys)
        subject = _name(common_name, organisation="Test PKI of the portal")
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.cert.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=years * 365))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if is_ca:
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            builder = builder.add_extension(
                _key_usage(certificates=True),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                _key_usage(signing=True, commitment=True),
                critical=True,
            )
        signing_key = issuer.key if issuer else key
        if issuer:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
            )
            builder = builder.add_extension(self._crl_dp(issuer), critical=False)
        return Party(common_name, key, builder.sign(signing_key, hashes.SHA256()))

    @staticmethod
    def _crl_dp(issuer: Party) -> x509.CRLDistributionPoints:
        slug = issuer.cert.serial_number
        url = f"http://crl.pki.invalid/{slug}.crl"  # .invalid: never resolvable, never fetched in tests
        return x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
        )

    def _leaf(
        self,
        name: str,
        subject: x509.Name,
        issuer: Party,
        not_before: datetime,
        not_after: datetime,
        *,
        qc: tuple[str, bool] | None,
        timestamping: bool = False,
        key_size: int = 2048,
        key: PrivateKey | None = None,
    ) -> Party:
        if key is None:
            key = next(self._keys) if key_size == 2048 else rsa.generate_private_key(65537, key_size)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.cert.subject)
            .public_key(key.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
            .add_extension(self._crl_dp(issuer), critical=False)
        )
        if timestamping:
            builder = builder.add_extension(
                _key_usage(signing=True),
                critical=True,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        else:
            builder = builder.add_extension(
                _key_usage(signing=True, commitment=True),
                critical=True,
            )
        if qc is not None:
            qc_type, sscd = qc
            builder = builder.add_extension(
                x509.UnrecognizedExtension(_QC_STATEMENTS_OID, _qc_statements(qc_type, sscd=sscd)), critical=False
            )
        return Party(name, key, builder.sign(issuer.key, hashes.SHA256()))

    def _add_signer(
        self,
        name: str,
        subject: x509.Name,
        issuer: Party,
        *,
        qc: tuple[str, bool] | None,
        valid: tuple[datetime, datetime] | None = None,
        key_size: int = 2048,
    ) -> None:
        not_before, not_after = valid or (self.now - timedelta(days=365), self.now + timedelta(days=2 * 365))
        self.signers[name] = self._leaf(name, subject, issuer, not_before, not_after, qc=qc, key_size=key_size)

    def _crl(self, issuer: Party, revoked: list[tuple[Party, datetime]]) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.cert.subject)
            .last_update(self.now - timedelta(hours=1))
            .next_update(self.now + timedelta(days=60))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        )
        for party, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(party.cert.serial_number)
                .revocation_date(when)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    # --- the trusted list ---

    def build_trusted_list(self, *, signer: Party | None = None, tamper: bool = False) -> bytes:
        """The test list (ETSI TS 119 612 v5), XAdES-signed by ``signer`` (default: the list operator).

        ``tamper`` changes the signed content after signing (the signature no longer verifies).
        """
        from lxml import etree
        from signxml.xades import XAdESSigner

        root = _tsl_element(None, "TrustServiceStatusList", TSLTag="http://uri.etsi.org/19612/TSLTag", Id="tsl-test")
        scheme = _tsl_element(root, "SchemeInformation")
        _tsl_element(scheme, "TSLVersionIdentifier", "5")
        _tsl_element(scheme, "TSLSequenceNumber", "1")
        _tsl_element(scheme, "TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric")
        _tsl_name(scheme, "SchemeOperatorName", "ČSÚ test scheme operator")
        _tsl_name(scheme, "SchemeName", "CZ: Test trusted list of the media portal")
        _tsl_element(scheme, "SchemeTerritory", "CZ")
        _tsl_element(scheme, "HistoricalInformationPeriod", "65535")
        _tsl_element(scheme, "ListIssueDateTime", _iso(self.now - timedelta(days=1)))
        next_update = _tsl_element(scheme, "NextUpdate")
        _tsl_element(next_update, "dateTime", _iso(self.now + timedelta(days=180)))

        tsp_list = _tsl_element(root, "TrustServiceProviderList")

        def provider(name: str, services: list[etree._Element]) -> None:
            tsp = _tsl_element(tsp_list, "TrustServiceProvider")
            info = _tsl_element(tsp, "TSPInformation")
            _tsl_name(info, "TSPName", name)
            container = _tsl_element(tsp, "TSPServices")
            for service in services:
                container.append(service)

        ca_qc = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
        qtst = "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST"
        provider(
            "ČSÚ Test Trust Services",
            [
                _tsl_service(
                    self.qualified_ca,
                    ca_qc,
                    "granted",
                    self.now - timedelta(days=4 * 365),
                    cert_types=("ForeSignatures", "ForeSeals"),
                ),
                _tsl_service(
                    self.norevinfo_ca,
                    ca_qc,
                    "granted",
                    self.now - timedelta(days=4 * 365),
                    cert_types=("ForeSignatures", "ForeSeals"),
                ),
                _tsl_service(
                    self.withdrawn_ca,
                    ca_qc,
                    "withdrawn",
                    self.now - timedelta(days=60),
                    cert_types=("ForeSignatures",),
                    history=(("granted", self.now - timedelta(days=4 * 365)),),
                ),
                _tsl_service(self.tsa, qtst, "granted", self.now - timedelta(days=4 * 365)),
            ],
        )

        signer = signer or self.tl_signer
        signer_pem = signer.pem.decode()
        signed = XAdESSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
            root, key=signer.key, cert=[signer_pem]
        )
        xml = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        if tamper:
            xml = xml.replace(b"CZ: Test trusted list", b"CZ: Tampered trusted list")
        return xml

    # --- what tests use ---

    @property
    def roots(self) -> tuple[bytes, ...]:
        return (self.qualified_root.der, self.nonqualified_root.der)

    def signer(self, name: str = "qualified") -> Party:
        return self.signers[name]

    def trust_config(self, **overrides: object) -> TrustConfig:
        """Roots (qualified + non-qualified), every CRL, the signed test trusted list and its signer.

        Override any field, e.g. ``trusted_lists=()`` for QCStatements-only qualification,
        ``crls=()`` for missing revocation information, ``allow_seals=True``.
        """
        fields: dict[str, object] = {
            "roots": self.roots,
            "trusted_lists": (self.trusted_list_xml,),
            "crls": tuple(self.crls.values()),
            "tl_signers": (self.tl_signer.der,),
        }
        if overrides.get("trusted_lists") == () and "tl_signers" not in overrides:
            fields["tl_signers"] = ()
        fields.update(overrides)
        return TrustConfig(**fields)  # type: ignore[arg-type]

    def portal_config(self) -> dict[str, object]:
        """The portal's PORTAL_TRUST_* settings pointing at this PKI's files."""
        return {
            "PORTAL_TRUST_ROOTS": (str(self.roots_pem_path),),
            "PORTAL_TRUST_LISTS": (str(self.trusted_list_path),),
            "PORTAL_TRUST_LIST_SIGNERS": (str(self.tl_signer_pem_path),),
            "PORTAL_TRUST_CRLS": tuple(str(path) for path in self.crl_paths),
        }

    def sign_pdf(
        self,
        pdf: bytes,
        signer_name: str = "qualified",
        *,
        timestamp: bool = False,
        signing_time: datetime | None = None,
        timestamp_time: datetime | None = None,
        field_name: str | None = None,
        certify: bool = False,
        party: Party | None = None,
        tsa: Party | None = None,
        pss: bool = False,
        cms_revinfo: bool = False,
        box: tuple[int, int, int, int] | None = None,
    ) -> bytes:
        """Sign ``pdf`` as an incremental update (PAdES baseline B, or B-T with ``timestamp``).

        ``signing_time`` is the claimed time (default now); ``timestamp_time`` the token's time
        (default ``signing_time``, else now). ``party`` signs instead of the named signer (e.g. an
        ECDSA key), ``tsa`` stamps instead of the test TSA, ``pss`` signs with RSASSA-PSS,
        ``cms_revinfo`` embeds the CRLs in the CMS (``adbe-revocationInfoArchival``, with the
        adbe.pkcs7.detached sub-filter that requires), ``box`` makes the signature visible there.
        """
        import asyncio

        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from pyhanko.sign.fields import SigSeedSubFilter
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        party = party or self.signers[signer_name]
        issuer_chain = self._chain_of(party)
        signer = signers.SimpleSigner(
            signing_cert=party.asn1_cert,
            signing_key=party.asn1_key,
            cert_registry=SimpleCertificateStore.from_certs([p.asn1_cert for p in issuer_chain]),
            prefer_pss=pss,
        )
        timestamper = None
        if timestamp:
            stamper = tsa or self.tsa
            timestamper = DummyTimeStamper(
                tsa_cert=stamper.asn1_cert,
                tsa_key=stamper.asn1_key,
                certs_to_embed=SimpleCertificateStore.from_certs([p.asn1_cert for p in self._chain_of(stamper)]),
                fixed_dt=timestamp_time or signing_time or datetime.now(UTC),
            )
        with _signing_lock:
            self._field_counter = getattr(self, "_field_counter", 0) + 1
            name = field_name or f"Signature{self._field_counter}"
        validation_context = None
        if cms_revinfo:
            from asn1crypto import crl as asn1_crl
            from pyhanko_certvalidator import ValidationContext

            validation_context = ValidationContext(
                trust_roots=[self.qualified_root.asn1_cert],
                crls=[asn1_crl.CertificateList.load(der) for der in self.crls.values()],
                allow_fetching=False,
                moment=signing_time,
            )
        meta = signers.PdfSignatureMetadata(
            field_name=name,
            subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED if cms_revinfo else SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            certify=certify,
            embed_validation_info=cms_revinfo,
            validation_context=validation_context,
        )
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        field_spec = None
        if box is not None:
            from pyhanko.sign.fields import SigFieldSpec

            field_spec = SigFieldSpec(name, box=box)
        pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper, new_field_spec=field_spec)

        async def run() -> bytes:
            session = pdf_signer.init_signing_session(writer)
            if signing_time is not None:
                session.system_time = signing_time
            validation_info = await session.perform_presign_validation(writer)
            reserved = await session.estimate_signature_container_size(validation_info, tight=False)
            tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=reserved)
            digest, output = tbs.digest_tbs_document(in_place=False, chunk_size=4096, output=None)
            from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

            post = await tbs.perform_signature(
                document_digest=digest.document_digest,
                pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                    signing_time=session.system_time,
                    adobe_revinfo_attr=None if validation_info is None else validation_info.adobe_revinfo_attr,
                ),
            )
            await post.post_signature_processing(output, chunk_size=4096)
            output.seek(0)
            return output.read()

        return asyncio.run(run())

    def add_dss(self, signed: bytes) -> bytes:
        """Append validation data (a DSS with the chain and the CRLs) for the last signature."""
        from asn1crypto import crl as asn1_crl
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation.dss import DocumentSecurityStore

        reader = PdfFileReader(BytesIO(signed), strict=False)
        contents = reader.embedded_regular_signatures[-1].pkcs7_content
        out = BytesIO(signed)
        DocumentSecurityStore.add_dss(
            out,
            contents,
            certs=[self.qualified_root.asn1_cert, self.qualified_ca.asn1_cert],
            crls=[asn1_crl.CertificateList.load(der) for der in self.crls.values()],
            strict=False,
        )
        return out.getvalue()

    def add_document_timestamp(
        self, signed: bytes, at: datetime | None = None, *, tsa: Party | None = None, field_name: str = "DocTimeStamp1"
    ) -> bytes:
        """Append a document timestamp (PAdES-LTA style) by the test TSA (or ``tsa``), in a new field
        or in the existing empty field ``field_name``."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign.signers.pdf_signer import PdfTimeStamper, TimestampDSSContentSettings
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        stamper = tsa or self.tsa
        timestamper = DummyTimeStamper(
            tsa_cert=stamper.asn1_cert,
            tsa_key=stamper.asn1_key,
            certs_to_embed=SimpleCertificateStore.from_certs([p.asn1_cert for p in self._chain_of(stamper)]),
            fixed_dt=at or datetime.now(UTC),
        )
        writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
        out = PdfTimeStamper(timestamper, field_name=field_name).timestamp_pdf(
            writer, "sha256", dss_settings=TimestampDSSContentSettings(include_vri=False, skip_if_unneeded=True)
        )
        return out.getvalue()

    @staticmethod
    def change_page_text(pdf: bytes, old: bytes = b"line 1:", new: bytes = b"LINE 9:") -> bytes:
        """Append an incremental update that rewrites the first page's content stream."""
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        content = page["/Contents"]
        stream = generic.StreamObject(stream_data=content.data.replace(old, new))
        page["/Contents"] = writer.add_object(stream)
        writer.update_container(page)
        writer.mark_update(page_ref)
        out = BytesIO()
        writer.write(out)
        return out.getvalue()

    def _chain_of(self, party: Party) -> list[Party]:
        """The issuing CAs of ``party`` up to its root."""
        every = [
            self.qualified_root,
            self.qualified_ca,
            self.withdrawn_ca,
            self.nonqualified_root,
            self.norevinfo_ca,
            self.rogue_root,
        ]
        chain: list[Party] = []
        current = party
        while current.cert.issuer != current.cert.subject:
            issuer = next(p for p in every if p.cert.subject == current.cert.issuer)
            chain.append(issuer)
            current = issuer
        return chain


# --- the trusted list's XML (ETSI TS 119 612) ---


def _tsl_element(parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """An element in the trusted-list namespace (a root when ``parent`` is None)."""
    from lxml import etree

    node = etree.Element(f"{{{_TSL_NS}}}{tag}", nsmap={None: _TSL_NS}) if parent is None else None
    if node is None:
        node = etree.SubElement(parent, f"{{{_TSL_NS}}}{tag}")
    for key, value in attrs.items():
        node.set(key.replace("_", ":") if key == "xml_lang" else key, value)
    if text is not None:
        node.text = text
    return node


def _tsl_name(parent: etree._Element, tag: str, text: str) -> None:
    """``tag`` holding one English ``Name``."""
    container = _tsl_element(parent, tag)
    name = _tsl_element(container, "Name", text)
    name.set("{http://www.w3.org/XML/1998/namespace}lang", "en")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tsl_service_information(
    parent: etree._Element,
    tag: str,
    party: Party,
    service_type: str,
    status: str,
    since: datetime,
    cert_types: tuple[str, ...],
) -> etree._Element:
    """A service's information (``ServiceInformation``) or one of its earlier states
    (``ServiceHistoryInstance``)."""
    el = _tsl_element
    info = el(parent, tag)
    el(info, "ServiceTypeIdentifier", service_type)
    _tsl_name(info, "ServiceName", party.name)
    identity = el(el(info, "ServiceDigitalIdentity"), "DigitalId")
    el(identity, "X509Certificate", base64.b64encode(party.der).decode())
    el(info, "ServiceStatus", _TSL_STATUS + status)
    el(info, "StatusStartingTime", _iso(since))
    if cert_types:
        extensions = el(info, "ServiceInformationExtensions")
        for cert_type in cert_types:
            extension = el(extensions, "Extension", Critical="false")
            additional = el(extension, "AdditionalServiceInformation")
            uri = el(additional, "URI", _SVC_INFO_EXT + cert_type)
            uri.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return info


def _tsl_service(
    party: Party,
    service_type: str,
    status: str,
    since: datetime,
    *,
    cert_types: tuple[str, ...] = (),
    history: tuple[tuple[str, datetime], ...] = (),
) -> etree._Element:
    """A ``TSPService`` for ``party``'s certificate, with its earlier states in ``history``."""
    from lxml import etree

    node = etree.Element(f"{{{_TSL_NS}}}TSPService")
    _tsl_service_information(node, "ServiceInformation", party, service_type, status, since, cert_types)
    if history:
        history_node = _tsl_element(node, "ServiceHistory")
        for old_status, old_since in history:
            _tsl_service_information(
                history_node, "ServiceHistoryInstance", party, service_type, old_status, old_since, cert_types
            )
    return node


_signing_lock = threading.Lock()
_pki_lock = threading.Lock()


def get_test_pki() -> TestPKI:
    """The process-wide test PKI (built on first use; its files are removed at exit)."""
    with _pki_lock:
        return _build_test_pki()


@functools.cache
def _build_test_pki() -> TestPKI:
    pki = TestPKI()
    atexit.register(shutil.rmtree, pki.folder, ignore_errors=True)
    return pki


def sign_pdf(
    pdf: bytes, signer_name: str = "qualified", *, timestamp: bool = False, signing_time: datetime | None = None
) -> bytes:
    """Sign ``pdf`` with a signer of the process-wide test PKI (see :meth:`TestPKI.sign_pdf`)."""
    return get_test_pki().sign_pdf(pdf, signer_name, timestamp=timestamp, signing_time=signing_time)


def unsigned_pdf(pages: int = 3, title: str = "Application for access to the results server") -> bytes:
    """A small unsigned PDF of a few pages, made with pyHanko's writer (no other generator needed)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.font.basic import get_courier
    from pyhanko.pdf_utils.writer import PdfFileWriter

    writer = PdfFileWriter()
    font_ref = writer.add_object(get_courier(writer))
    for page_number in range(1, pages + 1):
        lines = [f"({title} - page {page_number}) Tj"]
        lines += [f"0 -14 Td (line {n}: 192.0.2.{n} 198.51.100.{n}) Tj" for n in range(1, 40)]
        body = "BT /F1 10 Tf 50 780 Td " + " ".join(lines) + " ET"
        stream_ref = writer.add_object(generic.StreamObject(stream_data=body.encode()))
        page = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Page"),
                generic.pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 595, 842)]),
                generic.pdf_name("/Resources"): generic.DictionaryObject(
                    {generic.pdf_name("/Font"): generic.DictionaryObject({generic.pdf_name("/F1"): font_ref})}
                ),
                generic.pdf_name("/Contents"): stream_ref,
            }
        )
        writer.insert_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def append_info_updates(pdf: bytes, count: int) -> bytes:
    """Append ``count`` tiny incremental updates (each a new document info dictionary), written by
    hand: a file with many revisions, each of which costs the validator a difference analysis."""
    import re

    out = bytearray(pdf)
    previous = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    number = max(int(size) for size in re.findall(rb"/Size (\d+)", pdf))
    root = re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1]
    for index in range(count):
        object_at = len(out)
        out += b"%d 0 obj\n<< /Producer (update %d) >>\nendobj\n" % (number, index)
        xref_at = len(out)
        out += b"xref\n%d 1\n%010d 00000 n \ntrailer\n" % (number, object_at)
        out += b"<< /Size %d /Prev %d /Root %s /Info %d 0 R >>\n" % (number + 1, previous, root, number)
        out += b"startxref\n%d\n%%%%EOF\n" % xref_at
        previous = xref_at
    return bytes(out)


def encrypted_pdf(pages: int = 1) -> bytes:
    """An AES-256 encrypted PDF (user password "secret")."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(BytesIO(unsigned_pdf(pages)), strict=False))
    writer.encrypt("owner-secret", "secret")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="session")
def test_pki() -> TestPKI:
    """The test PKI (session-wide): ``.trust_config()``, ``.sign_pdf()``, file paths, signers."""
    return get_test_pki()
