"""Media organisations and the people who use the portal."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Model, enum_type, utcnow


class Role(enum.StrEnum):
    APPLICANT = "applicant"  #: works for one media organisation
    REVIEWER = "reviewer"  #: office staff: reviews applications and permits
    ADMIN = "admin"  #: office staff: also edits elections and reference data
    OPS = "ops"  #: operations: firewall and feed proxy

    @property
    def is_staff(self) -> bool:
        return self is not Role.APPLICANT


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Organisation(Model):
    """A media outlet (company or newsroom) identified by its IČO."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("length(ico) = 8", name="ico_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Company identification number: 8 digits, the last a mod-11 check digit.
    ico: Mapped[str] = mapped_column(String(8), unique=True)
    #: Postal address of the newsroom, free text as the outlet writes it.
    address: Mapped[str] = mapped_column(String(500))
    website: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.email")


class User(Model):
    """A person who signs in: an outlet's applicant or a member of the office's staff."""

    __tablename__ = "users"
    __table_args__ = (
        # Applicants belong to exactly one organisation; staff belong to none.
        CheckConstraint(
            "(role = 'applicant' AND organisation_id IS NOT NULL) OR (role <> 'applicant' AND organisation_id IS NULL)",
            name="applicant_has_organisation",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: argon2id hash (argon2-cffi's encoded form).
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: Language of the interface and of the mails sent to this person.
    language: Mapped[str] = mapped_column(String(5), default="cs")
    #: Set when the person followed the confirmation link; sign-in is refused before.
    email_confirmed_at: Mapped[datetime | None]
    #: Base32 TOTP secret, set once enrolment has been confirmed with a valid code.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The last accepted TOTP time step, so a code cannot be used twice.
    totp_last_step: Mapped[int | None]
    #: Identifies the sessions of this user; replacing it signs out every session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")

    # Flask-Login protocol -------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    # Roles -----------------------------------------------------------------------------------
    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None
