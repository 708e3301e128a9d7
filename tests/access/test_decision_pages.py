"""The application page's decisions refused when the version shown is no longer the one to decide on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxMessage
from portal.registration.models import Application, VersionState
from tests.factories import post_form, sign_in


@pytest.fixture
def reviewer(client, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    return staff


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
    )


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_decision_on_a_version_not_shown_is_refused_on_the_page(
    client, reviewer, make_election, make_application, action
):
    application = make_application(make_election(code="prez2099"), state="submitted")
    db.session.commit()
    before = counts()

    response = post_form(client, f"/staff/applications/{application.id}/{action}", {"version": 2})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/applications/{application.id}")
    db.session.expire_all()
    assert db.session.get(Application, application.id).latest.state is VersionState.SUBMITTED
    assert counts() == before
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "notice-error" in follow and "notice-success" not in follow
