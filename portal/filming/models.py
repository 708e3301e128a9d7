"""Collection points, permit requests, the persons in them and their permits (R11).

A request belongs to an organisation, an election and one of its rounds; each person in it is decided
on separately, and an approved person holds a permit: a place, a time window and a signed PDF.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.db import Model, enum_type, utcnow
from portal.elections.models import Election
from portal.registration.models import SubmissionChannel

#: Persons in one request: a crew, not a newsroom.
MAX_PERSONS = 8
#: Preferred collection points an outlet may name in one request.
MAX_PREFERRED_POINTS = 5
MAX_CAPACITY = 50


class CollectionPoint(Model):
    """A workplace of the office at a municipal office (přebírací místo); admin-edited reference data."""

    __tablename__ = "collection_points"
    __table_args__ = (CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The office's short code (upper case), the key of the CSV import.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    #: Region (kraj) and district (okres) by their Czech names, see areas.py.
    region: Mapped[str] = mapped_column(String(60), index=True)
    district: Mapped[str] = mapped_column(String(60), index=True)
    #: How many media persons the point takes at the same time without disturbing its work.
    capacity: Mapped[int]
    #: Inactive points keep their permits but take no new ones.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.district})"


class FilmingDeadline(Model):
    """The election's own deadline for permit requests; without a row the application deadline applies."""

    __tablename__ = "filming_deadlines"

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), primary_key=True)
    #: Exclusive end: the start of the day after the deadline day, Prague time.
    requests_close_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RequestState(enum.StrEnum):
    DRAFT = "draft"  #: being written by the outlet
    SUBMITTED = "submitted"  #: with the office; its persons are decided one by one


class PersonState(enum.StrEnum):
    REQUESTED = "requested"  #: waiting for the office's decision
    APPROVED = "approved"  #: holds a permit for a place and a time window
    REJECTED = "rejected"  #: refused; a reason, if any, is internal to the office
    REVOKED = "revoked"  #: the permit was withdrawn by the office; the verification page says so


class RecordingKind(enum.StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    PHOTO = "photo"


permit_request_points = Table(
    "permit_request_points",
    Model.metadata,
    Column("request_id", ForeignKey("permit_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("point_id", ForeignKey("collection_points.id"), primary_key=True),
)


class PermitRequest(Model):
    __tablename__ = "permit_requests"
    __table_args__ = (
        CheckConstraint("round_number >= 1", name="round_positive"),
        # One draft per organisation and election at a time; submitted requests may be many (more crews).
        Index(
            "uq_permit_requests_draft",
            "organisation_id",
            "election_id",
            unique=True,
            postgresql_where=text("state = 'draft'"),
            sqlite_where=text("state = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    #: The round the persons want to record (a run-off is round 2).
    round_number: Mapped[int] = mapped_column(default=1)
    state: Mapped[RequestState] = mapped_column(enum_type(RequestState), default=RequestState.DRAFT)
    #: The person asking on the newsroom's behalf, and how the office reaches them.
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    #: E.164, normalised with libphonenumber.
    applicant_phone: Mapped[str] = mapped_column(String(20), default="")
    applicant_email: Mapped[str] = mapped_column(String(254), default="")
    newsroom_name: Mapped[str] = mapped_column(String(200), default="")
    newsroom_address: Mapped[str] = mapped_column(String(500), default="")
    #: What the persons intend to record, in the outlet's words.
    scope: Mapped[str] = mapped_column(Text, default="")
    #: RecordingKind values, sorted.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    preferred_region: Mapped[str] = mapped_column(String(60), default="")
    #: Empty when the whole region suits.
    preferred_district: Mapped[str] = mapped_column(String(60), default="")
    #: Preferred time windows, in the outlet's words (the office decides the time).
    preferred_times: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: SHA-256 of the canonical JSON of what was submitted; quoted in the receipt and the PDF.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    #: How it reached the office: in the portal, or as a signed PDF upload (R6 applies as to applications).
    channel: Mapped[SubmissionChannel | None] = mapped_column(enum_type(SubmissionChannel))
    #: SHA-256 of the PDF the portal generated, which the outlet signed.
    generated_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    #: The signed PDF received, content-addressed.
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("documents.sha256"))
    #: The validator's verdict as JSON, and one line for people.
    verdict: Mapped[dict[str, object] | None] = mapped_column(JSON)
    verdict_summary: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship()
    election: Mapped[Election] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    persons: Mapped[list[PermitPerson]] = relationship(
        back_populates="request", order_by="PermitPerson.position", cascade="all, delete-orphan"
    )
    preferred_points: Mapped[list[CollectionPoint]] = relationship(
        secondary=permit_request_points, order_by="CollectionPoint.code"
    )

    @property
    def reference(self) -> str:
        """The number outlets and staff quote: ``prez2028-P0007``."""
        return request_reference(self.election.code, self.id)

    @property
    def pending_persons(self) -> list[PermitPerson]:
        return [person for person in self.persons if person.state is PersonState.REQUESTED]


def request_reference(election_code: str, request_id: int) -> str:
    return f"{election_code}-P{request_id:04d}"


def parse_request_reference(reference: str) -> tuple[str, int] | None:
    """(election code, request id) from ``prez2028-P0007``; None when it is not one."""
    code, separator, number = reference.rpartition("-P")
    if not separator or not code or not number.isdigit() or len(number) > 9:
        return None
    return code, int(number)


class PermitPerson(Model):
    """One person of a request: the office's decision on them and, when approved, their permit."""

    __tablename__ = "permit_persons"
    __table_args__ = (
        UniqueConstraint("request_id", "position", name="request_position"),
        CheckConstraint(
            "state NOT IN ('approved', 'revoked') OR (point_id IS NOT NULL AND starts_at IS NOT NULL "
            "AND ends_at IS NOT NULL AND permit_token IS NOT NULL)",
            name="permit_complete",
        ),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at", name="window_order"),
        #: The capacity check: approved persons at a point by time.
        Index("ix_permit_persons_bookings", "point_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("permit_requests.id", ondelete="CASCADE"), index=True)
    #: Order within the request, from 0; the permit number ends with position + 1.
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    state: Mapped[PersonState] = mapped_column(enum_type(PersonState), default=PersonState.REQUESTED)
    #: The place and time the office assigned.
    point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_points.id"))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    #: Approved although the point was full at that time: staff confirmed it explicitly.
    overbooked: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Why the office refused; internal, never shown to the outlet.
    internal_reason: Mapped[str] = mapped_column(Text, default="")
    #: The random token in the permit's QR code: /permits/verify/<token>.
    permit_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The permit PDF as issued, signed by the office.
    permit_document_sha256: Mapped[str | None] = mapped_column(ForeignKey("documents.sha256"))
    issued_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Why staff revoked the permit; internal.
    revocation_reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[PermitRequest] = relationship(back_populates="persons")
    point: Mapped[CollectionPoint | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def permit_number(self) -> str:
        return f"{self.request.reference}-{self.position + 1}"
