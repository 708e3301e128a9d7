"""An election and its rounds. Instants are UTC; days and wall-clock times mean Prague."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import get_locale
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Model, enum_type, utcnow
from portal.elections.prague import prague_day_of_deadline


class ElectionKind(enum.StrEnum):
    PRESIDENT = "president"
    CHAMBER = "chamber"  #: Chamber of Deputies
    SENATE = "senate"
    REGIONAL = "regional"  #: regional councils (kraje)
    MUNICIPAL = "municipal"
    EUROPEAN = "european"


class ElectionStatus(enum.StrEnum):
    TENTATIVE = "tentative"  #: dates expected, not yet called
    ANNOUNCED = "announced"  #: called: the dates are official
    CANCELLED = "cancelled"


class Election(Model):
    __tablename__ = "elections"
    __table_args__ = (CheckConstraint("length(code) >= 3", name="code_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code as on volby.cz and in the feed paths: ``prez2023``, ``kv2022``.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_cs: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ElectionKind] = mapped_column(enum_type(ElectionKind))
    status: Mapped[ElectionStatus] = mapped_column(enum_type(ElectionStatus))
    #: Exclusive end of the application deadline: the start of the day after it, Prague time.
    applications_close_at: Mapped[datetime]
    #: False where the office runs no media XML server (European Parliament 2024).
    has_media_server: Mapped[bool] = mapped_column(default=True)
    #: Applications need a recognised electronic signature or the data-box route (R6).
    signature_required: Mapped[bool] = mapped_column(default=True)
    #: Accept electronic seals of legal persons (QcType eseal) as well as personal signatures.
    allow_seals: Mapped[bool] = mapped_column(default=False)
    #: Four eyes: whoever recorded a data-box submission of a version may not approve that version.
    four_eyes: Mapped[bool] = mapped_column(default=True)
    #: Senate district numbers up in this election; empty for other kinds.
    senate_districts: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rounds: Mapped[list[Round]] = relationship(
        back_populates="election", order_by="Round.number", cascade="all, delete-orphan"
    )

    @property
    def display_name(self) -> str:
        return self.name_en if str(get_locale()) == "en" else self.name_cs

    @property
    def application_deadline_day(self) -> date:
        """The deadline as the office states it: a Prague calendar day."""
        return prague_day_of_deadline(self.applications_close_at)

    @property
    def access_closes_at(self) -> datetime | None:
        """From this instant nobody reaches the XML server: the end of the last round's processing."""
        return max((r.live_ends_at for r in self.rounds), default=None)

    @property
    def first_voting_starts_at(self) -> datetime | None:
        return self.rounds[0].voting_starts_at if self.rounds else None


class Round(Model):
    """One round of voting; a run-off is round 2. Its result processing is the live window."""

    __tablename__ = "election_rounds"
    __table_args__ = (
        UniqueConstraint("election_id", "number", name="election_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("voting_ends_at > voting_starts_at", name="voting_order"),
        CheckConstraint("live_ends_at > processing_starts_at", name="live_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    voting_starts_at: Mapped[datetime]
    voting_ends_at: Mapped[datetime]
    #: Result processing starts when the polls close (R1): test addresses are cut from here.
    processing_starts_at: Mapped[datetime]
    #: End of the live phase: a configured duration after the start, or earlier when staff end it.
    live_ends_at: Mapped[datetime]

    election: Mapped[Election] = relationship(back_populates="rounds")

    @property
    def is_runoff(self) -> bool:
        return self.number > 1
