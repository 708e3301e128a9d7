"""Demonstration data for ``make run``: never loaded in production."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.accounts import service as accounts
from portal.accounts.models import Role, User
from portal.elections.seed import seed_elections
from portal.extensions import db
from portal.registration.models import AddressSettings

DEMO_PASSWORD = "demo-heslo-2028"  # noqa: S105 - published on purpose, development only
#: Fixed so the printed key can be typed into an authenticator once and reused.
DEMO_TOTP_SECRETS = {
    "admin@volby.example": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "reviewer@volby.example": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    "ops@volby.example": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
}


DEMO_OUTLET_EMAIL = "redakce@zpravy.example"


def demo_account_lines() -> list[str]:
    """The demo accounts present in the database, one line each with how to sign in (development only)."""
    lines = []
    for email, secret in DEMO_TOTP_SECRETS.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            lines.append(
                f"{user.role.value:9} {email}  password {DEMO_PASSWORD}  TOTP key {secret}"
                f"  (code: .venv/bin/portal demo totp {email})"
            )
    if db.session.scalar(select(User).where(User.email == DEMO_OUTLET_EMAIL)) is not None:
        lines.append(f"applicant {DEMO_OUTLET_EMAIL}  password {DEMO_PASSWORD}")
    return lines


def seed_demo(at: datetime) -> list[str]:
    """Seed elections always; accounts only on a database without users. Returns lines to print."""
    seed_elections(at.date())
    if db.session.scalar(select(func.count()).select_from(User)):
        return []
    # The demo accepts the documentation ranges (192.0.2.0/24, ...), which is what the switch is for.
    db.session.add(AddressSettings(id=1, allow_documentation=True))
    lines = []
    for email, role in (
        ("admin@volby.example", Role.ADMIN),
        ("reviewer@volby.example", Role.REVIEWER),
        ("ops@volby.example", Role.OPS),
    ):
        user = accounts.create_staff(
            email=email, role=role, password=DEMO_PASSWORD, language="cs", at=at, actor_label="demo"
        )
        user.totp_secret = DEMO_TOTP_SECRETS[email]
        lines.append(
            f"{role.value:9} {email}  password {DEMO_PASSWORD}  TOTP key {user.totp_secret}"
            f"  (code: .venv/bin/portal demo totp {email})"
        )
    outlet = accounts.sign_up(
        organisation_name="Demo zpravodajství s.r.o.",
        ico="26439395",
        address="Vinohradská 1, 120 00 Praha 2",
        website="https://zpravy.example",
        email="redakce@zpravy.example",
        password=DEMO_PASSWORD,
        language="cs",
        at=at,
        actor_label="demo",
    )
    accounts.confirm_email(outlet, at=at)
    lines.append(f"applicant redakce@zpravy.example  password {DEMO_PASSWORD}")
    db.session.flush()
    return lines
