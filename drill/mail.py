"""The drill's mail server: a real SMTP listener (aiosmtpd) on 127.0.0.1 that keeps every message.

The outbox sender (its own process) delivers to it over SMTP exactly as it would to the office's relay,
so the drill can count what arrived against what the outbox says it sent (:func:`mail_tally`).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from drill.plan import Check


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Handler:
    """aiosmtpd handler: parses each message and hands it to the capture."""

    def __init__(self, capture: MailCapture) -> None:
        self._capture = capture

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self._capture._add(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class MailCapture:
    """An SMTP server on 127.0.0.1 at a free port; ``messages`` holds every message received, parsed."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._running = False

    def start(self) -> None:
        if not self._running:
            self._controller.start()
            self._running = True

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def __enter__(self) -> MailCapture:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _add(self, message: EmailMessage) -> None:
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()

    @property
    def messages(self) -> list[EmailMessage]:
        """A copy of everything received so far, in arrival order."""
        with self._arrived:
            return list(self._messages)

    def wait_for(self, predicate: Callable[[list[EmailMessage]], bool], timeout: float) -> list[EmailMessage]:
        """Wait until ``predicate(messages)`` holds or ``timeout`` seconds pass; the messages either way."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate(list(self._messages)):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return list(self._messages)


def attachments_of(message: EmailMessage) -> list[tuple[str, str]]:
    """(filename, content type) of each attachment."""
    return [(part.get_filename() or "", part.get_content_type()) for part in message.iter_attachments()]


# --- the mail tally -------------------------------------------------------------------------------------


MAIL = "mail"


@dataclass(frozen=True)
class MailTally:
    queued: int  #: rows in the outbox
    pending: int  #: still waiting (never tried, or retrying after a failure)
    sending: int
    sent: int  #: the outbox says the SMTP server accepted them
    dead: int
    failed: int  #: pending rows that failed at least once
    received: int  #: messages the capture received (duplicates included)
    duplicates: int  #: copies with a Message-ID received before
    #: "recipient: subject (why)" of every message sent but never received, failed or dead
    lost: tuple[str, ...]
    #: received messages with no outbox row
    unexpected: tuple[str, ...]
    by_template: dict[str, int] = field(default_factory=dict)

    @property
    def lost_count(self) -> int:
        return len(self.lost)

    def checks(self) -> list[Check]:
        detail = (
            f"queued {self.queued}, sent {self.sent}, received {self.received} "
            f"(duplicates {self.duplicates}), pending {self.pending}, dead {self.dead}"
        )
        return [
            Check(MAIL, "no mail lost (outbox sent = received; none failed or dead)", not self.lost,
                  detail if not self.lost else f"{len(self.lost)} lost: {list(self.lost)[:8]}"),
            Check(MAIL, "outbox drained", self.pending == 0 and self.sending == 0,
                  f"pending {self.pending}, sending {self.sending}"),
            Check(MAIL, "nothing received that the outbox did not send", not self.unexpected,
                  "none" if not self.unexpected else str(list(self.unexpected)[:8])),
        ]  # fmt: skip


def _message_id(message: EmailMessage) -> str:
    return str(message.get("Message-ID", "")).strip()


def mail_tally(env: dict[str, str], mail: MailCapture, *, wait: float = 30.0) -> MailTally:
    """Compare the outbox table with what the SMTP capture received (in-process, read only).

    Waits up to ``wait`` seconds for the outbox to drain and the capture to catch up first.
    """
    from sqlalchemy import select

    from portal import create_app
    from portal.config import settings_from_environment
    from portal.extensions import db
    from portal.notifications.models import OutboxMessage, OutboxStatus

    app = create_app(settings_from_environment(env))
    columns = (
        OutboxMessage.message_id,
        OutboxMessage.status,
        OutboxMessage.attempts,
        OutboxMessage.recipient,
        OutboxMessage.subject,
        OutboxMessage.template,
        OutboxMessage.last_error,
    )
    with app.app_context():

        def rows() -> list[Any]:
            """The outbox as plain rows, a fresh snapshot each time."""
            db.session.rollback()
            return list(db.session.execute(select(*columns).order_by(OutboxMessage.id)).all())

        deadline = time.monotonic() + wait
        current = rows()
        while time.monotonic() < deadline:
            busy = any(r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING) and r.attempts == 0 for r in current)
            sent_ids = {r.message_id for r in current if r.status is OutboxStatus.SENT}
            received_ids = {_message_id(m) for m in mail.messages}
            if not busy and sent_ids <= received_ids:
                break
            time.sleep(0.5)
            current = rows()
        db.session.rollback()
        db.engine.dispose()

    received = mail.messages
    received_ids = [_message_id(m) for m in received]
    known = {r.message_id for r in current}
    count = {status: sum(1 for r in current if r.status is status) for status in OutboxStatus}
    lost = []
    for row in current:
        if row.status is OutboxStatus.SENT and row.message_id not in received_ids:
            lost.append(f"{row.recipient}: {row.subject} (sent, never received)")
        elif row.status is OutboxStatus.DEAD:
            lost.append(f"{row.recipient}: {row.subject} (dead: {row.last_error})")
        elif row.status is OutboxStatus.PENDING and row.attempts > 0:
            lost.append(f"{row.recipient}: {row.subject} (failed {row.attempts}x: {row.last_error})")
    by_template: dict[str, int] = {}
    for row in current:
        by_template[row.template] = by_template.get(row.template, 0) + 1
    unexpected = tuple(f"{m['To']}: {m['Subject']}" for m in received if _message_id(m) not in known)
    return MailTally(
        queued=len(current),
        pending=count[OutboxStatus.PENDING],
        sending=count[OutboxStatus.SENDING],
        sent=count[OutboxStatus.SENT],
        dead=count[OutboxStatus.DEAD],
        failed=sum(1 for r in current if r.status is OutboxStatus.PENDING and r.attempts > 0),
        received=len(received),
        duplicates=len(received_ids) - len(set(received_ids)),
        lost=tuple(lost),
        unexpected=unexpected,
        by_template=by_template,
    )
