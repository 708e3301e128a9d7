"""A real SMTP server on localhost (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    """aiosmtpd handler: each delivered message is parsed and appended to ``messages``."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def wait_for(self, to: str, timeout: float = 10.0) -> EmailMessage:
        """The newest message to ``to``, waiting up to ``timeout`` seconds for it."""
        with self._arrived:
            found = self._arrived.wait_for(lambda: self._find(to), timeout=timeout)
            if not found:
                raise AssertionError(f"no mail to {to} arrived; got {[m['To'] for m in self.messages]}")
            return found

    def _find(self, to: str) -> EmailMessage | None:
        for message in reversed(self.messages):
            if message["To"] == to:
                return message
        return None

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def first_link(message: EmailMessage) -> str:
    match = re.search(r"https?://\S+", body_of(message))
    assert match, "the mail carries no link"
    return match.group(0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_smtp_server() -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, mailbox
