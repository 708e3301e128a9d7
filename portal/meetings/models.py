"""A technical meeting per election, the invitations sent for it and the outlets' replies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.db import Model, enum_type, utcnow
from portal.elections.models import Election

#: Attendees one outlet may name.
MAX_ATTENDEES = 5


class MeetingState(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class TechnicalMeeting(Model):
    __tablename__ = "technical_meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="time_order"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        # One meeting in force per election; a cancelled one may be followed by a new one.
        Index(
            "uq_technical_meetings_scheduled",
            "election_id",
            unique=True,
            postgresql_where=text("state = 'scheduled'"),
            sqlite_where=text("state = 'scheduled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    #: The iCalendar UID: fixed when the meeting is scheduled, the same in every update and the cancel.
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    #: The iCalendar SEQUENCE: 0 for the first invitation, one more for each change and for the cancel.
    sequence: Mapped[int] = mapped_column(default=0)
    state: Mapped[MeetingState] = mapped_column(enum_type(MeetingState), default=MeetingState.SCHEDULED)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    #: Where it takes place; empty for a video-only meeting.
    place: Mapped[str] = mapped_column(Text, default="")
    #: An https:// link to the video meeting; empty when in person only.
    video_link: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    election: Mapped[Election] = relationship()
    created_by: Mapped[User] = relationship()
    invitations: Mapped[list[MeetingInvitation]] = relationship(
        back_populates="meeting", order_by="MeetingInvitation.email", cascade="all, delete-orphan"
    )
    replies: Mapped[list[MeetingReply]] = relationship(
        back_populates="meeting", order_by="MeetingReply.replied_at", cascade="all, delete-orphan"
    )


class MeetingInvitation(Model):
    """Who was sent the meeting, and the last SEQUENCE they were sent: a cancel reaches all of them."""

    __tablename__ = "meeting_invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "email", name="meeting_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("technical_meetings.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    language: Mapped[str] = mapped_column(String(5), default="cs")
    sequence: Mapped[int]
    sent_at: Mapped[datetime]

    meeting: Mapped[TechnicalMeeting] = relationship(back_populates="invitations")
    organisation: Mapped[Organisation | None] = relationship()


class MeetingReply(Model):
    """An outlet's answer: the names of the people who will attend (none: it will not come)."""

    __tablename__ = "meeting_replies"
    __table_args__ = (UniqueConstraint("meeting_id", "organisation_id", name="meeting_organisation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("technical_meetings.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    replied_at: Mapped[datetime]
    replied_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    meeting: Mapped[TechnicalMeeting] = relationship(back_populates="replies")
    organisation: Mapped[Organisation] = relationship()
    replied_by: Mapped[User] = relationship()
