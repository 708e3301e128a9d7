"""Four eyes: whoever recorded a data-box submission on an outlet's behalf cannot approve that version."""

from __future__ import annotations

import pytest

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.registration.models import Application, VersionState
from tests.api.conftest import call, error_code, make_token
from tests.factories import post_form, sign_in
from tests.registration.test_signed_submission import databox_form, download, latest, outlet, pki, signed_app

__all__ = ["make_token", "outlet", "pki", "signed_app"]  # fixtures shared with the signed-submission tests


@pytest.fixture
def recorded(signed_app, outlet, make_staff):
    """A version submitted through the data box, recorded (typed in) by reviewer ``recorder``."""
    client, application, base = outlet
    recorder = make_staff(role=Role.REVIEWER)
    second = make_staff(role=Role.REVIEWER)
    db.session.commit()
    recorder_client = signed_app.test_client()
    sign_in(recorder_client, recorder)
    response = post_form(
        recorder_client,
        f"/staff/applications/{application.id}/databox",
        databox_form(download(client, base), "2099-12-18T10:00"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert latest(application.id).state is VersionState.SUBMITTED
    return application, recorder, recorder_client, second


def approve(client, application_id):  # type: ignore[no-untyped-def]
    return post_form(client, f"/staff/applications/{application_id}/approve", {"version": 1})


def counts() -> tuple[int, int]:
    return db.session.query(AuditEvent).count(), db.session.query(OutboxMessage).count()


def test_the_recorder_cannot_approve_and_is_told_why(recorded):
    application, _recorder, recorder_client, _second = recorded
    before = counts()
    response = approve(recorder_client, application.id)
    assert response.status_code == 302
    page = recorder_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "princip čtyř očí" in page
    assert latest(application.id).state is VersionState.SUBMITTED
    assert counts() == before


def test_a_second_reviewer_approves_and_the_log_shows_both(signed_app, recorded):
    application, recorder, _recorder_client, second = recorded
    client = signed_app.test_client()
    sign_in(client, second)
    detail = client.get(f"/staff/applications/{application.id}").get_data(as_text=True)
    assert "zapsáno ručně" in detail and recorder.email in detail
    response = approve(client, application.id)
    assert response.status_code == 302
    version = latest(application.id)
    assert version.state is VersionState.APPROVED and version.decided_by_id == second.id
    assert version.submission_record.recorded_by_id == recorder.id
    actors = {
        e.action: e.actor_id for e in db.session.query(AuditEvent).filter(AuditEvent.action.like("application.%"))
    }
    assert actors["application.approve"] == second.id
    assert actors["application.submit"] == recorder.id


def test_the_api_refuses_the_recorder_with_a_code(signed_app, recorded, make_token):
    application, recorder, _client, _second = recorded
    _token, secret = make_token(recorder)
    db.session.commit()
    response = call(
        signed_app.test_client(), "POST", f"/api/v1/applications/{application.id}/approve", secret=secret, json={}
    )
    assert response.status_code == 403 and error_code(response) == "four_eyes_required"
    assert latest(application.id).state is VersionState.SUBMITTED


def test_an_election_may_switch_four_eyes_off(recorded):
    application, _recorder, recorder_client, _second = recorded
    db.session.get(Application, application.id).election.four_eyes = False
    db.session.commit()
    approve(recorder_client, application.id)
    assert latest(application.id).state is VersionState.APPROVED
