"""Recording state changes, verifying the chain, and finding events.

``record`` adds the event to the caller's transaction and flushes; the request or command that
called it commits once, so a change and its event are stored together or not at all.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import ipaddress
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from portal.extensions import db

#: The key of the PostgreSQL advisory lock that serialises appends ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974

#: The columns covered by ``hash``, in the canonical JSON that is hashed.
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

SYSTEM_ACTOR = "system"


# --- values ---------------------------------------------------------------------------------------


def jsonable(value: object) -> Any:
    """``value`` as plain JSON data: instants as ISO 8601 UTC, dates ISO, enums by value."""
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=_canonical)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    raise TypeError(f"cannot record a {type(value).__name__} in the audit log: {value!r}")


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as JSON data, for ``before`` and ``after``."""
    return {name: jsonable(getattr(obj, name)) for name in fields}


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_key() -> bytes:
    """The HMAC key of the chain (PORTAL_AUDIT_KEY): outside the database, so whoever can write the
    database still cannot recompute a rewritten chain."""
    return str(current_app.config["PORTAL_AUDIT_KEY"]).encode("utf-8")


def _hash(values: Mapping[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA-256 (keyed with ``key``, by default :func:`chain_key`) over the canonical JSON of the
    hashed fields of one event."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    occurred_at = payload["occurred_at"]
    payload["occurred_at"] = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    message = _canonical(payload).encode("utf-8")
    return hmac.new(chain_key() if key is None else key, message, hashlib.sha256).hexdigest()


def _unproxied(value: Any) -> Any:
    """The object behind a Werkzeug proxy such as Flask-Login's ``current_user``."""
    getter = getattr(value, "_get_current_object", None)
    return getter() if callable(getter) else value


def _subject_key(subject: object) -> tuple[str, str]:
    if isinstance(subject, tuple):
        subject_type, subject_id = subject
        return str(subject_type), str(subject_id)
    subject = _unproxied(subject)
    table = getattr(subject, "__tablename__", None)
    if table is None:
        raise TypeError(f"an audit subject is a mapped object or a (type, id) pair, not {subject!r}")
    state = sa.inspect(subject)
    if state.identity is None:
        db.session.flush()
    identity = state.identity
    if identity is None:
        raise ValueError(f"{subject!r} has no primary key: add it to the session first")
    return str(table), ",".join(str(part) for part in identity)


def request_client_address() -> str | None:
    """The client's address of the current request (after the trusted proxies), else None."""
    if has_request_context():
        return request.remote_addr
    return None


# --- appending ------------------------------------------------------------------------------------


def _lock_chain(session: Session) -> None:
    """Serialise appends until this transaction ends, so two writers never extend the same head.

    Last in the one lock order (quota row, application row, audit chain; see registration/locks.py):
    a transaction that has recorded an event takes no row lock after it.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    elif dialect == "sqlite":
        # A write takes SQLite's database write lock (even when it matches no row), so the head
        # read next is the latest and stays so until commit; the driver starts no transaction for reads.
        table = AuditHead.__table__
        session.execute(sa.update(table).where(table.c.id == 1).values(id=table.c.id))


def _current_head(session: Session) -> tuple[int, str]:
    head = session.execute(sa.select(AuditHead.last_event_id, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    if head is not None:
        return head.last_event_id, head.last_hash
    # No head row: a new log (or a lost head, which verify_chain reports); continue from the last event.
    last = session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    return (last.id, last.hash) if last is not None else (0, GENESIS_HASH)


def _move_head(session: Session, event_id: int, event_hash: str) -> None:
    table = AuditHead.__table__
    moved = session.execute(
        sa.update(table).where(table.c.id == 1).values(last_event_id=event_id, last_hash=event_hash)
    ).rowcount
    if not moved:
        session.execute(sa.insert(table).values(id=1, last_event_id=event_id, last_hash=event_hash))


def record(
    action: str,
    subject: object | tuple[str, int | str],
    *,
    actor: User | None,
    at: datetime,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
    client_address: str | None = None,
    reason: str | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append an event to the log in the current transaction; flushes, never commits.

    ``subject`` is a mapped object (its table name and primary key) or a ``(type, id)`` pair.
    ``actor`` is the signed-in user, or None for the system; ``actor_label`` overrides how the
    actor is shown (default: the user's e-mail, or "system"), for example "cli".
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime: audit events need an aware instant")
    actor = _unproxied(actor)
    subject_type, subject_id = _subject_key(subject)
    session = db.session
    _lock_chain(session)
    previous_id, previous_hash = _current_head(session)
    values: dict[str, Any] = {
        "id": previous_id + 1,
        "occurred_at": at.astimezone(UTC),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor_label or (actor.email if actor is not None else SYSTEM_ACTOR),
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        # Stored exactly as hashed: what comes back from the JSON column hashes the same.
        "before": json.loads(_canonical(jsonable(before))) if before is not None else None,
        "after": json.loads(_canonical(jsonable(after))) if after is not None else None,
        "reason": reason,
        # An event made by a request carries the request's client address unless the caller names one.
        "client_address": client_address if client_address is not None else request_client_address(),
        "previous_hash": previous_hash,
    }
    event = AuditEvent(**values, hash=_hash(values))
    session.add(event)
    session.flush()
    _move_head(session, event.id, event.hash)
    return event


# --- verifying ------------------------------------------------------------------------------------


class ChainProblem(enum.StrEnum):
    CHANGED = "changed"  #: an event's content no longer matches its hash
    DELETED = "deleted"  #: an id is missing from the sequence (``first_bad_id`` is the missing id)
    REORDERED = "reordered"  #: an intact event that does not follow the one before it (moved, forked)
    TRUNCATED = "truncated"  #: the head names a later event than the last one present


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_bad_id: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.events_checked} events"
        what = {
            ChainProblem.CHANGED: "an event was changed",
            ChainProblem.DELETED: "an event was deleted",
            ChainProblem.REORDERED: "an event does not follow the one before it",
            ChainProblem.TRUNCATED: "the last events were deleted",
        }.get(ChainProblem(self.problem), self.problem)
        return f"audit chain broken: {self.problem} ({what}) at event {self.first_bad_id}"


def _broken(checked: int, event_id: int, problem: ChainProblem) -> ChainReport:
    return ChainReport(ok=False, events_checked=checked, first_bad_id=event_id, problem=problem.value)


def verify_chain(batch_size: int = 1000) -> ChainReport:
    """Recompute every hash (with the chain's key) and link in id order, then compare the last event
    with the head. Reads through Core, so nothing cached in the session hides what the database holds.
    """
    key = chain_key()
    session = db.session
    table = AuditEvent.__table__
    rows = session.execute(sa.select(table).order_by(table.c.id).execution_options(yield_per=batch_size))
    previous_id, previous_hash, checked = 0, GENESIS_HASH, 0
    for row in rows:
        values = row._mapping
        if values["id"] != previous_id + 1:  # ids are unique and sorted: some are missing
            rows.close()
            return _broken(checked, previous_id + 1, ChainProblem.DELETED)
        if not hmac.compare_digest(_hash(values, key), values["hash"]):
            rows.close()
            return _broken(checked, values["id"], ChainProblem.CHANGED)
        if values["previous_hash"] != previous_hash:
            rows.close()
            return _broken(checked, values["id"], ChainProblem.REORDERED)
        previous_id, previous_hash, checked = values["id"], values["hash"], checked + 1
    head = session.execute(sa.select(AuditHead.last_event_id, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    head_id, head_hash = (head.last_event_id, head.last_hash) if head is not None else (0, GENESIS_HASH)
    if head is None and checked:
        # The head goes with the first event; without it, nothing vouches for the end of the chain.
        return _broken(checked, 1, ChainProblem.TRUNCATED)
    if head_id > previous_id:
        return _broken(checked, previous_id + 1, ChainProblem.TRUNCATED)
    if head_id < previous_id:
        # Events after the head were not appended by ``record``.
        return _broken(checked, head_id + 1, ChainProblem.REORDERED)
    if head_hash != previous_hash:
        return _broken(checked, previous_id, ChainProblem.CHANGED)
    return ChainReport(ok=True, events_checked=checked)


@dataclass(frozen=True)
class Head:
    """The last event of the chain, for ops to record outside the database (``portal audit head``)."""

    event_id: int
    hash: str
    occurred_at: datetime | None


def chain_head() -> Head:
    """The head row as stored (0 and the genesis hash for an empty log)."""
    head = db.session.execute(sa.select(AuditHead.last_event_id, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    if head is None:
        return Head(0, GENESIS_HASH, None)
    occurred_at = db.session.scalar(sa.select(AuditEvent.occurred_at).where(AuditEvent.id == head.last_event_id))
    return Head(head.last_event_id, head.last_hash, occurred_at)


def event_hash(event_id: int) -> str | None:
    """The stored hash of one event (None when it is not there), to compare with a recorded head."""
    return db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == event_id))


# --- finding --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """What the staff pages filter on; empty fields do not filter."""

    action_prefix: str = ""
    subject_type: str = ""
    subject_id: str = ""
    actor: str = ""  #: part of the actor's e-mail (or "system", "cli"), any case
    since: datetime | None = None  #: inclusive
    until: datetime | None = None  #: exclusive


def select_events(where: EventFilter, newest_first: bool = True) -> sa.Select[tuple[AuditEvent]]:
    query = sa.select(AuditEvent)
    if where.action_prefix:
        query = query.where(AuditEvent.action.startswith(where.action_prefix, autoescape=True))
    if where.subject_type:
        query = query.where(AuditEvent.subject_type == where.subject_type)
    if where.subject_id:
        query = query.where(AuditEvent.subject_id == where.subject_id)
    if where.actor:
        query = query.where(sa.func.lower(AuditEvent.actor_label).contains(where.actor.lower(), autoescape=True))
    if where.since is not None:
        query = query.where(AuditEvent.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.occurred_at < where.until)
    return query.order_by(AuditEvent.id.desc() if newest_first else AuditEvent.id)


def iter_events(where: EventFilter, batch_size: int = 500) -> Iterator[AuditEvent]:
    """Matching events, oldest first, fetched in batches (for the export)."""
    statement = select_events(where, newest_first=False).execution_options(yield_per=batch_size)
    yield from db.session.scalars(statement)


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def changes(event: AuditEvent) -> Sequence[Change]:
    """The fields an event changed (all of them when it has only ``before`` or only ``after``)."""
    before, after = event.before or {}, event.after or {}
    names = list(after) + [name for name in before if name not in after]
    both = event.before is not None and event.after is not None
    return [
        Change(name, before.get(name), after.get(name))
        for name in names
        if not both or before.get(name) != after.get(name)
    ]
