"""Audit-log fixtures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.extensions import db
from tests.audit.helpers import T0


@pytest.fixture
def make_events():  # type: ignore[no-untyped-def]
    """``count`` committed events on subjects ("things", n), a minute apart after T0."""

    def make(count: int, action: str = "thing.changed", start: int = 1) -> list[AuditEvent]:
        events = [
            record(
                action,
                ("things", number),
                actor=None,
                at=T0 + timedelta(minutes=number),
                before={"value": number - 1},
                after={"value": number},
            )
            for number in range(start, start + count)
        ]
        db.session.commit()
        return events

    return make
