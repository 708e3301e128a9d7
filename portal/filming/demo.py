"""Demonstration data for ``make run``: a few collection points, and an office signing certificate
issued by the demo CA of :mod:`portal.signatures.demo`. Never for production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from portal.extensions import db
from portal.filming.models import CollectionPoint
from portal.filming.points import PointData, save_point
from portal.signatures.demo import ORGANIZATION_IDENTIFIER_OID, QC_STATEMENTS_OID, DemoPKI, ensure_demo_pki

#: The office's own IČO (DOMAIN.md): the organisation identifier in its seal.
OFFICE_ICO = "00025593"

DEMO_POINTS = (
    PointData(
        "PHA01", "Praha 1 (ukázka)", "Vodičkova 681/18, 110 00 Praha 1", "Hlavní město Praha", "Hlavní město Praha", 3
    ),
    PointData(
        "PHA10",
        "Praha 10 (ukázka)",
        "Vinohradská 3218/169, 100 00 Praha 10",
        "Hlavní město Praha",
        "Hlavní město Praha",
        2,
    ),
    PointData("KLA", "Kladno (ukázka)", "Náměstí Starosty Pavla 44, 272 01 Kladno", "Středočeský kraj", "Kladno", 2),
    PointData(
        "CBU",
        "České Budějovice (ukázka)",
        "Náměstí Přemysla Otakara II. 1, 370 01 České Budějovice",
        "Jihočeský kraj",
        "České Budějovice",
        2,
    ),
    PointData("PLZ", "Plzeň (ukázka)", "Náměstí Republiky 1, 301 00 Plzeň", "Plzeňský kraj", "Plzeň-město", 3),
    PointData(
        "KVA", "Karlovy Vary (ukázka)", "Moskevská 2035/21, 361 20 Karlovy Vary", "Karlovarský kraj", "Karlovy Vary", 1
    ),
    PointData(
        "ULA",
        "Ústí nad Labem (ukázka)",
        "Velká Hradební 2336/8, 400 01 Ústí nad Labem",
        "Ústecký kraj",
        "Ústí nad Labem",
        2,
    ),
    PointData("LIB", "Liberec (ukázka)", "Náměstí Dr. E. Beneše 1, 460 01 Liberec", "Liberecký kraj", "Liberec", 2),
    PointData(
        "HKR",
        "Hradec Králové (ukázka)",
        "Československé armády 408, 500 03 Hradec Králové",
        "Královéhradecký kraj",
        "Hradec Králové",
        2,
    ),
    PointData(
        "PCE", "Pardubice (ukázka)", "Pernštýnské náměstí 1, 530 21 Pardubice", "Pardubický kraj", "Pardubice", 2
    ),
    PointData("JIH", "Jihlava (ukázka)", "Masarykovo náměstí 97/1, 586 01 Jihlava", "Kraj Vysočina", "Jihlava", 1),
    PointData(
        "BRN", "Brno-střed (ukázka)", "Dominikánské náměstí 196/1, 602 00 Brno", "Jihomoravský kraj", "Brno-město", 4
    ),
    PointData("OLO", "Olomouc (ukázka)", "Horní náměstí 583, 779 11 Olomouc", "Olomoucký kraj", "Olomouc", 2),
    PointData("ZLN", "Zlín (ukázka)", "Náměstí Míru 12, 760 01 Zlín", "Zlínský kraj", "Zlín", 2),
    PointData(
        "OVA", "Ostrava (ukázka)", "Prokešovo náměstí 8, 729 30 Ostrava", "Moravskoslezský kraj", "Ostrava-město", 3
    ),
)


def seed_demo_points(at: datetime) -> int:
    """The demo points, on a database without any; returns how many were created."""
    if db.session.scalar(select(func.count()).select_from(CollectionPoint)):
        return 0
    for data in DEMO_POINTS:
        save_point(data, staff=None, at=at, actor_label="seed")
    return len(DEMO_POINTS)


def _qc_statements_eseal() -> bytes:
    from pyhanko.sign.ades.qualified_asn1 import QcCertificateType, QcStatements

    return QcStatements(
        [
            {"statement_id": "qc_compliance"},
            {"statement_id": "qc_type", "statement_info": QcCertificateType(["qct_eseal"])},
        ]
    ).dump()


def ensure_office_certificate(folder: Path, *, now: datetime | None = None) -> dict[str, str]:
    """An electronic seal of the office from the demo CA (once); returns the PORTAL_OFFICE_SIGNING_* settings."""
    pki: DemoPKI = ensure_demo_pki(folder, now=now)
    key_path, cert_path = folder / "office-signer.key", folder / "office-signer.pem"
    settings = {"PORTAL_OFFICE_SIGNING_KEY": str(key_path), "PORTAL_OFFICE_SIGNING_CERT": str(cert_path)}
    if key_path.exists() and cert_path.exists():
        return settings
    now = now or datetime.now(UTC)
    root = x509.load_pem_x509_certificate(pki.roots.read_bytes())
    root_key = serialization.load_pem_private_key((folder / "demo-root.key").read_bytes(), password=None)
    assert isinstance(root_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Český statistický úřad"),
            x509.NameAttribute(ORGANIZATION_IDENTIFIER_OID, f"NTRCZ-{OFFICE_ICO}"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Český statistický úřad – povolení (ukázka)"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.UnrecognizedExtension(QC_STATEMENTS_OID, _qc_statements_eseal()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    )
    return settings
