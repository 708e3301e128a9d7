"""The office's decisions over the API: the version the caller decided on, and where a decision is made."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import func, select

from allowlist.addresses import AddressPolicy
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.registration import service as outlet
from portal.registration.content import ApplicationContent
from portal.registration.models import Application, VersionState
from tests.api.conftest import call, error_code

DECISION_MAIL = "registration/mail/decision.txt"
REVOCATION_MAIL = "registration/mail/revoked.txt"
POLICY = AddressPolicy(allow_documentation=True)
PORTAL = Path(__file__).resolve().parents[2] / "portal"


@pytest.fixture
def election(make_election, documentation_addresses):
    return make_election(code="prez2099")


@pytest.fixture
def reviewer(make_staff, make_token):
    staff = make_staff(role=Role.REVIEWER)
    _token, secret = make_token(staff)
    db.session.commit()
    return staff, secret


def amended_and_submitted(application: Application) -> None:
    """Version 1 in force, version 2 waiting: what a reviewer who opened version 1 did not see."""
    applicant = application.created_by
    draft = outlet.amend(application, user=applicant, at=utcnow())
    content = ApplicationContent(
        contact_email=applicant.email,
        contact_phone="+420 274 051 111",
        production=["192.0.2.99"],
        test=[],
        accept_terms=True,
    )
    outlet.save_draft(draft, content, POLICY, at=utcnow())
    outlet.submit(draft, POLICY, user=applicant, at=utcnow())


def snapshot(application_id: int) -> dict[str, Any]:
    """What a refused decision must leave as it was: the states, the audit trail, the decision mails."""
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    mails = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template.in_([DECISION_MAIL, REVOCATION_MAIL]))
    )
    events = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.subject_type == "applications", AuditEvent.subject_id == str(application_id))
    )
    return {
        "states": [(v.number, v.state) for v in application.versions],
        "in_force": application.in_force.number if application.in_force else None,
        "events": events,
        "mails": mails,
    }


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("approve", {"expected_version": 1, "acknowledge_conflicts": True}),
        ("reject", {"expected_version": 1, "internal_reason": "seen version 1"}),
        ("revoke", {"expected_version": 2, "internal_reason": "version 2 is not in force"}),
    ],
)
def test_a_decision_on_a_version_the_caller_did_not_see_is_stale_and_changes_nothing(
    client, election, make_application, reviewer, action, body
):
    staff, secret = reviewer
    application = make_application(election, production=["192.0.2.41"], state="approved", staff=staff)
    amended_and_submitted(application)  # latest is 2 (waiting), 1 stays in force
    db.session.commit()
    before = snapshot(application.id)

    response = call(client, "POST", f"/api/v1/applications/{application.id}/{action}", secret=secret, json=body)

    assert response.status_code == 409 and error_code(response) == "stale_version", response.get_json()
    assert snapshot(application.id) == before


@pytest.mark.parametrize(
    ("action", "body", "after"),
    [
        ("approve", {"expected_version": 2, "acknowledge_conflicts": True}, VersionState.APPROVED),
        ("reject", {"expected_version": 2}, VersionState.REJECTED),
    ],
)
def test_a_decision_on_the_version_the_caller_saw_is_made(
    client, election, make_application, reviewer, action, body, after
):
    staff, secret = reviewer
    application = make_application(election, production=["192.0.2.42"], state="approved", staff=staff)
    amended_and_submitted(application)
    db.session.commit()
    mails_before = snapshot(application.id)["mails"]

    response = call(client, "POST", f"/api/v1/applications/{application.id}/{action}", secret=secret, json=body)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["versions"][-1]["state"] == after.value
    assert snapshot(application.id)["mails"] == mails_before + 1


def test_a_revocation_of_the_version_in_force_the_caller_saw_is_made(client, election, make_application, reviewer):
    staff, secret = reviewer
    application = make_application(election, production=["192.0.2.43"], state="approved", staff=staff)
    amended_and_submitted(application)
    db.session.commit()

    response = call(
        client, "POST", f"/api/v1/applications/{application.id}/revoke", secret=secret, json={"expected_version": 1}
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["in_force_version"] is None
    assert snapshot(application.id)["states"] == [(1, VersionState.REJECTED), (2, VersionState.SUBMITTED)]


def test_a_revocation_when_nothing_is_in_force_any_more_is_stale(client, election, make_application, reviewer):
    """The caller saw version 1 in force; another reviewer revoked it meanwhile."""
    staff, secret = reviewer
    application = make_application(election, production=["192.0.2.44"], state="approved", staff=staff)
    db.session.commit()
    url = f"/api/v1/applications/{application.id}/revoke"
    assert call(client, "POST", url, secret=secret, json={"expected_version": 1}).status_code == 200
    before = snapshot(application.id)

    again = call(client, "POST", url, secret=secret, json={"expected_version": 1})

    assert again.status_code == 409 and error_code(again) == "stale_version"
    assert snapshot(application.id) == before


@pytest.mark.parametrize("value", ["1", True, 0, -1, 1.5, None, [1]])
@pytest.mark.parametrize("action", ["approve", "reject", "revoke"])
def test_expected_version_must_be_a_version_number(client, election, make_application, reviewer, action, value):
    staff, secret = reviewer
    application = make_application(election, state="approved", staff=staff)
    db.session.commit()
    before = snapshot(application.id)

    response = call(
        client,
        "POST",
        f"/api/v1/applications/{application.id}/{action}",
        secret=secret,
        json={"expected_version": value},
    )

    assert response.status_code == 400 and error_code(response) == "malformed_json"
    assert response.get_json()["error"]["fields"]["expected_version"]["code"] == "not_a_positive_integer"
    assert snapshot(application.id) == before


# Where a decision is made ---------------------------------------------------------------------------------


def files_entered(during) -> set[Path]:  # type: ignore[no-untyped-def]
    """The source files of every Python function called while ``during()`` runs (in this thread)."""
    entered: set[str] = set()

    def trace(frame: FrameType, event: str, _arg: object) -> None:
        if event == "call":
            entered.add(frame.f_code.co_filename)

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        during()
    finally:
        sys.settrace(previous)
    return {Path(name).resolve() for name in entered if not name.startswith("<")}


@pytest.mark.parametrize("action", ["approve", "reject", "revoke"])
def test_a_decision_walked_from_the_api_enters_access_and_never_the_outlet_s_service(
    client, election, make_application, reviewer, action
):
    staff, secret = reviewer
    application = make_application(
        election, production=["192.0.2.45"], state="approved" if action == "revoke" else "submitted", staff=staff
    )
    db.session.commit()
    responses = []

    entered = files_entered(
        lambda: responses.append(
            call(client, "POST", f"/api/v1/applications/{application.id}/{action}", secret=secret, json={})
        )
    )

    assert responses[0].status_code == 200, responses[0].get_json()
    assert PORTAL / "api" / "views.py" in entered
    assert PORTAL / "access" / "service.py" in entered
    assert PORTAL / "registration" / "service.py" not in entered
    assert PORTAL / "registration" / "views.py" not in entered


def test_the_outlet_s_service_holds_no_decision():
    from portal.access import service as decisions

    for name in ("approve", "reject", "revoke", "bulk_approve", "conflicts_for", "address_policy"):
        assert not hasattr(outlet, name), name
        assert callable(getattr(decisions, name)), name
