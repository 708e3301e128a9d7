"""A demonstration PKI for ``make run``: a "qualified" CA that exists only on this machine, one
qualified signer for the demo outlet, and signing of a downloaded application with it.

Never configure these roots in production: the private keys sit in plain files under ``var/``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
ORGANIZATION_IDENTIFIER_OID = x509.ObjectIdentifier("2.5.4.97")
#: The demo outlet seeded by ``portal seed demo``.
DEMO_ICO = "26439395"


@dataclass(frozen=True)
class DemoPKI:
    folder: Path

    @property
    def roots(self) -> Path:
        return self.folder / "demo-roots.pem"

    @property
    def crl(self) -> Path:
        return self.folder / "demo-root.crl"

    @property
    def signer_certificate(self) -> Path:
        return self.folder / "demo-signer.pem"

    @property
    def signer_key(self) -> Path:
        return self.folder / "demo-signer.key"

    @property
    def trusted_list(self) -> Path:
        """A demo ETSI TS 119 612 list naming the demo CA as a granted CA/QC service."""
        return self.folder / "demo-tsl.xml"

    @property
    def tl_signer(self) -> Path:
        return self.folder / "demo-tl-signer.pem"

    def verify_arguments(self) -> list[str]:
        """The ``portal verify-signature`` options that trust this demo CA and its list."""
        return [
            "--trust-roots",
            str(self.roots),
            "--crl",
            str(self.crl),
            "--trust-list",
            str(self.trusted_list),
            "--tl-signer",
            str(self.tl_signer),
        ]

    def environment(self) -> dict[str, str]:
        """The PORTAL_* settings that make the portal trust this demo CA."""
        return {"PORTAL_TRUST_ROOTS": str(self.roots), "PORTAL_TRUST_CRLS": str(self.crl)}


def _qc_statements_esign() -> bytes:
    from pyhanko.sign.ades.qualified_asn1 import QcCertificateType, QcStatements

    return QcStatements(
        [
            {"statement_id": "qc_compliance"},
            {"statement_id": "qc_type", "statement_info": QcCertificateType(["qct_esign"])},
        ]
    ).dump()


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_demo_pki(folder: Path, *, now: datetime | None = None) -> DemoPKI:
    """Create the demo CA, its (empty) CRL and the demo signer once; later calls reuse them."""
    pki = DemoPKI(folder)
    if pki.roots.exists() and pki.signer_key.exists() and pki.crl.exists():
        if not pki.trusted_list.exists() or not pki.tl_signer.exists():
            _write_demo_list(pki, now or datetime.now(UTC))
        return pki
    folder.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    root_key, signer_key = _key(), _key()
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo CA (jen pro ukázku, neplatná)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Demo kvalifikovaná CA"),
        ]
    )
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo zpravodajství s.r.o."),
            x509.NameAttribute(ORGANIZATION_IDENTIFIER_OID, f"NTRCZ-{DEMO_ICO}"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Jana Nováková"),
        ]
    )
    signer = (
        x509.CertificateBuilder()
        .subject_name(signer_name)
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.UnrecognizedExtension(QC_STATEMENTS_OID, _qc_statements_esign()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_name)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=3650))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pki.roots.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    pki.crl.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    pki.signer_certificate.write_bytes(signer.public_bytes(serialization.Encoding.PEM))
    pki.signer_key.write_bytes(_pem_key(signer_key))
    pki.signer_key.chmod(0o600)
    (folder / "demo-root.key").write_bytes(_pem_key(root_key))
    (folder / "demo-root.key").chmod(0o600)
    _write_demo_list(pki, now)
    return pki


_TSL_NS = "http://uri.etsi.org/02231/v2#"


def _write_demo_list(pki: DemoPKI, now: datetime) -> None:
    """A trusted list (sequence number 1, territory CZ) with the demo CA as a granted CA/QC service
    for signatures, XAdES-signed by a demo list operator key made here."""
    import base64

    from lxml import etree
    from signxml.xades import XAdESSigner

    root_cert = x509.load_pem_x509_certificate(pki.roots.read_bytes())
    key = _key()
    operator = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Demo správce seznamu (jen pro ukázku)"),
        ]
    )
    signer = (
        x509.CertificateBuilder()
        .subject_name(operator)
        .issuer_name(operator)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )

    def el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        node = etree.SubElement(parent, f"{{{_TSL_NS}}}{tag}")
        node.text = text
        return node

    def named(parent: etree._Element, tag: str, text: str) -> None:
        name = el(el(parent, tag), "Name", text)
        name.set("{http://www.w3.org/XML/1998/namespace}lang", "en")

    def iso(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    tsl = etree.Element(f"{{{_TSL_NS}}}TrustServiceStatusList", nsmap={None: _TSL_NS})
    tsl.set("TSLTag", "http://uri.etsi.org/19612/TSLTag")
    tsl.set("Id", "tsl-demo")
    scheme = el(tsl, "SchemeInformation")
    el(scheme, "TSLVersionIdentifier", "5")
    el(scheme, "TSLSequenceNumber", "1")
    el(scheme, "TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric")
    named(scheme, "SchemeOperatorName", "Demo scheme operator (not valid)")
    named(scheme, "SchemeName", "CZ: demo trusted list of the media portal")
    el(scheme, "SchemeTerritory", "CZ")
    el(scheme, "HistoricalInformationPeriod", "65535")
    el(scheme, "ListIssueDateTime", iso(now - timedelta(days=1)))
    el(el(scheme, "NextUpdate"), "dateTime", iso(now + timedelta(days=3650)))
    provider = el(el(tsl, "TrustServiceProviderList"), "TrustServiceProvider")
    named(el(provider, "TSPInformation"), "TSPName", "Demo CA")
    info = el(el(el(provider, "TSPServices"), "TSPService"), "ServiceInformation")
    el(info, "ServiceTypeIdentifier", "http://uri.etsi.org/TrstSvc/Svctype/CA/QC")
    named(info, "ServiceName", "Demo kvalifikovaná CA")
    identity = el(el(info, "ServiceDigitalIdentity"), "DigitalId")
    el(identity, "X509Certificate", base64.b64encode(root_cert.public_bytes(serialization.Encoding.DER)).decode())
    el(info, "ServiceStatus", "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted")
    el(info, "StatusStartingTime", iso(now - timedelta(days=1)))
    extension = el(el(info, "ServiceInformationExtensions"), "Extension")
    extension.set("Critical", "false")
    uri = el(
        el(extension, "AdditionalServiceInformation"),
        "URI",
        "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures",
    )
    uri.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    signed = XAdESSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
        tsl, key=key, cert=[signer.public_bytes(serialization.Encoding.PEM).decode()]
    )
    pki.trusted_list.write_bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    pki.tl_signer.write_bytes(signer.public_bytes(serialization.Encoding.PEM))


def sign_with_demo_signer(pdf: bytes, pki: DemoPKI) -> bytes:
    """Sign ``pdf`` as an incremental update with the demo signer (PAdES baseline B)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    signer = signers.SimpleSigner.load(
        str(pki.signer_key), str(pki.signer_certificate), ca_chain_files=[str(pki.roots)]
    )
    if signer is None:
        raise ValueError(f"cannot load the demo signer from {pki.folder}")
    meta = signers.PdfSignatureMetadata(field_name="Podpis", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256")
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    output = asyncio.run(signers.async_sign_pdf(writer, meta, signer=signer))
    return output.getvalue()
