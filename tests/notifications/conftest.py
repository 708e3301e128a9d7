"""Factories and outcome-named helpers for the outbox tests."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.notifications.outbox import enqueue
from tests.mailbox import Mailbox

#: An instant for tests that pass the time; mails queued at it are due from it on.
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONFIRM = "accounts/mail/confirm.txt"
_counter = itertools.count(1)


@pytest.fixture
def queue_mail():  # type: ignore[no-untyped-def]
    """Enqueue confirmation mails in the test's session (flushed, not committed); returns the rows."""

    def queue(count: int = 1, *, language: str = "cs", at: datetime = AT, **extra: object) -> list[OutboxMessage]:
        rows = []
        for _ in range(count):
            number = next(_counter)
            rows.append(
                enqueue(
                    f"redakce{number}@outlet.example",
                    CONFIRM,
                    language,
                    at=at,
                    organisation_name=f"Redakce {number}",
                    link=f"http://portal.test/confirm/{number}",
                    **extra,
                )
            )
        return rows

    return queue


def outbox_rows() -> list[OutboxMessage]:
    """Every outbox row as the database has it now (the sender commits in sessions of its own)."""
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def received(mailbox: Mailbox) -> Counter[str]:
    """How many copies of each Message-ID the SMTP server accepted."""
    return Counter(str(message["Message-ID"]) for message in list(mailbox.messages))


def delivered_exactly_once(mailbox: Mailbox, rows: list[OutboxMessage]) -> bool:
    return received(mailbox) == Counter({row.message_id: 1 for row in rows})
