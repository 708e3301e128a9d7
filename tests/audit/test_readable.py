"""The log as staff read it: actions and subjects in words, every time in Prague time (times inside
the recorded changes too), the client address of each request, filters as choice lists."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.extensions import db
from tests.factories import post_form, sign_in


@pytest.fixture
def staff_client(client, make_staff):  # type: ignore[no-untyped-def]
    reviewer = make_staff(role=Role.REVIEWER, email="reviewer@czso.example")
    db.session.commit()
    sign_in(client, reviewer)
    return client


def test_actions_subjects_and_times_inside_changes_are_for_people(staff_client, make_staff):
    record(
        "election.updated",
        ("elections", 1),
        actor=make_staff(role=Role.ADMIN, email="admin@czso.example"),
        at=datetime(2026, 3, 27, 12, tzinfo=UTC),
        before={"applications_close_at": "2026-09-11T22:00:00+00:00"},
        after={"applications_close_at": "2026-09-18T22:00:00+00:00"},
    )
    db.session.commit()
    html = staff_client.get("/staff/audit").get_data(as_text=True)
    assert "Volby změněny" in html  # election.updated, in words
    row = html[html.index("Volby změněny") :]
    # 22:00 UTC in September is midnight in Prague: the next day.
    assert "12. 9. 2026 0:00" in row and "19. 9. 2026 0:00" in row
    assert "2026-09-18T22:00:00" not in row


def test_filters_are_choice_lists_in_words(staff_client, varied_choices):
    html = staff_client.get("/staff/audit").get_data(as_text=True)
    assert re.search(r'<select[^>]*id="action"', html) and re.search(r'<select[^>]*id="subject_type"', html)
    assert re.search(r'<option value="election.updated">Volby změněny</option>', html)
    assert re.search(r'<option value="application.">Žádosti \(vše\)</option>', html)
    assert re.search(r'<option value="elections">Volby</option>', html)
    only = staff_client.get("/staff/audit?action=application.").get_data(as_text=True)
    assert "Žádost zamítnuta" in only and "Volby změněny" not in only.split("<table", 1)[1]


@pytest.fixture
def varied_choices(app):  # type: ignore[no-untyped-def]
    at = datetime(2026, 3, 27, 12, tzinfo=UTC)
    record("election.updated", ("elections", 1), actor=None, at=at, after={"status": "announced"})
    record("application.reject", ("applications", 3), actor=None, at=at)
    db.session.commit()


def test_events_made_by_a_request_record_its_client_address(client, make_applicant, make_election):
    make_election(code="prez2099")
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    response = post_form(
        client,
        f"/organisations/{applicant.organisation_id}/applications/new/prez2099",
        {},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    assert response.status_code == 302
    event = db.session.query(AuditEvent).filter_by(action="application.created").one()
    assert event.client_address == "203.0.113.77"  # the service did not name it: the request did


def test_events_outside_a_request_have_no_client_address(app):
    event = record("organisation.registered", ("organisations", 1), actor=None, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert event.client_address is None
