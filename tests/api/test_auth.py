"""Who may call: tokens and sessions, CSRF for sessions, staff verification, the rate limit."""

from __future__ import annotations

import re

from portal.accounts.models import Role
from portal.accounts.policy import public_route, staff_only_route
from portal.extensions import db
from tests.api.conftest import bearer, call, error_code
from tests.factories import csrf_token, sign_in

NEW_DRAFT = {"contact_email": "redakce@outlet.example"}


PUBLIC_ENDPOINTS = {"api.elections", "api.election", "api.openapi_document"}


def api_requests(app, values):
    """(method, url, view, endpoint) for every rule of the api blueprint, read from the URL map."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        url = re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, app.view_functions[rule.endpoint], rule.endpoint


def test_every_api_endpoint_but_the_public_ones_needs_authentication(app):
    protected = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and not public_route(rule.endpoint)
    }
    every = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert every - protected == PUBLIC_ENDPOINTS


def test_anonymous_callers_get_401_json_on_every_protected_endpoint(client, make_election, make_application):
    application = make_application(make_election(code="prez2099"), state="submitted")
    db.session.commit()
    values = {"application_id": application.id, "code": "prez2099"}
    for method, url, _view, endpoint in api_requests(client.application, values):
        response = call(client, method, url, json={"election": "prez2099"})
        if not public_route(endpoint, method):
            assert response.status_code == 401 and error_code(response) == "unauthorized", (method, url)
        else:
            assert response.status_code == 200, (method, url)
    db.session.expire_all()
    assert application.latest.state.value == "submitted"


def test_applicants_get_403_on_every_staff_endpoint(client, make_election, make_application, make_token):
    application = make_application(make_election(code="prez2099"), state="submitted")
    _token, secret = make_token(application.created_by)
    db.session.commit()
    values = {"application_id": application.id, "code": "prez2099"}
    staff_only = [(m, u) for m, u, _view, e in api_requests(client.application, values) if staff_only_route(e, m)]
    assert len(staff_only) == 6  # approve, reject, revoke, the allowlist, its reports and its public key
    for method, url in staff_only:
        response = call(client, method, url, secret=secret, json={})
        assert response.status_code == 403 and error_code(response) == "forbidden", (method, url)
    db.session.expire_all()
    assert application.latest.state.value == "submitted"


def test_public_endpoints_answer_anonymous_callers(client, make_election):
    make_election(code="prez2099")
    db.session.commit()
    assert client.get("/api/v1/elections").status_code == 200
    assert client.get("/api/v1/elections/prez2099").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_the_browser_session_works_and_its_writes_need_the_csrf_header(
    client, make_applicant, make_election, documentation_addresses
):
    election = make_election()
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    assert client.get("/api/v1/applications").status_code == 200

    body = {"election": election.code, **NEW_DRAFT}
    without = call(client, "POST", "/api/v1/applications", json=body)
    assert without.status_code == 403 and error_code(without) == "csrf_failed"
    forged = call(client, "POST", "/api/v1/applications", json=body, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 403 and error_code(forged) == "csrf_failed"

    token = csrf_token(client)
    created = call(client, "POST", "/api/v1/applications", json=body, headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["organisation"]["id"] == applicant.organisation_id


def test_a_token_needs_no_csrf_header_and_takes_precedence_over_the_session(
    client, make_applicant, make_election, make_token, documentation_addresses
):
    election = make_election()
    signed_in_user, token_owner = make_applicant(), make_applicant()
    _token, secret = make_token(token_owner)
    db.session.commit()
    sign_in(client, signed_in_user)

    created = call(client, "POST", "/api/v1/applications", secret=secret, json={"election": election.code})
    assert created.status_code == 201
    assert created.get_json()["organisation"]["id"] == token_owner.organisation_id
    assert "Set-Cookie" not in created.headers  # a token request is stateless
    listed = call(client, "GET", "/api/v1/applications", secret=secret).get_json()
    assert [a["organisation"]["id"] for a in listed["applications"]] == [token_owner.organisation_id]
    # The session still belongs to the signed-in user.
    assert client.get("/api/v1/applications").get_json()["applications"] == []


def test_a_broken_token_is_refused_even_with_a_valid_session(client, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    response = client.get("/api/v1/applications", headers=bearer("csu_revoked-or-unknown"))
    assert response.status_code == 401 and error_code(response) == "unauthorized"


def test_errors_follow_the_caller_s_language(app, make_applicant, make_token):
    czech, english = make_applicant(language="cs"), make_applicant(language="en")
    _t1, czech_secret = make_token(czech)
    _t2, english_secret = make_token(english)
    db.session.commit()
    client = app.test_client()
    czech_message = call(client, "GET", "/api/v1/applications/999", secret=czech_secret).get_json()["error"]
    english_message = call(client, "GET", "/api/v1/applications/999", secret=english_secret).get_json()["error"]
    assert czech_message["code"] == english_message["code"] == "not_found"
    assert english_message["message"] == "Not found."
    assert czech_message["message"] != english_message["message"]


def test_staff_without_the_second_factor_in_the_session_are_forbidden(client, make_staff, make_election):
    staff = make_staff(role=Role.REVIEWER, second_factor=False)
    db.session.commit()
    sign_in(client, staff)
    for method, url in [("GET", "/api/v1/applications"), ("GET", "/api/v1/applications/1")]:
        response = call(client, method, url)
        assert response.status_code == 403 and error_code(response) == "forbidden", url
    response = call(client, "POST", "/api/v1/applications/1/approve", headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 403 and error_code(response) == "forbidden"


def test_staff_session_with_the_second_factor_is_verified(client, make_staff, make_election, make_application):
    application = make_application(make_election(), state="submitted")
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    assert client.get(f"/api/v1/applications/{application.id}").status_code == 200
    approved = call(
        client,
        "POST",
        f"/api/v1/applications/{application.id}/approve",
        json={},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"


def test_a_staff_token_stops_counting_when_the_second_factor_is_removed(client, make_staff, make_token):
    staff = make_staff(role=Role.ADMIN)
    _token, secret = make_token(staff)
    staff.totp_secret = None
    db.session.commit()
    response = call(client, "GET", "/api/v1/applications", secret=secret)
    assert response.status_code == 403 and error_code(response) == "forbidden"


def test_the_rate_limit_is_per_token_and_answers_429_with_retry_after(make_app, make_applicant, make_token):
    app = make_app(PORTAL_API_RATE_LIMIT="3 per minute")
    with app.app_context():
        first_token_owner, second_token_owner = make_applicant(), make_applicant()
        _t1, first = make_token(first_token_owner)
        _t2, second = make_token(second_token_owner)
        db.session.commit()
        client = app.test_client()
        statuses = [call(client, "GET", "/api/v1/applications", secret=first).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = call(client, "GET", "/api/v1/elections", secret=first)
        assert limited.status_code == 429 and error_code(limited) == "rate_limited"
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        # Another token has its own allowance.
        assert call(client, "GET", "/api/v1/applications", secret=second).status_code == 200
