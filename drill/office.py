"""The office before election night: the portal's settings for the drill, and the set-up an admin would do.

``portal_environment`` makes everything the portal needs in a work folder (a test PKI whose qualified
signer signs the outlets' PDFs, the office's seal for filming permits, a data-box "ISDS" signer, the
allowlist key) and returns the ``PORTAL_*`` environment for gunicorn, the outbox sender and the set-up.
``set_up_office`` seeds the database in-process with the portal's own services: staff with a second
factor, the outlets and their API tokens, collection points, and the election built from the plan.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from drill.plan import Plan

if TYPE_CHECKING:
    from portal.accounts.models import Role, User

#: ~30 outlets and the office sign in from the drill host's one address within half a minute; in
#: production each outlet comes from its own. Per address and endpoint (the POSTs of /login), per worker.
LOGIN_RATE_LIMIT = "60 per minute;300 per hour"
#: Per token: the firewall agents and feed proxies poll with the one ops token.
API_RATE_LIMIT = "3000 per minute"
STAFF_DOMAIN = "office.drill.example"
#: How the audit log names the set-up's own changes.
SET_UP_LABEL = "drill set-up"
ORGANISATION_ADDRESS = "Vinohradská 1, 120 00 Praha 2"
#: Collection points for filming permits: (code, name, address, region, district, capacity).
POINTS = (
    ("DRL-PHA1", "Praha 1 (drill)", "Vodičkova 681/18, 110 00 Praha 1", "Hlavní město Praha", "Hlavní město Praha", 3),
    ("DRL-BRN", "Brno-střed (drill)", "Dominikánské náměstí 196/1, 602 00 Brno", "Jihomoravský kraj", "Brno-město", 2),
    ("DRL-OVA", "Ostrava (drill)", "Prokešovo náměstí 8, 729 30 Ostrava", "Moravskoslezský kraj", "Ostrava-město", 2),
    ("DRL-PLZ", "Plzeň (drill)", "Náměstí Republiky 1, 301 00 Plzeň", "Plzeňský kraj", "Plzeň-město", 2),
)


@dataclass(frozen=True)
class OutletAccount:
    index: int
    email: str
    password: str
    token: str  #: the outlet's API token (csu_...)
    organisation_id: int
    user_id: int


@dataclass(frozen=True)
class StaffAccount:
    email: str
    password: str
    totp_secret: str
    role: str

    def totp_code(self, at: datetime | None = None) -> str:
        """A code for the step after the current one: accepted (window +-1) and never a replay of the
        code used at enrolment in the same step."""
        totp = pyotp.TOTP(self.totp_secret)
        return totp.generate_otp(totp.timecode(at or datetime.now(UTC)) + 1)


@dataclass(frozen=True)
class DataboxSigner:
    """The test stand-in for the data-box system (ISDS): it signs .zfo messages; the portal trusts its root."""

    certificate: Path
    key: Path
    root: Path


@dataclass
class Office:
    election: str
    reviewer: StaffAccount
    admin: StaffAccount
    ops: StaffAccount
    reviewer_token: str
    #: The firewall agent's token: allowlist:read and allowlist:report, nothing else.
    ops_token: str
    #: The feed proxy's token: allowlist:read only.
    proxy_token: str
    outlets: dict[int, OutletAccount]  #: by ``Outlet.index``
    allowlist_public_key_pem: bytes
    allowlist_public_key_path: Path
    collection_points: tuple[str, ...]
    #: The demo qualified CA of :mod:`portal.signatures.demo`: its signer signs the outlets' PDFs.
    pki_folder: Path
    databox: DataboxSigner
    #: When the set-up committed, and how long it took (seconds).
    set_up_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    set_up_seconds: float = 0.0

    @property
    def public_key_pem(self) -> bytes:
        """The allowlist's Ed25519 public key (PEM), for the firewall agents and the feed proxies."""
        return self.allowlist_public_key_pem

    # The reviewer's fields, by the names the brief uses.
    @property
    def reviewer_email(self) -> str:
        return self.reviewer.email

    @property
    def reviewer_password(self) -> str:
        return self.reviewer.password

    @property
    def reviewer_totp_secret(self) -> str:
        return self.reviewer.totp_secret


# --- the environment ---------------------------------------------------------------------------------


def _secret_file(path: Path, make: Callable[[], bytes]) -> Path:
    if not path.exists():
        path.write_bytes(make())
        path.chmod(0o600)
    return path


def _allowlist_key(folder: Path) -> Path:
    def make() -> bytes:
        return Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    key_path = _secret_file(folder / "allowlist-key.pem", make)
    public = folder / "allowlist-public.pem"
    if not public.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{key_path} is not an Ed25519 private key")
        public.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return key_path


def _certificate(
    subject: x509.Name, public_key: rsa.RSAPublicKey, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey, *, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(not ca, not ca, False, False, False, ca, ca, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def ensure_databox_signer(folder: Path) -> DataboxSigner:
    """A test root and the "ISDS" certificate it issues (once); the portal trusts the root for .zfo messages."""
    signer = DataboxSigner(folder / "databox-signer.pem", folder / "databox-signer.key", folder / "databox-root.pem")
    if signer.certificate.exists() and signer.key.exists() and signer.root.exists():
        return signer
    folder.mkdir(parents=True, exist_ok=True)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Drill ISDS CA (test only)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Drill ISDS Root"),
        ]
    )
    root = _certificate(root_name, root_key.public_key(), root_name, root_key, ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Digitální a informační agentura (drill)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Informační systém datových schránek (drill)"),
        ]
    )
    certificate = _certificate(name, key.public_key(), root_name, root_key, ca=False)
    signer.root.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    signer.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    signer.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    signer.key.chmod(0o600)
    return signer


def portal_environment(workdir: Path, database_url: str, smtp_port: int, base_url: str) -> dict[str, str]:
    """The ``PORTAL_*`` environment of every portal process of the drill; makes the keys under ``workdir``.

    ``PORTAL_ENV=development``: production marks the session cookie Secure, and the drill talks plain
    HTTP to 127.0.0.1, so the outlets' and the office's browser sessions would never come back. Every
    other production requirement is met (own secret key, PostgreSQL, a configured allowlist key,
    argon2 rfc9106-low-memory, SMTP delivery) and the rest is real: trust roots, office seal, outbox.
    """
    from portal.filming.demo import ensure_office_certificate
    from portal.signatures.demo import ensure_demo_pki

    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    pki_folder = workdir / "pki"
    pki = ensure_demo_pki(pki_folder)
    office_seal = ensure_office_certificate(pki_folder)
    databox = ensure_databox_signer(pki_folder)
    secret_key = _secret_file(workdir / "secret-key", lambda: secrets.token_urlsafe(48).encode())
    return {
        "PORTAL_ENV": "development",
        "PORTAL_SECRET_KEY": secret_key.read_text().strip(),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BASE_URL": base_url.rstrip("/"),
        "PORTAL_MAIL_BACKEND": "smtp",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(smtp_port),
        "PORTAL_SMTP_STARTTLS": "false",
        "PORTAL_OUTBOX_DELIVER_AFTER_COMMIT": "false",
        "PORTAL_LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT,
        "PORTAL_API_RATE_LIMIT": API_RATE_LIMIT,
        "PORTAL_ALLOWLIST_KEY": str(_allowlist_key(workdir)),
        **pki.environment(),  # PORTAL_TRUST_ROOTS, PORTAL_TRUST_CRLS
        **office_seal,  # PORTAL_OFFICE_SIGNING_KEY, PORTAL_OFFICE_SIGNING_CERT
        "PORTAL_DATABOX_ROOTS": str(databox.root),
        "PORTAL_SIGNATURE_FETCHING": "false",
    }


# --- the set-up --------------------------------------------------------------------------------------


def _floor_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def round_plans(plan: Plan) -> list[tuple[datetime, datetime, datetime, datetime]]:
    """(voting starts, voting ends, processing starts, live ends) per round.

    Polls open on the whole minute of the deadline (round 1) or of the previous round's end, and close
    when processing starts: whole minutes, so that staff can type a permit window covering them.
    """
    rounds = []
    opens = _floor_minute(plan.schedule.applications_close_at)
    for start, end in plan.schedule.live:
        rounds.append((opens, start, start, end))
        opens = _floor_minute(end)
    return rounds


def _staff(email: str, role: Role, at: datetime) -> tuple[User, StaffAccount]:
    """A staff account with its second factor enrolled (a code of the current step, as the enrol page)."""
    from portal.accounts import service as accounts

    password = secrets.token_urlsafe(18)
    user = accounts.create_staff(email=email, role=role, password=password, language="cs", at=at)
    secret = accounts.new_totp_secret()
    accounts.enrol_second_factor(user, secret, pyotp.TOTP(secret).at(at), at=at)
    return user, StaffAccount(email, password, secret, role.value)


def set_up_office(env: dict[str, str], plan: Plan) -> Office:
    """Seed the drill's database as the office's admin would, in-process, through the portal's services
    (which write their audit events), as one unit of work."""
    import time

    from portal import create_app, unit_of_work
    from portal.access import allowlist
    from portal.access import service as decisions
    from portal.accounts import service as accounts
    from portal.accounts.models import Role
    from portal.accounts.policy import Scope
    from portal.api import service as tokens
    from portal.config import settings_from_environment
    from portal.elections.models import ElectionKind, ElectionStatus
    from portal.elections.prague import to_prague
    from portal.elections.service import ElectionPlan, RoundPlan, add_election
    from portal.extensions import db
    from portal.filming.points import PointData, save_point
    from portal.filming.service import set_requests_close_at

    started = time.monotonic()
    app = create_app(settings_from_environment(env))
    with app.app_context(), unit_of_work.transaction():
        now = datetime.now(UTC)
        admin_user, admin = _staff(f"admin@{STAFF_DOMAIN}", Role.ADMIN, now)
        reviewer_user, reviewer = _staff(f"reviewer@{STAFF_DOMAIN}", Role.REVIEWER, now)
        ops_user, ops = _staff(f"ops@{STAFF_DOMAIN}", Role.OPS, now)
        reviewer_token = tokens.mint(
            reviewer_user,
            "drill reviewer",
            lifetime_days=30,
            second_factor_passed=True,
            at=now,
        ).secret
        # Machines get allowlist-only tokens, as the deployment guide tells ops: a stolen host token
        # cannot touch an outlet's application.
        ops_token = tokens.mint(
            ops_user,
            "drill firewall agent",
            lifetime_days=30,
            second_factor_passed=True,
            at=now,
            scopes=[Scope.ALLOWLIST_READ, Scope.ALLOWLIST_REPORT],
        ).secret
        proxy_token = tokens.mint(
            ops_user,
            "drill feed proxy",
            lifetime_days=30,
            second_factor_passed=True,
            at=now,
            scopes=[Scope.ALLOWLIST_READ],
        ).secret

        # The plan's addresses are documentation ranges: the admin's switch for demonstrations and tests.
        decisions.update_address_settings(
            allow_documentation=True,
            allow_ipv6=True,
            map_ipv4_mapped=False,
            staff=admin_user,
            at=now,
        )

        outlets: dict[int, OutletAccount] = {}
        for outlet in plan.outlets:
            password = secrets.token_urlsafe(15)
            user = accounts.sign_up(
                organisation_name=outlet.name,
                ico=outlet.ico,
                address=ORGANISATION_ADDRESS,
                website=f"https://{outlet.email.split('@')[0]}.drill.example",
                email=outlet.email,
                password=password,
                language="cs",
                at=now,
                actor_label=SET_UP_LABEL,
            )
            accounts.confirm_email(user, at=now)  # as if the outlet had followed the link
            token = tokens.mint(user, "drill newsroom script", lifetime_days=30, second_factor_passed=False, at=now)
            assert user.organisation_id is not None
            outlets[outlet.index] = OutletAccount(
                outlet.index, outlet.email, password, token.secret, user.organisation_id, user.id
            )

        for code, name, address, region, district, capacity in POINTS:
            save_point(PointData(code, name, address, region, district, capacity), staff=admin_user, at=now)

        # Deadlines are Prague days (their end) for the office; the drill's close at exact instants.
        rounds = round_plans(plan)
        closes_at = plan.schedule.applications_close_at
        election = add_election(
            ElectionPlan(
                code=plan.election,
                name_cs="Volba prezidenta republiky 2023 (cvičení)",
                name_en="Presidential election 2023 (drill)",
                kind=ElectionKind.PRESIDENT,
                status=ElectionStatus.ANNOUNCED,
                application_deadline=to_prague(closes_at).date(),
                rounds=[RoundPlan(n, *times) for n, times in enumerate(rounds, start=1)],
                has_media_server=True,
                signature_required=True,
                applications_close_at=closes_at,
            ),
            actor=admin_user,
            at=now,
            actor_label=SET_UP_LABEL,
        )
        # Permit requests stay open until the last round's processing starts (the latest the office may set).
        set_requests_close_at(election, plan.schedule.live[-1][0], staff=admin_user, at=now)
        public_key = allowlist.public_key_pem()
    with app.app_context():  # the set-up's connections are not the workers'
        db.engine.dispose()

    key_path = Path(env["PORTAL_ALLOWLIST_KEY"])
    public_path = key_path.with_name("allowlist-public.pem")
    if not public_path.exists() or public_path.read_bytes() != public_key:
        public_path.write_bytes(public_key)
    trust_roots = Path(env["PORTAL_TRUST_ROOTS"].split(":")[0])
    databox_root = Path(env["PORTAL_DATABOX_ROOTS"].split(":")[0])
    return Office(
        election=plan.election,
        reviewer=reviewer,
        admin=admin,
        ops=ops,
        reviewer_token=reviewer_token,
        ops_token=ops_token,
        proxy_token=proxy_token,
        outlets=outlets,
        allowlist_public_key_pem=public_key,
        allowlist_public_key_path=public_path,
        collection_points=tuple(p[0] for p in POINTS),
        pki_folder=trust_roots.parent,
        databox=DataboxSigner(
            databox_root.with_name("databox-signer.pem"), databox_root.with_name("databox-signer.key"), databox_root
        ),
        set_up_at=datetime.now(UTC),
        set_up_seconds=time.monotonic() - started,
    )
