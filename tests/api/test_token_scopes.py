"""Scoped tokens: a token never does more than the scopes chosen when it was made, nor its owner's role."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.accounts.policy import Scope
from portal.api import service
from portal.api.models import ApiToken
from portal.db import utcnow
from portal.extensions import db
from portal.registration.models import Application, VersionState
from tests.api.conftest import call, error_code
from tests.api.test_tokens import SECRET_PATTERN
from tests.factories import post_form, sign_in


@pytest.fixture
def submitted(make_election, make_application):  # type: ignore[no-untyped-def]
    application = make_application(make_election(code="prez2099"), state="submitted")
    db.session.commit()
    return application


def state_of(application_id: int) -> VersionState:
    db.session.expire_all()
    return db.session.get(Application, application_id).latest.state


def test_an_allowlist_only_token_reads_the_allowlist_and_nothing_else(client, submitted, make_staff, make_token):
    ops = make_staff(role=Role.OPS)
    _token, secret = make_token(ops, scopes=[Scope.ALLOWLIST_READ])
    db.session.commit()
    assert call(client, "GET", "/api/v1/elections/prez2099/allowlist", secret=secret).status_code == 200
    assert call(client, "GET", "/api/v1/allowlist/public-key", secret=secret).status_code == 200
    report = call(client, "POST", "/api/v1/elections/prez2099/allowlist/reports", secret=secret, json={})
    assert report.status_code == 403 and error_code(report) == "insufficient_scope"
    for method, path in [("POST", "withdraw"), ("POST", "approve"), ("PUT", "")]:
        url = f"/api/v1/applications/{submitted.id}/{path}".rstrip("/")
        response = call(client, method, url, secret=secret, json={})
        assert response.status_code == 403, (method, url)
    assert state_of(submitted.id) is VersionState.SUBMITTED


def test_an_admin_token_made_for_the_allowlist_cannot_decide(client, submitted, make_staff, make_token):
    admin = make_staff(role=Role.ADMIN)
    _token, secret = make_token(admin, scopes=[Scope.ALLOWLIST_READ, Scope.ALLOWLIST_REPORT])
    db.session.commit()
    response = call(client, "POST", f"/api/v1/applications/{submitted.id}/approve", secret=secret, json={})
    assert response.status_code == 403 and error_code(response) == "insufficient_scope"
    assert call(client, "GET", f"/api/v1/applications/{submitted.id}", secret=secret).status_code == 403
    assert state_of(submitted.id) is VersionState.SUBMITTED
    _token, review = make_token(admin, scopes=[Scope.REVIEW])
    db.session.commit()
    approved = call(client, "POST", f"/api/v1/applications/{submitted.id}/approve", secret=review, json={})
    assert approved.status_code == 200
    assert state_of(submitted.id) is VersionState.APPROVED


@pytest.mark.parametrize(
    ("role", "scopes", "code"),
    [
        (Role.OPS, [Scope.REVIEW], "scope_not_allowed"),
        (Role.REVIEWER, [Scope.ALLOWLIST_READ], "scope_not_allowed"),
        (Role.APPLICANT, [Scope.REVIEW], "scope_not_allowed"),
        (Role.ADMIN, [], "scope_required"),
    ],
)
def test_a_token_cannot_be_made_with_more_than_the_role_allows(app, make_staff, make_applicant, role, scopes, code):
    user = make_applicant() if role is Role.APPLICANT else make_staff(role=role)
    with pytest.raises(service.TokenRefused) as refused:
        service.mint(user, "t", lifetime_days=30, second_factor_passed=True, at=utcnow(), scopes=scopes)
    assert refused.value.code == code


def test_ops_choose_the_scopes_on_the_tokens_page(app, make_staff):
    ops = make_staff(role=Role.OPS)
    db.session.commit()
    client = app.test_client()
    sign_in(client, ops)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="allowlist:read"' in page and 'value="review"' not in page
    refused = post_form(client, "/account/tokens", {"name": "agent", "lifetime": "30", "scopes": "review"})
    assert refused.status_code == 200 and db.session.scalar(select(ApiToken)) is None
    made = post_form(client, "/account/tokens", {"name": "agent", "lifetime": "30", "scopes": "allowlist:read"})
    assert SECRET_PATTERN.search(made.get_data(as_text=True))
    token = db.session.scalar(select(ApiToken))
    assert token.scopes == "allowlist:read"
