"""Applications, their versions and addresses, and the per-organisation address quota.

An application is amended by new versions: the approved version stays in force until a newer one
is approved, so the allowlist never loses an outlet while its amendment waits for a decision.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, selectinload

from portal.accounts.models import Organisation, User
from portal.db import Model, enum_type, utcnow
from portal.elections.models import Election

#: R4 and R5: per organisation and election, across all its applications in force.
MAX_PRODUCTION_ADDRESSES = 5
MAX_TEST_ADDRESSES = 5


class VersionState(enum.StrEnum):
    DRAFT = "draft"  #: being written by the outlet
    SUBMITTED = "submitted"  #: waiting for the office's decision
    APPROVED = "approved"  #: in force: its addresses are on the allowlist
    REJECTED = "rejected"  #: refused; a reason, if any, is internal to the office
    WITHDRAWN = "withdrawn"  #: the outlet took it back
    SUPERSEDED = "superseded"  #: was approved, replaced by a newer approved version


class AddressKind(enum.StrEnum):
    PRODUCTION = "production"
    TEST = "test"  #: cut off while results are processed (R5, R12)


class Application(Model):
    """One outlet's request for access in one election; its content lives in versions."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    election: Mapped[Election] = relationship()
    created_by: Mapped[User] = relationship()
    versions: Mapped[list[ApplicationVersion]] = relationship(
        back_populates="application", order_by="ApplicationVersion.number", cascade="all, delete-orphan"
    )

    @property
    def reference(self) -> str:
        """The number outlets and staff quote: ``prez2028-0007``."""
        return reference_of(self.election.code, self.id)

    @property
    def latest(self) -> ApplicationVersion:
        return self.versions[-1]

    @property
    def in_force(self) -> ApplicationVersion | None:
        """The approved version whose addresses are on the allowlist, if any."""
        return next((v for v in reversed(self.versions) if v.state is VersionState.APPROVED), None)

    @property
    def pending(self) -> ApplicationVersion | None:
        """A version waiting for a decision (a first submission or an amendment)."""
        latest = self.latest
        return latest if latest.state is VersionState.SUBMITTED else None


def reference_of(election_code: str, application_id: int) -> str:
    return f"{election_code}-{application_id:04d}"


class ApplicationVersion(Model):
    __tablename__ = "application_versions"
    __table_args__ = (
        UniqueConstraint("application_id", "number", name="application_number"),
        # At most one draft or pending version per application at any time.
        Index(
            "uq_application_versions_open",
            "application_id",
            unique=True,
            postgresql_where=text("state IN ('draft', 'submitted')"),
            sqlite_where=text("state IN ('draft', 'submitted')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    state: Mapped[VersionState] = mapped_column(enum_type(VersionState), default=VersionState.DRAFT)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    #: E.164, normalised with libphonenumber (Czech numbers by default).
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    #: The version of the terms (with the attribution condition) the outlet accepted; empty until accepted.
    terms_version: Mapped[str] = mapped_column(String(20), default="")
    terms_accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: SHA-256 of the canonical JSON of what was submitted; quoted in the receipt.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Why the office refused; internal, never shown to the outlet (R8).
    internal_reason: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship(back_populates="versions")
    addresses: Mapped[list[ApplicationAddress]] = relationship(
        back_populates="version",
        order_by="(ApplicationAddress.kind, ApplicationAddress.position)",
        cascade="all, delete-orphan",
    )
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    submission_record: Mapped[SubmissionRecord | None] = relationship(
        back_populates="version", cascade="all, delete-orphan", uselist=False
    )
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def addresses_of(self, kind: AddressKind | str) -> list[str]:
        return [a.address for a in self.addresses if a.kind == kind]


class ApplicationAddress(Model):
    __tablename__ = "application_addresses"
    __table_args__ = (
        UniqueConstraint("version_id", "address", name="version_address"),
        CheckConstraint("position >= 0 AND position < 5", name="position_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("application_versions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AddressKind] = mapped_column(enum_type(AddressKind))
    position: Mapped[int]
    #: Canonical text form (validated by allowlist.addresses); indexed to find conflicts.
    address: Mapped[str] = mapped_column(String(45), index=True)

    version: Mapped[ApplicationVersion] = relationship(back_populates="addresses")


class AddressQuota(Model):
    """The addresses an organisation claims in an election, per kind.

    Every change to what an organisation claims locks this row first, recounts, and stores the
    counts; the CHECK constraints make the limit hold even if a code path forgot to count.
    """

    __tablename__ = "address_quotas"
    __table_args__ = (
        CheckConstraint(f"production_count BETWEEN 0 AND {MAX_PRODUCTION_ADDRESSES}", name="production_limit"),
        CheckConstraint(f"test_count BETWEEN 0 AND {MAX_TEST_ADDRESSES}", name="test_limit"),
    )

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    production_count: Mapped[int] = mapped_column(default=0)
    test_count: Mapped[int] = mapped_column(default=0)


class Document(Model):
    """A file an outlet submitted, keyed by the SHA-256 of its bytes (see documents.py)."""

    __tablename__ = "documents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]


class SubmissionChannel(enum.StrEnum):
    PORTAL = "portal"  #: submitted in the portal, where the election does not require a signature
    SIGNED_UPLOAD = "signed_upload"  #: the generated PDF, signed with a recognised signature, uploaded
    DATABOX = "databox"  #: received in the office's data box and recorded by staff


class SubmissionRecord(Model):
    """How a version reached the office, and the evidence: the signed file and its verdict."""

    __tablename__ = "submission_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("application_versions.id", ondelete="CASCADE"), unique=True, index=True
    )
    channel: Mapped[SubmissionChannel] = mapped_column(enum_type(SubmissionChannel))
    #: When the office received it: the upload, or the data box's delivery time.
    received_at: Mapped[datetime]
    #: SHA-256 of the PDF the portal generated for the version (what was signed or sent).
    generated_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    #: The file received (signed PDF or data-box attachment), content-addressed.
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("documents.sha256"))
    #: The validator's verdict as JSON (accepted, reasons, signer, signing time, timestamp, coverage).
    verdict: Mapped[dict[str, object] | None] = mapped_column(JSON)
    #: One line for people: who signed, qualified or not, when.
    verdict_summary: Mapped[str] = mapped_column(Text, default="")
    databox_message_id: Mapped[str | None] = mapped_column(String(20))
    databox_sender_box_id: Mapped[str | None] = mapped_column(String(7))
    #: For a data-box submission: True when read from the .zfo message (its signature verified),
    #: False when staff typed the delivery in by hand. The approver is shown which.
    databox_from_zfo: Mapped[bool | None]
    #: The staff member who recorded a data-box submission.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    version: Mapped[ApplicationVersion] = relationship(back_populates="submission_record")
    recorded_by: Mapped[User | None] = relationship()


class AddressSettings(Model):
    """The admin's switches for which addresses outlets may register (one row, id 1)."""

    __tablename__ = "address_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: Accept 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32: demos and tests only.
    allow_documentation: Mapped[bool] = mapped_column(default=False)
    allow_ipv6: Mapped[bool] = mapped_column(default=True)
    #: Accept ::ffff:a.b.c.d and store it as a.b.c.d.
    map_ipv4_mapped: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime | None]


#: What an application's page shows, loaded up front instead of one lazy query per attribute.
APPLICATION_PAGE = [
    selectinload(Application.versions).selectinload(ApplicationVersion.addresses),
    selectinload(Application.versions).selectinload(ApplicationVersion.decided_by),
    selectinload(Application.versions).selectinload(ApplicationVersion.submission_record),
    joinedload(Application.organisation),
    joinedload(Application.election).selectinload(Election.rounds),
    joinedload(Application.created_by),
]
