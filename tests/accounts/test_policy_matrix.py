"""Every route, every method, every kind of caller, held against the one access policy.

The routes are read from the URL map (HTML pages and the API alike), so a route added later is tested
without editing this file, and a route without an entry in ``policy.ROUTES`` fails here. Each caller
(anonymous, a member of the owning organisation, an applicant of another organisation, and each staff
role with its second factor) asks for each route on objects of one organisation. The policy's table says
whether the caller may; the guard and the loaders must agree: a refusal is 401/403/404 (or a redirect to
sign in) and changes nothing in the database; an allowed request is not refused by the policy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from portal.accounts.models import Role, User
from portal.accounts.policy import ROUTES, Kind, Subject, permits, route_rule, scopes_allowed
from portal.accounts.session import SECOND_FACTOR, SIGNED_IN_AT
from portal.api import service as api_tokens
from portal.db import utcnow
from portal.extensions import db
from portal.filming import service as filming
from portal.filming.models import CollectionPoint
from portal.meetings import service as meetings
from tests.filming.conftest import request_content

#: Callers, by name. "member" belongs to the organisation that owns every object in the URLs;
#: "outsider" is an applicant of another organisation.
CALLERS = ("anonymous", "member", "outsider", "reviewer", "admin", "ops")
#: Routes acting on the caller's own organisation rather than on one named in the URL.
OWN_ORGANISATION_ROUTES = {"api.create_application", "api.applications"}
#: Routes whose object is the caller's own (a token): the URL names the caller's own.
OWN_OBJECT_ROUTES = {"api_tokens.revoke"}
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
#: Columns that a refused request may legitimately touch: when a token was last used.
VOLATILE_COLUMNS = {("api_tokens", "last_used_at")}


@dataclass
class World:
    organisation_id: int
    other_organisation_id: int
    application_id: int
    election_code: str
    request_code: str
    point_code: str
    users: dict[str, User]
    tokens: dict[str, tuple[int, str]]


@pytest.fixture
def matrix_app(make_app) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """CSRF off, so that every POST reaches the policy."""
    app = make_app(WTF_CSRF_ENABLED=False)

    @app.after_request
    def expose_refusal(response):  # type: ignore[no-untyped-def]
        refused = g.get("policy_refused")
        if refused:
            response.headers["X-Test-Policy-Refused"] = str(refused)
        return response

    with app.app_context():
        yield app


@pytest.fixture
def world(
    matrix_app,
    make_election,
    make_applicant,
    make_organisation,
    make_application,
    make_staff,
) -> World:  # type: ignore[no-untyped-def]
    election = make_election(code="prez2099")
    member = make_applicant()
    outsider = make_applicant()
    reviewer = make_staff(role=Role.REVIEWER)
    application = make_application(election, member, state="submitted")
    make_application(election, outsider, production=("192.0.2.77",), state="approved", staff=reviewer)
    permit_request = filming.save_draft(member.organisation, election, request_content(), user=member, at=utcnow())
    filming.submit(permit_request, user=member, at=utcnow())
    point = CollectionPoint(
        code="P001",
        name="Přebírací místo",
        address="Dominikánské náměstí 1, Brno",
        region="Jihomoravský kraj",
        district="Brno-město",
        capacity=2,
        active=True,
    )
    db.session.add(point)
    users = {
        "member": member,
        "outsider": outsider,
        "reviewer": reviewer,
        "admin": make_staff(role=Role.ADMIN),
        "ops": make_staff(role=Role.OPS),
    }
    meetings.schedule(election, meeting_details(), staff=users["admin"], at=utcnow())
    tokens = {}
    for name, user in users.items():
        for suffix in ("", ":spare"):  # the spare is the one the revoke route is asked to revoke
            minted = api_tokens.mint(user, "matrix", lifetime_days=30, second_factor_passed=True, at=utcnow())
            tokens[name + suffix] = (minted.token.id, minted.secret)
    db.session.commit()
    return World(
        organisation_id=member.organisation_id,
        other_organisation_id=outsider.organisation_id,
        application_id=application.id,
        election_code=election.code,
        request_code=permit_request.reference,
        point_code=point.code,
        users=users,
        tokens=tokens,
    )


def meeting_details() -> meetings.MeetingDetails:
    starts_at = utcnow() + timedelta(days=30)
    return meetings.MeetingDetails(starts_at, starts_at + timedelta(hours=2), place="ČSÚ, Na padesátém 81, Praha")


def subject_of(caller: str, world: World, *, token: bool) -> Subject:
    if caller == "anonymous":
        return Subject(role=None)
    user = world.users[caller]
    scopes = frozenset(scopes_allowed(user.role)) if token else None
    return Subject(user.role, user.organisation_id, staff_verified=user.is_staff, scopes=scopes)


def expected_allowed(endpoint: str, method: str, caller: str, world: World) -> bool:
    kind, action = route_rule(endpoint, method)  # type: ignore[misc]
    subject = subject_of(caller, world, token=endpoint.startswith("api."))
    owner = world.organisation_id
    if endpoint in OWN_ORGANISATION_ROUTES and subject.organisation_id is not None:
        owner = subject.organisation_id
    if kind in (Kind.SITE, Kind.ACCOUNT, Kind.API_TOKEN, Kind.ELECTION, Kind.NIGHT_BOARD, Kind.POLICY):
        owner = None
    return permits(subject, kind, action, owner)


def url_for_rule(rule, endpoint: str, caller: str, world: World) -> str:  # type: ignore[no-untyped-def]
    code = world.election_code
    if endpoint.startswith("filming_staff.") and "/requests/" in rule.rule:
        code = world.request_code
    elif endpoint.startswith("filming_staff.") and "/points/" in rule.rule:
        code = world.point_code
    own = caller if caller in world.tokens else "member"
    values = {
        "organisation_id": world.organisation_id,
        "application_id": world.application_id,
        "code": code,
        "token": "not-a-real-token",
        "user_id": world.users["member"].id,
        "token_id": world.tokens[own + ":spare"][0],
        "filename": "portal.css",
    }
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def fingerprint() -> str:
    """A digest of every row of every table (but columns a refused request may touch)."""
    digest = hashlib.sha256()
    db.session.expire_all()
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
            rows = connection.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
    return digest.hexdigest()


class Callers:
    """A signed-in browser session per caller, signed in again after an account route ends it."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app = app
        self.world = world
        self.clients: dict[str, FlaskClient] = {}

    def client(self, caller: str) -> FlaskClient:
        if caller not in self.clients:
            client = self.app.test_client()
            if caller != "anonymous":
                # Signing in is tested elsewhere; here a session is planted as a sign-in leaves it, because
                # signing in again and again would meet the sign-in limits and run out of one-time codes.
                user = self.world.users[caller]
                db.session.refresh(user)  # an account route may have started a new session generation
                with client.session_transaction() as session:
                    session["_user_id"] = user.get_id()
                    session["_fresh"] = True
                    session[SIGNED_IN_AT] = utcnow().timestamp()
                    if user.is_staff:
                        session[SECOND_FACTOR] = user.id
            self.clients[caller] = client
        return self.clients[caller]

    def forget(self, caller: str) -> None:
        self.clients.pop(caller, None)


def call(callers: Callers, world: World, caller: str, method: str, url: str, endpoint: str):  # type: ignore[no-untyped-def]
    if endpoint.startswith("api."):
        headers = {"Authorization": f"Bearer {world.tokens[caller][1]}"} if caller != "anonymous" else {}
        body = {} if method != "GET" else None
        return callers.client("anonymous").open(url, method=method, json=body, headers=headers)
    response = callers.client(caller).open(url, method=method, data={} if method != "GET" else None)
    if endpoint.startswith("accounts.") or endpoint == "site.set_language":
        callers.forget(caller)  # sign-in, sign-out and resets change the session: start afresh
    return response


def refused_by_policy(response) -> bool:  # type: ignore[no-untyped-def]
    return "X-Test-Policy-Refused" in response.headers


def routes(app: Flask) -> list[tuple[object, str, str]]:
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(m for m in rule.methods if m in METHODS):
            found.append((rule, rule.endpoint, method))
    return found


def test_every_route_has_an_entry_in_the_policy(matrix_app):
    missing = [
        f"{method} {rule.rule} ({endpoint})"
        for rule, endpoint, method in routes(matrix_app)
        if route_rule(endpoint, method) is None
    ]
    assert missing == [], "routes without an entry in portal/accounts/policy.py ROUTES"


def test_every_operation_of_the_openapi_document_is_a_route_in_the_policy(matrix_app):
    """The API's description and its routes agree, and the policy covers every documented operation."""
    from portal.api.openapi import document

    rules = {}
    for rule in matrix_app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods & set(METHODS):
                rules[(path, method.lower())] = rule.endpoint
    documented = [
        (path, method) for path, item in document()["paths"].items() for method in item if method.upper() in METHODS
    ]
    assert documented and all((path, method) in rules for path, method in documented)
    assert all(route_rule(rules[(path, method)], method.upper()) for path, method in documented)


def test_the_policy_names_no_route_that_does_not_exist(matrix_app):
    endpoints = {rule.endpoint for rule in matrix_app.url_map.iter_rules()}
    assert set(ROUTES) - endpoints == set()


def test_every_route_for_every_caller_agrees_with_the_policy(matrix_app, world):
    callers = Callers(matrix_app, world)
    disagreements: list[str] = []
    checked = refused = 0
    for rule, endpoint, method in routes(matrix_app):
        if endpoint == "static":
            continue
        for caller in CALLERS:
            allowed = expected_allowed(endpoint, method, caller, world)
            url = url_for_rule(rule, endpoint, caller, world)
            callers.client(caller)  # signed in before the database is looked at
            before = None if allowed else fingerprint()
            response = call(callers, world, caller, method, url, endpoint)
            checked += 1
            was_refused = refused_by_policy(response)
            label = f"{caller:9} {method:6} {url} ({endpoint}) -> {response.status_code}"
            if allowed and was_refused:
                disagreements.append(f"refused, but the policy allows: {label}")
            elif not allowed:
                refused += 1
                if not was_refused:
                    disagreements.append(f"allowed, but the policy refuses: {label}")
                elif not _is_refusal_status(response):
                    disagreements.append(f"refused with an unexpected answer: {label}")
                elif fingerprint() != before:
                    disagreements.append(f"refused, but the database changed: {label}")
    assert disagreements == [], "\n".join(disagreements)
    assert checked > 500 and refused > 200, (checked, refused)


def _is_refusal_status(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and ("/login" in location or "second-factor" in location)


def test_staff_reading_an_outlets_draft_are_shown_no_form_and_no_action(matrix_app, world):
    """A reviewer may read the outlet's application page, but is offered nothing the policy refuses."""
    callers = Callers(matrix_app, world)
    page = callers.client("reviewer").get(f"/organisations/{world.organisation_id}/applications/{world.application_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/withdraw" not in html and "/amend" not in html and 'name="contact_email"' not in html
    member = callers.client("member").get(f"/organisations/{world.organisation_id}/applications/{world.application_id}")
    assert "/withdraw" in member.get_data(as_text=True)
