"""An exact end of permit requests (the drill's), with the same rule and audit row as the office's day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.filming import service
from portal.filming.errors import DeadlineInvalid


def test_an_exact_end_up_to_the_last_processing_start_is_kept_and_recorded(app, make_election, make_staff):
    election = make_election()
    admin = make_staff()
    last_processing = election.rounds[-1].processing_starts_at
    with pytest.raises(DeadlineInvalid):
        service.set_requests_close_at(election, last_processing + timedelta(seconds=1), staff=admin, at=utcnow())
    service.set_requests_close_at(election, last_processing, staff=admin, at=utcnow())
    assert service.requests_close_at(election) == last_processing
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "filming.deadline_set"))
    assert event.actor_id == admin.id
    assert datetime.fromisoformat(event.before["requests_close_at"]) == election.applications_close_at
    assert datetime.fromisoformat(event.after["requests_close_at"]) == last_processing
