"""The transactional outbox: a mail is a row written in the same transaction as the change it reports;
a sender delivers it over SMTP afterwards, retrying with exponential backoff.

Writing
    :func:`enqueue` renders the subject and body at once, in the recipient's language, adds the row to
    ``db.session`` and flushes; it never commits. The caller's commit makes the mail and the state change
    durable together; a rollback discards both, so a mail is never sent for a change that did not happen.

Delivering (:func:`deliver_due`, run by ``portal outbox send``)
    1. Claim, in its own short transaction: due ``pending`` rows (``next_attempt_at <= at``) and
       ``sending`` rows whose claim expired (their sender died) become ``sending`` with
       ``claimed_by=<sender id>`` and ``claimed_until=at+lease``::

           SELECT id FROM outbox_messages WHERE <due> ORDER BY next_attempt_at, id LIMIT n
               FOR UPDATE SKIP LOCKED                      -- PostgreSQL only
           UPDATE outbox_messages SET status='sending', claimed_by=..., claimed_until=...
               WHERE id IN (...) AND <due> RETURNING id

       On PostgreSQL the row locks of ``SKIP LOCKED`` are held until the claim commits, so any number of
       senders can run in parallel and never take the same row. On SQLite a single sender is assumed
       (``make run`` starts one): the UPDATE re-checks that each row is still due and RETURNING reports
       only the rows this sender changed, so a second sender would not take the same row either, but
       concurrent writers contend for SQLite's one database lock and may fail with "database is locked".
    2. For each claimed row: confirm the claim is still ours and extend it (a short transaction), send
       over SMTP with no transaction open, then record the outcome in another short transaction:
       ``sent``; or, on failure, ``attempts + 1``, ``last_error`` and back to ``pending`` with
       ``next_attempt_at`` pushed back (:func:`backoff_delay`); after ``PORTAL_OUTBOX_MAX_ATTEMPTS``
       attempts ``dead``, logged as an error.

    The sender works in sessions of its own on ``db.engine``, never in the caller's ``db.session``: its
    commits must not commit the caller's unit of work. Instants written during a run are ``at`` plus the
    real time elapsed since the call, so tests control time by passing ``at``.

What is guaranteed, and what is not
    Never lost: a row becomes ``sent`` only after the SMTP server accepted the message. A sender that dies
    at any point leaves its rows ``pending`` or ``sending``; a ``sending`` row is claimed again once its
    lease (``PORTAL_OUTBOX_LEASE_SECONDS``) has expired, so every committed mail is delivered or, after
    the configured attempts, ``dead`` and visible in ``portal outbox status``.

    Duplicates are minimised and detectable, not impossible. SMTP has no two-phase commit: if the server
    accepts a message and the sender dies (or loses its database) before it records ``sent``, the message
    is sent again after the lease. That window is one SMTP reply plus one small UPDATE. The re-sent copy
    carries the SAME ``Message-ID``, fixed at enqueue time, so receivers (and our tests) can drop it. A
    sender also re-checks, right before sending, that its claim was not taken over by another sender
    after a lease expiry, and skips the row if it was. The lease is far longer than the SMTP timeout.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction

from portal.db import utcnow
from portal.extensions import db
from portal.notifications.mail import compose, deliver, new_message_id, render_mail
from portal.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

#: The first retry waits this long; each further one twice as long, up to the cap.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
#: A retry comes up to this fraction earlier than nominal, so mails that failed together spread out.
BACKOFF_JITTER = 0.1

#: ``Session.info`` keys: ids flushed by :func:`enqueue` in the open transaction / in committed ones.
_ENQUEUED = "portal.outbox.enqueued"
_COMMITTED = "portal.outbox.committed"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail, e.g. an ``.ics`` invitation (``text/calendar; method=REQUEST``)."""

    filename: str
    content_type: str
    data: bytes

    def __post_init__(self) -> None:
        if "/" not in self.content_type.split(";", 1)[0]:
            raise ValueError(f"{self.content_type!r} is not a MIME type (type/subtype)")

    def to_json(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Attachment:
        return cls(stored["filename"], stored["content_type"], base64.b64decode(stored["data"]))


@dataclass(frozen=True)
class DeliveryReport:
    """What one :func:`deliver_due` call did."""

    #: accepted by the SMTP server (or printed by the console backend)
    sent: int
    #: attempts that failed, the ones given up in this call (``dead``) included
    failed: int
    #: mails still waiting for delivery afterwards: ``pending`` (due now or later) and ``sending``
    remaining: int
    #: of ``failed``, how many reached the maximum of attempts and are now ``dead``
    dead: int = 0

    def describe(self) -> str:
        return f"sent {self.sent}, failed {self.failed} (dead {self.dead}), remaining {self.remaining}"


# --- writing ---------------------------------------------------------------------------------------


def enqueue(
    to: str,
    template: str,
    language: str,
    *,
    at: datetime,
    attachments: Sequence[Attachment] = (),
    **context: object,
) -> OutboxMessage:
    """Queue a mail in the caller's transaction: rendered now in ``language``, flushed, never committed."""
    if language not in current_app.config["PORTAL_LANGUAGES"]:
        raise ValueError(f"mails are written in {', '.join(current_app.config['PORTAL_LANGUAGES'])}, not {language!r}")
    subject, body = render_mail(template, language, **context)
    message = OutboxMessage(
        created_at=at,
        recipient=to,
        template=template,
        language=language,
        subject=subject,
        body=body,
        attachments=[attachment.to_json() for attachment in attachments],
        message_id=new_message_id(),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=at,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_ENQUEUED, set()).add(message.id)
    return message


# --- delivering ------------------------------------------------------------------------------------


def backoff_delay(attempts: int, message_id: str) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 30 s, 60 s, 120 s ... capped at 1 h,
    up to 10 % shorter by a jitter derived from the Message-ID (deterministic, different per mail)."""
    if attempts < 1:
        raise ValueError("backoff follows a failed attempt: attempts >= 1")
    nominal = min(BACKOFF_BASE * 2 ** min(attempts - 1, 32), BACKOFF_CAP)
    digest = hashlib.sha256(f"{message_id}#{attempts}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return timedelta(seconds=round(nominal.total_seconds() * (1 - BACKOFF_JITTER * fraction), 3))


def sender_id() -> str:
    """Names this sender in ``claimed_by``: host, process and thread."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{threading.get_native_id()}"


def _lease() -> timedelta:
    return timedelta(seconds=int(current_app.config["PORTAL_OUTBOX_LEASE_SECONDS"]))


def _own_session() -> Session:
    """A session of the sender's own: its commits never touch the caller's ``db.session``."""
    return Session(db.engine, expire_on_commit=False)


def _due(at: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= at),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until <= at),
    )


def claim_due(
    at: datetime,
    *,
    worker: str,
    limit: int = 100,
    lease: timedelta | None = None,
    ids: Iterable[int] | None = None,
) -> list[int]:
    """Mark up to ``limit`` due rows ``sending`` for ``worker`` until ``at + lease``; their ids, the longest
    waiting first (``next_attempt_at``, then ``id``).

    One short transaction of its own. ``ids`` restricts the claim to those rows (delivery after commit).
    """
    lease = _lease() if lease is None else lease
    candidates = (
        select(OutboxMessage.id).where(_due(at)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    )
    if ids is not None:
        candidates = candidates.where(OutboxMessage.id.in_(list(ids)))
    with _own_session() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT ... SKIP LOCKED): PostgreSQL may run
        # such a subquery once per outer row, which ignores the limit and defeats SKIP LOCKED.
        chosen = session.scalars(candidates).all()
        if not chosen:
            return []
        claimed = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(chosen), _due(at))
            .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_until=at + lease)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        ).all()
    won = set(claimed)
    return [row_id for row_id in chosen if row_id in won]


def release(ids: Iterable[int], *, worker: str) -> None:
    """Give claimed rows back (a sender stopping early): ``pending`` again, due as before."""
    with _own_session() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(ids)),
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by == worker,
            )
            .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def deliver_due(
    at: datetime,
    *,
    limit: int = 100,
    ids: Iterable[int] | None = None,
    worker: str | None = None,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Claim what is due at ``at`` and send it; see the module documentation for the guarantees.

    ``stop``, when set, ends the run after the current message; the rest of the claim is released.
    Database errors propagate (the claimed rows are re-claimed after their lease); SMTP errors are
    recorded on their row and counted in ``failed``.
    """
    worker = worker or sender_id()
    lease = _lease()
    max_attempts = int(current_app.config["PORTAL_OUTBOX_MAX_ATTEMPTS"])
    started = time.monotonic()
    claimed = claim_due(at, worker=worker, limit=limit, lease=lease, ids=ids)
    sent = failed = dead = 0
    with _own_session() as session:
        for position, row_id in enumerate(claimed):
            if stop is not None and stop.is_set():
                release(claimed[position:], worker=worker)
                break
            now = at + timedelta(seconds=time.monotonic() - started)
            outcome = _deliver_one(session, row_id, worker=worker, now=now, lease=lease, max_attempts=max_attempts)
            sent += outcome == "sent"
            failed += outcome in {"failed", "dead"}
            dead += outcome == "dead"
        remaining = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        )
        session.rollback()
    return DeliveryReport(sent=sent, failed=failed, remaining=remaining or 0, dead=dead)


def _deliver_one(
    session: Session, row_id: int, *, worker: str, now: datetime, lease: timedelta, max_attempts: int
) -> str:
    """'sent', 'failed', 'dead', or 'skipped' when another sender took the row over."""
    ours = (
        OutboxMessage.id == row_id,
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_by == worker,
    )
    with session.begin():
        renewed = session.execute(
            update(OutboxMessage)
            .where(*ours)
            .values(claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        row = session.get(OutboxMessage, row_id, populate_existing=True) if renewed.rowcount else None
    if row is None:
        log.warning("outbox: message %s was taken over by another sender; skipped", row_id)
        return "skipped"

    try:
        deliver(email_of(row))
    except Exception as error:
        # Recorded on the row, retried with backoff and dead-lettered after the last attempt: one bad mail
        # must not stop the others. Network and SMTP errors are expected; anything else gets a traceback.
        reason = f"{type(error).__name__}: {error}"[:2000]
        if isinstance(error, OSError | ValueError):
            log.warning("outbox: sending %s to %s failed: %s", row.message_id, row.recipient, reason)
        else:
            log.exception("outbox: sending %s to %s failed unexpectedly", row.message_id, row.recipient)
        return _record_failure(session, row, ours, now=now, reason=reason, max_attempts=max_attempts)

    _record_sent(session, row, now=now)
    return "sent"


def _record_sent(session: Session, row: OutboxMessage, *, now: datetime) -> None:
    with session.begin():
        marked = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(
                status=OutboxStatus.SENT,
                sent_at=now,
                attempts=OutboxMessage.attempts + 1,
                claimed_by=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    if not marked.rowcount:
        log.warning("outbox: %s was sent, but another sender had already finished it", row.message_id)


def _record_failure(
    session: Session, row: OutboxMessage, ours: tuple[Any, ...], *, now: datetime, reason: str, max_attempts: int
) -> str:
    attempts = row.attempts + 1
    given_up = attempts >= max_attempts
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": reason,
        "claimed_by": None,
        "claimed_until": None,
        "status": OutboxStatus.DEAD if given_up else OutboxStatus.PENDING,
    }
    if not given_up:
        values["next_attempt_at"] = now + backoff_delay(attempts, row.message_id)
    with session.begin():
        session.execute(
            update(OutboxMessage).where(*ours).values(**values).execution_options(synchronize_session=False)
        )
    if given_up:
        log.error(
            "outbox: gave up on %s (message %s) to %s after %d attempts; last error: %s",
            row.message_id,
            row.id,
            row.recipient,
            attempts,
            reason,
        )
        return "dead"
    return "failed"


def email_of(row: OutboxMessage) -> EmailMessage:
    """The stored mail as an e-mail message, with its stored Message-ID and the enqueue time as Date."""
    message = compose(row.recipient, row.subject, row.body, message_id=row.message_id)
    message["Date"] = format_datetime(row.created_at)
    for stored in row.attachments:
        attachment = Attachment.from_json(stored)
        mime_type, *parameters = (part.strip() for part in attachment.content_type.split(";"))
        maintype, _, subtype = mime_type.partition("/")
        params = dict(parameter.partition("=")[::2] for parameter in parameters if parameter)
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename, params=params
        )
    return message


def status_counts() -> dict[OutboxStatus, int]:
    """How many mails are in each state (every state listed, zeros included)."""
    with _own_session() as session:
        rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def run_sender(
    *,
    interval: float,
    stop: threading.Event,
    limit: int = 100,
    on_report: Callable[[DeliveryReport], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Deliver what is due every ``interval`` seconds until ``stop`` is set (the current mail is finished).

    A full batch is followed at once by the next; an unreachable database is logged and retried.
    """
    while not stop.is_set():
        try:
            report = deliver_due(clock(), limit=limit, stop=stop)
        except OperationalError as error:
            log.warning("outbox: the database is unreachable (%s); retrying in %s s", error.orig or error, interval)
        else:
            if on_report is not None and (report.sent or report.failed):
                on_report(report)
            if report.sent + report.failed >= limit:
                continue
        stop.wait(interval)


# --- delivery right after a request's commit (tests, optionally development) ---------------------


def init_app(app: Flask) -> None:
    """Track enqueued mails per session; with ``PORTAL_OUTBOX_DELIVER_AFTER_COMMIT`` deliver a request's
    committed mails in-process when the request ends. In production the worker sends them instead."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
    app.teardown_request(_deliver_committed)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    enqueued = session.info.pop(_ENQUEUED, None)
    if enqueued:
        session.info.setdefault(_COMMITTED, set()).update(enqueued)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # The outermost transaction ended; after a commit the ids were moved already, else rolled back.
        session.info.pop(_ENQUEUED, None)


def _deliver_committed(_error: BaseException | None) -> None:
    if not current_app.config["PORTAL_OUTBOX_DELIVER_AFTER_COMMIT"]:
        return
    committed = db.session.info.pop(_COMMITTED, None)
    if not committed:
        return
    try:
        deliver_due(utcnow(), ids=sorted(committed), limit=len(committed))
    except SQLAlchemyError:
        log.exception("outbox: delivering after the commit failed; the sender will deliver %s", sorted(committed))
