"""Tampering as an attacker with database access would do it, past the ORM."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from portal.extensions import db
from tests.conftest import uses_postgresql

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def tamper(sql: str, **params: object) -> None:
    """Run raw SQL and commit; on PostgreSQL the append-only trigger is lifted for it, as the
    table's owner could do."""
    db.session.rollback()
    if uses_postgresql():
        db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    db.session.execute(sa.text(sql), params)
    if uses_postgresql():
        db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.session.commit()
    db.session.expire_all()
