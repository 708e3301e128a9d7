"""The transactional outbox: one row per e-mail, written in the transaction of the change it reports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Model, enum_type


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  #: waiting for its first or next attempt (``next_attempt_at``)
    SENDING = "sending"  #: claimed by a sender until ``claimed_until``; re-claimed after that
    SENT = "sent"  #: the SMTP server accepted it
    DEAD = "dead"  #: given up after the configured number of attempts; needs a person


class OutboxMessage(Model):
    """An e-mail rendered at enqueue time, exactly as it will be sent, and its delivery state."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_sent_at"),
        CheckConstraint("status <> 'sending' OR claimed_until IS NOT NULL", name="sending_has_claim"),
        #: The claim query: due pending rows, and sending rows whose lease expired.
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    recipient: Mapped[str] = mapped_column(String(254))
    #: The template it was rendered from and the language it was rendered in, for operators.
    template: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    #: ``[{"filename", "content_type", "data"}]`` with ``data`` in base64.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The RFC 5322 Message-ID, fixed at enqueue time: a re-send after a crash carries the same one.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus), default=OutboxStatus.PENDING)
    #: SMTP attempts made so far, the successful one included.
    attempts: Mapped[int] = mapped_column(default=0)
    #: A pending row is not tried before this instant (exponential backoff after a failure).
    next_attempt_at: Mapped[datetime]
    #: The exception class and message of the last failed attempt (no traceback).
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    #: The sender holding a 'sending' row, and until when; an expired claim means the sender died.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status.value} to {self.recipient} {self.message_id}>"
