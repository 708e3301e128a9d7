"""The audit log: one row per state change, each chained to the one before by an HMAC-SHA-256.

The HMAC key (PORTAL_AUDIT_KEY) is kept outside the database: whoever can write the database can
change rows but cannot recompute a chain that ``portal audit verify`` accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.audit.errors import AuditLogIsAppendOnly
from portal.db import Model

#: ``previous_hash`` of the first event.
GENESIS_HASH = "0" * 64


class AuditEvent(Model):
    """Who did what to which object, when and from where; never updated, never deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    #: The sequence number: 1, 2, 3 ... without gaps, assigned by the service under the chain lock.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    #: The signed-in person who caused the change; NULL for the system and command-line tools.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The actor as shown in the log, kept even if the account changes: an e-mail, "system" or "cli".
    actor_label: Mapped[str] = mapped_column(String(254))
    #: Dotted, past tense: "organisation.updated", "application.approved".
    action: Mapped[str] = mapped_column(String(100), index=True)
    #: The changed object's table name ("organisations") or another stable type name.
    subject_type: Mapped[str] = mapped_column(String(100))
    #: Its primary key as text (composite keys joined with ",").
    subject_id: Mapped[str] = mapped_column(String(100))
    #: The relevant fields before and after the change, as JSON (instants as ISO 8601 UTC strings).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Why, when the person gave a reason (a rejection, a revocation).
    reason: Mapped[str | None] = mapped_column(Text)
    #: The request's client address, after the trusted proxies; NULL outside requests.
    client_address: Mapped[str | None] = mapped_column(String(45))
    #: ``hash`` of the event with the previous id; 64 zeros for the first event.
    previous_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA-256 (hex, keyed with PORTAL_AUDIT_KEY) of the canonical JSON of every other column,
    #: ``previous_hash`` included.
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.subject_type}:{self.subject_id}>"


class AuditHead(Model):
    """The one-row running head of the chain: the last event appended, updated in the same transaction.

    The chain alone cannot show that its last events were deleted; comparing it with the head can.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    last_event_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


# Append-only, enforced three times: the ORM refuses below; on PostgreSQL a trigger refuses
# UPDATE and DELETE from any client (TRUNCATE, used by the test suite, is not a row operation);
# and whatever gets past both is found by the hash chain (`portal audit verify`).

#: Created with the table on PostgreSQL (by ``create_all`` here, and by migration 0002).
APPEND_ONLY_FUNCTION = DDL(
    "CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused', "
    "ERRCODE = 'insufficient_privilege'; END $$"
)
APPEND_ONLY_TRIGGER = DDL(
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()"
)
event.listen(AuditEvent.__table__, "after_create", APPEND_ONLY_FUNCTION.execute_if(dialect="postgresql"))
event.listen(AuditEvent.__table__, "after_create", APPEND_ONLY_TRIGGER.execute_if(dialect="postgresql"))


@event.listens_for(Session, "before_flush")
def _refuse_changed_or_deleted_events(session: Session, flush_context: object, instances: object) -> None:
    deleted = [obj for obj in session.deleted if isinstance(obj, AuditEvent)]
    if deleted:
        raise AuditLogIsAppendOnly("delete", tuple(e.id for e in deleted))
    changed = [
        obj
        for obj in session.dirty
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False)
    ]
    if changed:
        raise AuditLogIsAppendOnly("update", tuple(e.id for e in changed))


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: Any) -> None:
    """``session.execute(update(AuditEvent) ...)`` and ``delete(...)`` bypass the flush."""
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == AuditEvent.__tablename__:
            raise AuditLogIsAppendOnly("update" if state.is_update else "delete")
