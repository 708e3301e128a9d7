"""Every staff URL needs a staff role and a second factor; every organisation URL is isolated.

Both lists are read from the URL map, so a page added later is checked without editing this file.
"""

import re
from datetime import date

import pyotp
import pytest
from flask import Flask

from portal.accounts.models import Role
from portal.accounts.policy import staff_only_route
from portal.elections.seed import seed_elections
from portal.extensions import db
from tests.factories import PASSWORD, csrf_token, post_form, sign_in, totp_code


def staff_rules(app: Flask):
    """The HTML routes the access policy grants to staff roles only (the API has its own tests)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith("api.")
        and any(staff_only_route(rule.endpoint, m) for m in rule.methods - {"HEAD", "OPTIONS"})
    ]


def organisation_rules(app: Flask):
    return [rule for rule in app.url_map.iter_rules() if "organisation_id" in rule.arguments]


def build_url(rule, **values: object) -> str:
    """The rule with its arguments filled in; a rule with an argument nobody provided fails loudly."""
    values = {"code": "prez2028", "organisation_id": 1, **values}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m in {"GET", "POST"})


@pytest.fixture
def staff_urls(app, make_election, make_application):
    seed_elections(date(2026, 11, 23))
    application = make_application(make_election(), state="submitted")
    db.session.commit()
    values = {"application_id": application.id, "organisation_id": application.organisation_id}
    return [(method, build_url(rule, **values)) for rule in staff_rules(app) for method in methods(rule)]


def test_staff_pages_are_found_in_the_url_map(app):
    endpoints = {rule.endpoint for rule in staff_rules(app)}
    assert {
        "elections.admin_list",
        "elections.admin_edit",
        "elections.admin_new",
        "accounts.organisations",
    } <= endpoints


def test_every_staff_prefixed_url_is_protected(app):
    unprotected = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff/") and rule not in staff_rules(app)
    ]
    assert unprotected == []


def request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(client), "name_cs": "Změněno"})


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN, Role.OPS])
def test_staff_without_second_factor_is_refused_every_staff_page(client, make_staff, staff_urls, role):
    user = make_staff(role=role, second_factor=False)
    db.session.commit()
    response = sign_in(client, user)
    assert response.headers["Location"].endswith("/account/second-factor")
    for method, url in staff_urls:
        response = request(client, method, url)
        assert response.status_code in (302, 403), (method, url, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].endswith("/account/second-factor"), (method, url)
    assert "Změněno" not in client.get("/elections/prez2028").get_data(as_text=True)


def test_applicant_is_refused_every_staff_page(client, make_applicant, staff_urls):
    applicant = make_applicant()
    db.session.commit()
    sign_in(client, applicant)
    for method, url in staff_urls:
        assert request(client, method, url).status_code == 403, (method, url)


def test_anonymous_visitor_is_sent_to_sign_in_from_every_staff_page(client, staff_urls):
    for method, url in staff_urls:
        response = request(client, method, url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)


def test_reviewer_with_second_factor_sees_staff_pages_but_not_admin_ones(client, make_staff, staff_urls):
    reviewer = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, reviewer)
    assert client.get("/staff/elections").status_code == 200
    assert client.get("/staff/elections/prez2028/edit").status_code == 403


def test_enrolling_the_second_factor_opens_the_staff_pages(app, client, make_staff):
    user = make_staff(role=Role.ADMIN, second_factor=False)
    db.session.commit()
    sign_in(client, user)
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/svg+xml;base64,' in page

    wrong = post_form(client, "/account/second-factor", {"code": "000000"})
    assert wrong.status_code == 200 and 'id="code-error-1"' in wrong.get_data(as_text=True)
    assert client.get("/staff/elections").status_code == 302

    right = post_form(client, "/account/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 302
    assert client.get("/staff/elections").status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == secret


def test_a_second_factor_code_cannot_be_used_twice(app, make_staff):
    user = make_staff(role=Role.REVIEWER)
    db.session.commit()
    code = totp_code(user)
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert post_form(first, "/login/second-factor", {"code": code}).status_code == 302
    replay = post_form(second, "/login/second-factor", {"code": code})
    assert replay.status_code == 200 and 'id="code-error-1"' in replay.get_data(as_text=True)
    assert second.get("/staff/elections").status_code == 302


def test_staff_sign_in_without_the_code_does_not_sign_in(client, make_staff):
    user = make_staff(role=Role.ADMIN)
    db.session.commit()
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].startswith("/login/second-factor")
    assert client.get("/account").status_code == 302


def test_organisation_pages_are_found_in_the_url_map(app):
    assert {r.endpoint for r in organisation_rules(app)} >= {"accounts.organisation", "accounts.edit_organisation"}


def test_applicant_cannot_read_or_change_another_organisation(
    client, make_applicant, make_organisation, make_election, make_application
):
    from portal.registration.models import AddressSettings

    db.session.add(AddressSettings(id=1, allow_documentation=True))  # the own draft is complete: its PDF is offered
    own = make_applicant()
    other = make_organisation(name="Cizí redakce s.r.o.", ico="00027383")
    election = make_election(code="prez2099")
    stranger = make_applicant(organisation=other)
    other_application = make_application(election, stranger, production=["192.0.2.200"], state="submitted")
    own_application = make_application(election, own, production=["192.0.2.100"])
    db.session.commit()
    other_id, own_id = other.id, own.organisation_id
    theirs = {"organisation_id": other_id, "application_id": other_application.id, "code": election.code}
    mine = {"organisation_id": own_id, "application_id": own_application.id, "code": election.code}
    sign_in(client, own)
    rules = organisation_rules(client.application)
    for rule in rules:
        for method in methods(rule):
            url = build_url(rule, **theirs)
            if method == "GET":
                response = client.get(url)
            else:
                response = post_form(
                    client,
                    url,
                    {
                        "organisation_name": "Převzato",
                        "ico": "00027383",
                        "address": "Jinde 1",
                        "website": "",
                        "production-0": "192.0.2.201",
                        "accept_terms": "y",
                        "submit_application": "1",
                    },
                )
            assert response.status_code == 404, (method, url)
            body = response.get_data(as_text=True)
            assert "Cizí redakce" not in body and "192.0.2.200" not in body, (method, url)
        # The same URL works for the applicant's own organisation, so the refusal is about ownership.
        if "GET" in methods(rule):
            assert client.get(build_url(rule, **mine)).status_code == 200, rule.rule
    db.session.expire_all()
    assert db.session.get(type(other), other_id).name == "Cizí redakce s.r.o."
    assert db.session.get(type(other_application), other_application.id).latest.state.value == "submitted"
    assert len(rules) >= 6  # the organisation pages and the application pages


def test_verified_staff_can_read_any_organisation(client, make_staff, make_organisation):
    organisation = make_organisation(name="Rádio Test")
    staff = make_staff(role=Role.REVIEWER)
    db.session.commit()
    sign_in(client, staff)
    assert "Rádio Test" in client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
