"""The OpenAPI document: valid OpenAPI 3.1, in step with the URL map, and true to real answers."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from portal.accounts.models import Role
from portal.accounts.policy import public_route, staff_only_route
from portal.api.openapi import document
from portal.extensions import db
from tests.api.conftest import call

PREFIX = "/api/v1"
DOCUMENTED_METHODS = {"get", "put", "post", "delete", "patch"}


def api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]


def openapi_path(rule) -> str:
    """``/api/v1/applications/<int:application_id>`` -> ``/applications/{application_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(PREFIX))


def test_the_document_is_valid_openapi_3_1(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    spec = served.get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    assert spec == document()


def test_every_rule_is_described_and_every_description_is_a_rule(app):
    routes = {
        (openapi_path(rule), method.lower())
        for rule in api_rules(app)
        for method in rule.methods
        if method.lower() in DOCUMENTED_METHODS
    }
    spec = document()
    described = {
        (path, method) for path, item in spec["paths"].items() for method in item if method in DOCUMENTED_METHODS
    }
    assert routes == described
    assert all(rule.rule.startswith(PREFIX) for rule in api_rules(app))
    assert len(routes) == 16  # 13 for elections and applications, 3 for the allowlist (snapshot, reports, key)


def path_parameters(operation: dict, components: dict) -> set[str]:
    names = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = components[parameter["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "path":
            names.add(parameter["name"])
    return names


def test_path_parameters_match_the_rules(app):
    spec = document()
    for rule in api_rules(app):
        item = spec["paths"][openapi_path(rule)]
        for method in (m.lower() for m in rule.methods if m.lower() in DOCUMENTED_METHODS):
            declared = path_parameters(item[method], spec["components"]["parameters"])
            assert declared == set(rule.arguments), (rule.rule, method)


def test_protected_operations_document_401_and_staff_ones_403(app):
    spec = document()
    for rule in api_rules(app):
        for method in (m.lower() for m in rule.methods if m.lower() in DOCUMENTED_METHODS):
            responses = spec["paths"][openapi_path(rule)][method]["responses"]
            if not public_route(rule.endpoint, method.upper()):
                assert "401" in responses, (rule.rule, method)
            if staff_only_route(rule.endpoint, method.upper()):
                assert "403" in responses, (rule.rule, method)


def validator(name: str) -> Draft202012Validator:
    """A validator for one component schema, its references resolved within the document."""
    spec = document()
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def answers(client, make_applicant, make_election, make_application, make_staff, make_token, documentation_addresses):
    """Real answers of each kind, to hold against the schemas."""
    election = make_election(code="prez2099")
    applicant = make_applicant()
    make_application(election, make_applicant(), production=["192.0.2.9"], state="submitted")
    _t1, secret = make_token(applicant)
    _t2, staff_secret = make_token(make_staff(role=Role.REVIEWER))
    db.session.commit()
    created = call(
        client,
        "POST",
        "/api/v1/applications",
        secret=secret,
        json={
            "election": "prez2099",
            "contact_email": "a@outlet.example",
            "contact_phone": "274051111",
            "production": ["192.0.2.9"],
            "accept_terms": True,
            "submit": True,
        },
    ).get_json()
    url = f"/api/v1/applications/{created['id']}"
    rejected = call(client, "POST", f"{url}/reject", secret=staff_secret, json={"internal_reason": "x"}).get_json()
    return {
        "ElectionList": [client.get("/api/v1/elections").get_json()],
        "Election": [client.get("/api/v1/elections/prez2099").get_json()],
        "Application": [created, rejected, call(client, "GET", url, secret=staff_secret).get_json()],
        "ApplicationList": [
            call(client, "GET", "/api/v1/applications", secret=secret).get_json(),
            call(client, "GET", "/api/v1/applications", secret=staff_secret).get_json(),
        ],
        "Error": [
            call(client, "GET", "/api/v1/applications/777", secret=secret).get_json(),
            call(client, "POST", "/api/v1/applications", secret=secret, json={"production": 1}).get_json(),
            client.get("/api/v1/applications").get_json(),
        ],
    }


def test_real_answers_match_their_schemas(answers):
    for name, bodies in answers.items():
        check = validator(name)
        for body in bodies:
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(body)]
            assert errors == [], (name, errors)
    staff_view = answers["Application"][2]
    assert staff_view["versions"][0]["internal_reason"] == "x" and "conflicts" in staff_view
