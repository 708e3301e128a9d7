"""Sign-in limited per account: after a few wrong passwords each further attempt waits longer.

The per-address limit (Flask-Limiter, ``PORTAL_LOGIN_RATE_LIMIT``) stops one client; this stops many
clients guessing one account's password. The delay doubles with each failure and is capped, so nobody
can lock an account (a staff member's on election night) out for longer than :data:`MAX_DELAY` after
their last wrong guess. Attempts during a delay are refused without looking at the password and do not
count. Failures are kept per e-mail address as typed (normalised, hashed), whether or not it has an
account, so the delay says nothing about which addresses are registered.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Model
from portal.extensions import db

#: Wrong passwords in a row that cost nothing.
FREE_FAILURES = 5
#: The first delay; it doubles with every further failure ...
FIRST_DELAY = timedelta(seconds=1)
#: ... up to this.
MAX_DELAY = timedelta(seconds=60)
#: Failures older than this are forgotten.
FORGET_AFTER = timedelta(hours=24)


class LoginFailures(Model):
    """Consecutive wrong passwords for one e-mail address; removed by a successful sign-in."""

    __tablename__ = "login_failures"

    #: SHA-256 (hex) of the normalised e-mail address, registered or not.
    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failed_at: Mapped[datetime]


def _key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def delay_after(failures: int) -> timedelta:
    """How long the next attempt must wait after ``failures`` wrong passwords in a row."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY)


def _current(email: str, at: datetime) -> LoginFailures | None:
    row = db.session.get(LoginFailures, _key(email))
    if row is None or at - row.last_failed_at > FORGET_AFTER:
        return None
    return row


def seconds_to_wait(email: str, *, at: datetime) -> int:
    """0 when a sign-in for ``email`` may be tried at ``at``, else the whole seconds still to wait."""
    row = _current(email, at)
    if row is None:
        return 0
    remaining = row.last_failed_at + delay_after(row.failures) - at
    return max(0, math.ceil(remaining.total_seconds()))


def note_failure(email: str, *, at: datetime) -> None:
    """Count one more wrong password for ``email`` (flushes; the caller commits even though it refuses)."""
    row = _current(email, at)
    if row is not None:
        row.failures += 1
        row.last_failed_at = at
        db.session.flush()
        return
    stale = db.session.get(LoginFailures, _key(email))
    if stale is not None:
        stale.failures, stale.last_failed_at = 1, at
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.add(LoginFailures(email_sha256=_key(email), failures=1, last_failed_at=at))
    except IntegrityError:  # a parallel failure created it first
        note_failure(email, at=at)


def forget(email: str) -> None:
    """A successful sign-in: the count starts again."""
    row = db.session.get(LoginFailures, _key(email))
    if row is not None:
        db.session.delete(row)
        db.session.flush()
