"""The request schemas: each wrong field answered with the API's own code, never pydantic's."""

from __future__ import annotations

import pytest

from portal.accounts.models import Role
from portal.api.openapi import REQUEST_MODELS
from portal.api.parsing import field_code
from portal.api.schemas.requests import ApplicationQuery
from portal.extensions import db
from tests.api.conftest import call, error_code

URL = "/api/v1/applications"


@pytest.fixture
def outlet(make_applicant, make_election, make_token, documentation_addresses):
    election = make_election(code="prez2099")
    applicant = make_applicant()
    _token, secret = make_token(applicant)
    db.session.commit()
    return applicant, election, secret


@pytest.fixture
def reviewer(make_staff, make_token):
    _token, secret = make_token(make_staff(role=Role.REVIEWER))
    db.session.commit()
    return secret


@pytest.mark.parametrize("model", [*REQUEST_MODELS, ApplicationQuery], ids=lambda model: model.__name__)
def test_every_request_field_names_its_code(model):
    for name, field in model.model_fields.items():
        assert field_code(model, field.alias or name)


def field_codes(response) -> dict[str, str]:
    return {name: problem["code"] for name, problem in response.get_json()["error"]["fields"].items()}


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({"production": ["\u0000"]}, {"production": "invalid_text"}),
        ({"production": [1, "\u0000"]}, {"production": "not_a_list_of_strings"}),
        ({"production": ["\u0000", 1]}, {"production": "not_a_list_of_strings"}),
        ({"test": "2001:db8::1"}, {"test": "not_a_list_of_strings"}),
        ({"note": "\ud800"}, {"note": "invalid_text"}),
        (
            {"note": 1, "contact_email": None, "accept_terms": "true"},
            {
                "note": "not_a_string",
                "contact_email": "not_a_string",
                "accept_terms": "not_a_boolean",
            },
        ),
        ({"submit": 0, "x" * 300: 1}, {"submit": "not_a_boolean", "x" * 100: "unknown_field"}),
    ],
)
def test_shape_problems_are_400_with_one_code_per_field(client, outlet, body, codes):
    _applicant, _election, secret = outlet
    response = call(client, "POST", URL, secret=secret, json={"election": "prez2099", **body})
    assert response.status_code == 400 and error_code(response) == "malformed_json"
    assert field_codes(response) == codes


@pytest.fixture
def submitted(outlet, make_application):
    applicant, election, _secret = outlet
    application = make_application(election, applicant, production=["192.0.2.10"], state="submitted")
    db.session.commit()
    return application


@pytest.mark.parametrize("action", ["approve", "reject", "revoke"])
@pytest.mark.parametrize("version", ["1", 0, -1, 1.0, True, 2**31, [1]])
def test_a_decision_s_expected_version_is_a_positive_integer(client, submitted, reviewer, action, version):
    secret = reviewer
    response = call(client, "POST", f"{URL}/{submitted.id}/{action}", secret=secret, json={"expected_version": version})
    assert response.status_code == 400 and error_code(response) == "malformed_json"
    assert field_codes(response) == {"expected_version": "not_a_positive_integer"}


def test_a_shape_problem_is_answered_before_a_value_problem(client, submitted, reviewer):
    secret = reviewer
    body = {"internal_reason": "x" * 2001, "expected_version": "1"}
    response = call(client, "POST", f"{URL}/{submitted.id}/reject", secret=secret, json=body)
    assert response.status_code == 400 and field_codes(response) == {"expected_version": "not_a_positive_integer"}
    response = call(client, "POST", f"{URL}/{submitted.id}/reject", secret=secret, json={"internal_reason": "x" * 2001})
    assert response.status_code == 422 and field_codes(response) == {"internal_reason": "too_long"}
    assert "2000" in response.get_json()["error"]["fields"]["internal_reason"]["message"]


def test_a_firewall_report_s_detail_must_be_encodable_text(client, make_election, make_staff, make_token):
    make_election(code="prez2099")
    _token, secret = make_token(make_staff(role=Role.OPS))
    db.session.commit()
    body = {"host": "xml-1.volby.example", "status": "unchanged", "detail": "\ud800", "extra": 1}
    response = call(client, "POST", "/api/v1/elections/prez2099/allowlist/reports", secret=secret, json=body)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert field_codes(response) == {"detail": "not_a_string", "extra": "unknown_field"}


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("page=1.0&per_page=%2B5", {"page": "not_a_positive_integer", "per_page": "not_a_positive_integer"}),
        ("page=1234567890", {"page": "not_a_positive_integer"}),
        ("per_page=-1&state=Draft", {"per_page": "not_a_positive_integer", "state": "invalid_choice"}),
    ],
)
def test_list_arguments_are_refused_together(client, outlet, query, codes):
    _applicant, _election, secret = outlet
    response = call(client, "GET", f"{URL}?{query}", secret=secret)
    assert response.status_code == 422 and error_code(response) == "validation_failed"
    assert field_codes(response) == codes


def test_empty_and_unknown_list_arguments_filter_nothing_and_per_page_is_capped(client, outlet):
    _applicant, _election, secret = outlet
    response = call(client, "GET", f"{URL}?election=&state=&per_page=100000&sort=id", secret=secret)
    assert response.status_code == 200
    assert response.get_json()["per_page"] == 500
