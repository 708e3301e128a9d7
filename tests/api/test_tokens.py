"""Personal API tokens: created on /account/tokens and shown once, stored as a hash, refused once
revoked or expired, and their last use noted."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import Role
from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from tests.api.conftest import call, error_code
from tests.factories import csrf_token, post_form, sign_in

SECRET_PATTERN = re.compile(r'<code class="secret" id="new-token">(csu_[A-Za-z0-9_-]+)</code>')


def create_on_page(client, name="newsroom importer", lifetime="90"):
    return post_form(client, "/account/tokens", {"name": name, "lifetime": lifetime})


def test_the_profile_links_to_the_tokens_page(client, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    assert 'href="/account/tokens"' in client.get("/account").get_data(as_text=True)


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(client, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)

    page = create_on_page(client)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    secret = SECRET_PATTERN.search(page.get_data(as_text=True)).group(1)
    assert len(secret) == 4 + 43

    token = db.session.scalar(select(ApiToken))
    assert token.user_id == applicant.id and token.name == "newsroom importer"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:8]
    assert token.expires_at - token.created_at == timedelta(days=90)
    stored = [str(value) for value in db.session.execute(select(ApiToken.__table__)).one()]
    assert secret not in stored

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing
    assert f"{token.prefix}…" in listing and "newsroom importer" in listing
    assert call(client, "GET", "/api/v1/applications", secret=secret).status_code == 200


def test_a_token_needs_a_name(client, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    page = create_on_page(client, name="")
    assert page.status_code == 200 and not SECRET_PATTERN.search(page.get_data(as_text=True))
    assert db.session.scalar(select(ApiToken)) is None


def test_applicants_may_choose_no_expiry_but_staff_may_not(client, app, make_applicant, make_staff):
    applicant = make_applicant()
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, applicant)
    assert create_on_page(client, lifetime="0").status_code == 200
    assert db.session.scalar(select(ApiToken)).expires_at is None

    staff_client = app.test_client()
    sign_in(staff_client, staff)
    assert 'value="0"' not in staff_client.get("/account/tokens").get_data(as_text=True)
    refused = create_on_page(staff_client, lifetime="0")
    assert refused.status_code == 200 and not SECRET_PATTERN.search(refused.get_data(as_text=True))
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == staff.id)) is None


def test_revoked_tokens_are_refused_with_401(client, app, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    secret = SECRET_PATTERN.search(create_on_page(client).get_data(as_text=True)).group(1)
    token_id = db.session.scalar(select(ApiToken.id))

    response = post_form(client, f"/account/tokens/{token_id}/revoke", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token_id).revoked_at is not None
    assert f"/account/tokens/{token_id}/revoke" not in client.get("/account/tokens").get_data(as_text=True)

    refused = call(app.test_client(), "GET", "/api/v1/applications", secret=secret)
    assert refused.status_code == 401 and error_code(refused) == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "api_tokens")).all()
    assert actions == ["api_token.created", "api_token.revoked"]


def test_expired_tokens_are_refused(client, make_applicant, make_token):
    applicant = make_applicant()
    _token, secret = make_token(applicant, lifetime_days=30, at=utcnow() - timedelta(days=31))
    db.session.commit()
    response = call(client, "GET", "/api/v1/elections", secret=secret)
    assert response.status_code == 401 and error_code(response) == "unauthorized"


def test_a_deactivated_user_s_token_is_refused(client, make_applicant, make_token):
    applicant = make_applicant()
    _token, secret = make_token(applicant)
    applicant.active = False
    db.session.commit()
    assert call(client, "GET", "/api/v1/applications", secret=secret).status_code == 401


def test_unknown_or_malformed_tokens_are_refused(client):
    for header in ["Bearer csu_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000, "csu_x"]:
        response = client.get("/api/v1/elections", headers={"Authorization": header})
        assert response.status_code == 401 and error_code(response) == "unauthorized", header


def test_last_use_is_noted(client, make_applicant, make_token):
    applicant = make_applicant()
    token, secret = make_token(applicant)
    db.session.commit()
    assert token.last_used_at is None

    before = utcnow()
    assert call(client, "GET", "/api/v1/applications", secret=secret).status_code == 200
    db.session.expire_all()
    first_use = db.session.get(ApiToken, token.id).last_used_at
    assert first_use is not None and first_use >= before - timedelta(seconds=1)

    # Within a minute the row is not written again; after it, it is.
    token = db.session.get(ApiToken, token.id)
    token.last_used_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert call(client, "GET", "/api/v1/elections", secret=secret).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > utcnow() - timedelta(minutes=1)


def test_another_person_s_token_cannot_be_revoked(client, make_applicant, make_token):
    owner, other = make_applicant(), make_applicant()
    token, _secret = make_token(owner, name="Owner's feed reader")
    db.session.commit()
    sign_in(client, other)
    assert post_form(client, f"/account/tokens/{token.id}/revoke", {}).status_code == 404
    assert post_form(client, "/account/tokens/99999999999999999999/revoke", {}).status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert "feed reader" not in client.get("/account/tokens").get_data(as_text=True)


def test_revoking_needs_the_csrf_token(client, make_applicant, make_token):
    applicant = make_applicant()
    token, _secret = make_token(applicant)
    db.session.commit()
    sign_in(client, applicant)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 400
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_the_tokens_page_needs_a_signed_in_user(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post("/account/tokens", data={"csrf_token": csrf_token(client), "name": "x", "lifetime": "30"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_mint_a_token_only_after_the_second_factor(app, make_staff):
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()

    # Signed in with the password only: the page offers no form, and a post is sent to the code step.
    half = app.test_client()
    post_form(half, "/login", {"email": staff.email, "password": "correct horse battery"})
    assert post_form(half, "/login/second-factor", {"code": "000000"}).status_code == 200
    assert half.get("/account/tokens").status_code == 302  # not signed in until the code step

    enrolling = make_staff(role=Role.ADMIN, second_factor=False)
    db.session.commit()
    unverified = app.test_client()
    sign_in(unverified, enrolling)
    page = unverified.get("/account/tokens").get_data(as_text=True)
    assert 'name="name"' not in page
    refused = create_on_page(unverified, lifetime="30")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/account/second-factor")
    assert db.session.scalar(select(ApiToken)) is None

    verified = app.test_client()
    sign_in(verified, staff)
    secret = SECRET_PATTERN.search(create_on_page(verified, lifetime="30").get_data(as_text=True)).group(1)
    # The token carries the second factor: it opens the staff-only view of every application.
    response = call(app.test_client(), "GET", "/api/v1/applications", secret=secret)
    assert response.status_code == 200
