"""audit chain keyed: re-hash every event with HMAC-SHA-256 (PORTAL_AUDIT_KEY), once, and say so

The chain was plain SHA-256, which anyone able to write the database can recompute. This revision
checks the old chain, re-hashes every event in order with the key of the running configuration,
moves the head, and appends an ``audit.chain_rekeyed`` event saying how many events it re-keyed and
whether the old chain was intact. A log without events is left as it is. The downgrade puts the
plain SHA-256 chain back (the re-key event stays, re-hashed like the rest).

Revision ID: hard_0001
Revises: 0010
Create Date: 2026-12-05 10:40:00.000000

"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from flask import current_app

import portal.db

# revision identifiers, used by Alembic.
revision = "hard_0001"
down_revision = "0011"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
# Copied from portal.audit.service as of this revision, so this revision never changes.
HASHED_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "reason",
    "client_address",
    "previous_hash",
)

events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("occurred_at", portal.db.UTCDateTime()),
    sa.column("actor_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("reason", sa.Text),
    sa.column("client_address", sa.String),
    sa.column("previous_hash", sa.String),
    sa.column("hash", sa.String),
)
head = sa.table(
    "audit_head", sa.column("id", sa.Integer), sa.column("last_event_id", sa.Integer), sa.column("last_hash", sa.String)
)


def _message(values: Mapping[str, Any]) -> bytes:
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = payload["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _plain(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(_message(values)).hexdigest()


def _keyed(values: Mapping[str, Any]) -> str:
    key = str(current_app.config["PORTAL_AUDIT_KEY"]).encode("utf-8")
    return hmac.new(key, _message(values), hashlib.sha256).hexdigest()


def _check(rows: list[dict[str, Any]], digest: Callable[[Mapping[str, Any]], str], head_row: Any) -> str:
    """'intact', or what is wrong with the chain as it stands (ids, hashes, links, head)."""
    previous_id, previous_hash = 0, GENESIS_HASH
    for row in rows:
        if row["id"] != previous_id + 1:
            return f"event {previous_id + 1} missing"
        if digest(row) != row["hash"]:
            return f"event {row['id']} changed"
        if row["previous_hash"] != previous_hash:
            return f"event {row['id']} does not follow the one before it"
        previous_id, previous_hash = row["id"], row["hash"]
    if head_row is None or (head_row.last_event_id, head_row.last_hash) != (previous_id, previous_hash):
        return "the head does not name the last event"
    return "intact"


def _rehash(connection: sa.Connection, rows: list[dict[str, Any]], digest: Callable[[Mapping[str, Any]], str]) -> str:
    """Chain ``rows`` anew with ``digest``; returns the last hash. The append-only trigger is lifted
    for it on PostgreSQL, by the table's owner, inside this transaction."""
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    previous_hash = GENESIS_HASH
    for row in rows:
        values = {**row, "previous_hash": previous_hash}
        new_hash = digest(values)
        connection.execute(
            events.update().where(events.c.id == row["id"]).values(previous_hash=previous_hash, hash=new_hash)
        )
        previous_hash = new_hash
    if postgresql:
        connection.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    return previous_hash


def _rows(connection: sa.Connection) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(sa.select(events).order_by(events.c.id))]


def _head(connection: sa.Connection) -> Any:
    return connection.execute(sa.select(head.c.last_event_id, head.c.last_hash).where(head.c.id == 1)).first()


def upgrade():
    connection = op.get_bind()
    rows = _rows(connection)
    if not rows:
        return
    before = _check(rows, _plain, _head(connection))
    last_hash = _rehash(connection, rows, _keyed)
    event = {
        "id": rows[-1]["id"] + 1,
        "occurred_at": datetime.now(UTC),
        "actor_id": None,
        "actor_label": "migration",
        "action": "audit.chain_rekeyed",
        "subject_type": "audit_head",
        "subject_id": "1",
        "before": {"algorithm": "sha256", "chain": before},
        "after": {"algorithm": "hmac-sha256", "events": len(rows)},
        "reason": "revision hard_0001: the chain is keyed with PORTAL_AUDIT_KEY from now on",
        "client_address": None,
        "previous_hash": last_hash,
    }
    event["hash"] = _keyed(event)
    connection.execute(events.insert().values(**event))
    moved = connection.execute(head.update().where(head.c.id == 1).values(last_event_id=event["id"], last_hash=event["hash"]))
    if not moved.rowcount:
        connection.execute(head.insert().values(id=1, last_event_id=event["id"], last_hash=event["hash"]))


def downgrade():
    connection = op.get_bind()
    rows = _rows(connection)
    if not rows:
        return
    last_hash = _rehash(connection, rows, _plain)
    connection.execute(head.update().where(head.c.id == 1).values(last_event_id=rows[-1]["id"], last_hash=last_hash))
