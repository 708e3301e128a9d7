"""Garbage in, a clean JSON refusal out: never a 500, never an HTML page under /api/."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.registration.models import Application, VersionState
from tests.api.conftest import call, error_code

GARBAGE = [
    b"not json",
    b"[1, 2, 3]",
    b'"a string"',
    b"null",
    b"12",
    b"true",
    b"\xff\xfe\x00 not utf-8",
    b"\xef\xbb\xbf{}",  # a byte-order mark
    b'{"note": NaN}',
    b'{"note": Infinity}',
    b'{"production": "192.0.2.1"}',
    b'{"production": [1, 2]}',
    b'{"production": [["192.0.2.1"]]}',
    b'{"test": {"0": "192.0.2.1"}}',
    b'{"accept_terms": "yes"}',
    b'{"accept_terms": 1}',
    b'{"contact_email": 5, "submit": 1}',
    b'{"note": null}',
    b'{"note": "\\u0000"}',
    b'{"note": "\\ud800"}',
    b'{"contact_phone": ' + b"9" * 5000 + b"}",
    b'{"contact_phone": 1e400}',
    b'{"election": {"code": "prez2099"}}',
    b'{"hack": 1}',
    b'{"internal_reason": 42, "acknowledge_conflicts": "yes"}',
    b"[" * 50000,
    b'{"a":' * 10000 + b"1" + b"}" * 10000,
    b'{"note": "' + b"x" * (1024 * 1024) + b'"}',  # 1 MB
    b" " * (64 * 1024 + 1),
]


@pytest.fixture
def targets(make_applicant, make_election, make_application, make_staff, make_token, documentation_addresses):
    election = make_election(code="prez2099")
    applicant = make_applicant()
    draft = make_application(election, applicant, production=["192.0.2.10"])
    submitted = make_application(election, applicant, production=["192.0.2.11"], state="submitted")
    _t1, applicant_secret = make_token(applicant)
    _t2, staff_secret = make_token(make_staff(role=Role.ADMIN))
    db.session.commit()
    return {
        "draft": draft.id,
        "submitted": submitted.id,
        "endpoints": [
            ("POST", "/api/v1/applications", applicant_secret),
            ("PUT", f"/api/v1/applications/{draft.id}", applicant_secret),
            ("POST", f"/api/v1/applications/{draft.id}/submit", applicant_secret),
            ("POST", f"/api/v1/applications/{draft.id}/withdraw", applicant_secret),
            ("POST", f"/api/v1/applications/{submitted.id}/amend", applicant_secret),
            ("POST", f"/api/v1/applications/{submitted.id}/approve", staff_secret),
            ("POST", f"/api/v1/applications/{submitted.id}/reject", staff_secret),
        ],
    }


@pytest.mark.parametrize("body", GARBAGE, ids=lambda b: repr(b[:30]) + f"…{len(b)}")
def test_garbage_bodies_get_a_json_refusal_and_change_nothing(client, targets, body):
    for method, url, secret in targets["endpoints"]:
        response = call(client, method, url, secret=secret, data=body)
        assert response.status_code in (400, 413), (method, url, response.status_code, response.get_data()[:200])
        code = error_code(response)
        assert code == ("payload_too_large" if response.status_code == 413 else "malformed_json")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Application)) == 2
    assert db.session.get(Application, targets["draft"]).latest.state is VersionState.DRAFT
    assert db.session.get(Application, targets["submitted"]).latest.state is VersionState.SUBMITTED
    assert db.session.get(Application, targets["draft"]).latest.note == ""


def test_every_wrong_type_is_named(client, targets):
    _method, url, secret = targets["endpoints"][0]
    response = call(
        client,
        "POST",
        url,
        secret=secret,
        json={"production": "192.0.2.1", "accept_terms": "yes", "contact_email": 5, "test": [1], "hack": True},
    )
    assert response.status_code == 400 and error_code(response) == "malformed_json"
    fields = {name: problem["code"] for name, problem in response.get_json()["error"]["fields"].items()}
    assert fields == {
        "production": "not_a_list_of_strings",
        "accept_terms": "not_a_boolean",
        "contact_email": "not_a_string",
        "test": "not_a_list_of_strings",
        "hack": "unknown_field",
        "election": "missing",
    }


def test_a_one_megabyte_body_is_413(client, targets):
    _method, url, secret = targets["endpoints"][0]
    response = call(client, "POST", url, secret=secret, json={"election": "prez2099", "note": "x" * 1_000_000})
    assert response.status_code == 413 and error_code(response) == "payload_too_large"


def test_long_but_allowed_values_are_judged_by_the_service(client, targets):
    _method, url, secret = targets["endpoints"][0]
    response = call(
        client,
        "POST",
        url,
        secret=secret,
        json={
            "election": "prez2099",
            "note": "x" * 3000,
            "contact_phone": "1" * 500,
            "contact_email": "a" * 1000,
            "production": ["1" * 60000],
        },
    )
    assert response.status_code == 422
    codes = {name: f["code"] for name, f in response.get_json()["error"]["fields"].items()}
    assert codes == {
        "note": "too_long",
        "contact_phone": "invalid_phone",
        "contact_email": "invalid_email",
        "production": "address_not_an_address",
    }


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/nothing"),
        ("GET", "/api/"),
        ("PATCH", "/api/v1/applications"),
        ("GET", "/api/v1/applications/abc"),
        ("DELETE", "/api/v1/elections"),
        ("POST", "/api/v1/openapi.json"),
    ],
)
def test_unknown_urls_and_methods_answer_json(client, method, url):
    response = client.open(url, method=method, data=b"<html>", content_type="text/html")
    assert response.status_code in (404, 405)
    assert error_code(response) in ("not_found", "method_not_allowed")


def test_an_unexpected_fault_answers_json_500(make_app, monkeypatch):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def broken() -> list[object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr("portal.api.views.all_elections", broken)
    response = app.test_client().get("/api/v1/elections")
    assert response.status_code == 500 and error_code(response) == "internal_error"
    assert "a bug" not in response.get_data(as_text=True)
