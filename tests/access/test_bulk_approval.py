"""Bulk approval: one outcome per application asked for, a refusal undoing only its own attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.access import service as decisions
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.registration.errors import ConflictsNotAcknowledged, IllegalTransition
from portal.registration.models import VersionState
from tests.factories import post_form, sign_in

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def staff(make_staff):
    return make_staff(role=Role.REVIEWER)


def approvals() -> list[str]:
    events = select(AuditEvent.subject_id).where(
        AuditEvent.action == "application.approve", AuditEvent.occurred_at == NOW
    )
    return list(db.session.scalars(events))


def test_the_report_names_each_application_and_why_it_was_not_approved(election, make_application, staff):
    clean = make_application(election, production=["192.0.2.1"], state="submitted")
    clash = [make_application(election, production=["192.0.2.9"], state="submitted") for _ in (1, 2)]
    decided = make_application(election, production=["192.0.2.3"], state="approved", staff=staff)
    draft = make_application(election, production=["192.0.2.4"])
    asked = [clash[0].id, clean.id, 999_999, decided.id, draft.id, clash[1].id]

    report = decisions.bulk_approve(asked, staff=staff, at=NOW)

    assert [o.application.id for o in report.outcomes] == [i for i in asked if i != 999_999]
    assert report.unknown == (999_999,)
    assert report.approved == [clean]
    refusals = {o.application.id: type(o.refusal) for o in report.refused}
    assert refusals == {
        clash[0].id: ConflictsNotAcknowledged,
        clash[1].id: ConflictsNotAcknowledged,
        decided.id: IllegalTransition,
        draft.id: IllegalTransition,
    }
    assert [o.approved for o in report.outcomes] == [False, True, False, False, False]
    db.session.flush()
    db.session.expire_all()
    assert clean.latest.state is VersionState.APPROVED and clean.latest.decided_by_id == staff.id
    assert [a.latest.state for a in clash] == [VersionState.SUBMITTED] * 2
    assert approvals() == [str(clean.id)]  # the refused attempts left no audit event behind


def test_an_application_asked_for_twice_is_approved_once(election, make_application, staff):
    application = make_application(election, production=["192.0.2.5"], state="submitted")

    report = decisions.bulk_approve([application.id, application.id], staff=staff, at=NOW)

    assert report.approved == [application]
    assert [type(o.refusal) for o in report.refused] == [IllegalTransition]
    assert approvals() == [str(application.id)]


def test_nothing_asked_for_approves_nothing(app, staff):
    report = decisions.bulk_approve([], staff=staff, at=NOW)
    assert (report.outcomes, report.unknown, report.approved, report.refused) == ((), (), [], [])


def test_the_queue_page_says_how_many_were_approved_and_which_were_not(client, election, make_application, staff):
    clean = [make_application(election, production=[f"192.0.2.{i}"], state="submitted") for i in (1, 2)]
    clash = [make_application(election, production=["192.0.2.9"], state="submitted") for _ in (1, 2)]
    db.session.commit()
    sign_in(client, staff)

    response = post_form(client, "/staff/applications/bulk-approve", {"application": [a.id for a in clean + clash]})

    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/applications")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "notice-success" in page and "notice-error" in page
    assert ": " + ", ".join(a.reference for a in clash) in page  # the refused ones, in the order asked
