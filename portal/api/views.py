"""The JSON API, ``/api/v1``: elections (public), applications (the outlet's side), decisions (staff).

Views are thin: authenticate, parse, call the services (the office's decisions: ``portal.access.service``),
commit once, represent.
The rules live in the services; the API never repeats them.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from portal.access import allowlist, hosts
from portal.access import service as decisions
from portal.access.service import address_policy
from portal.accounts.access import load_organisation
from portal.accounts.guard import may
from portal.accounts.policy import Action, Kind
from portal.api import auth, openapi
from portal.api.errors import MAX_BODY_BYTES, ApiError, field_problem, from_registration, json_response
from portal.api.errors import not_found as not_found_error
from portal.api.parsing import BOOLEAN, STRING, STRING_LIST, VERSION_NUMBER, parse, read_object
from portal.api.queries import application_page
from portal.api.representations import application_json, election_json
from portal.db import utcnow
from portal.elections.service import all_elections, election_by_code
from portal.extensions import db, limiter
from portal.registration import service
from portal.registration.access import load_application
from portal.registration.content import ApplicationContent
from portal.registration.errors import RegistrationError
from portal.registration.messages import field_error_message
from portal.registration.models import Application, VersionState

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: The largest id a database integer column holds; a bigger one in a URL is simply not found.
MAX_ID = 2**31 - 1
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
MAX_INTERNAL_REASON = 2000

#: The content of a draft: what ``PUT /applications/<id>`` replaces (absent fields become empty).
CONTENT_FIELDS = {
    "contact_email": STRING,
    "contact_phone": STRING,
    "production": STRING_LIST,
    "test": STRING_LIST,
    "accept_terms": BOOLEAN,
    "note": STRING,
}
CREATE_FIELDS = {"election": STRING, **CONTENT_FIELDS, "submit": BOOLEAN}


def _api_rate_limit() -> str:
    return str(current_app.config.get("PORTAL_API_RATE_LIMIT") or auth.DEFAULT_RATE_LIMIT)


# One counter for the whole API per token, user or address.
limiter.shared_limit(_api_rate_limit, scope="api", key_func=auth.rate_limit_key)(bp)


@bp.before_request
def before_api_request() -> None:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large")
    # Bodies without a length (chunked) are cut at the same size when read.
    request.max_content_length = MAX_BODY_BYTES
    auth.authenticate_request()


# Loading ------------------------------------------------------------------------------------------


def _load_application(application_id: int, action: Action) -> Application:
    """The application, if the caller may perform ``action`` on it (the policy decides; 404 if not visible)."""
    return load_application(application_id, action)


def _application_response(application: Application, status: int = 200) -> ResponseReturnValue:
    staff = may(Kind.APPLICATION, Action.REVIEW)
    body = application_json(application, staff=staff, with_conflicts=staff)
    headers = {"Location": url_for("api.application", application_id=application.id)} if status == 201 else None
    return json_response(body, status, headers)


def _content(body: dict[str, object]) -> ApplicationContent:
    return ApplicationContent(
        contact_email=str(body.get("contact_email", "")),
        contact_phone=str(body.get("contact_phone", "")),
        production=list(body.get("production", [])),  # type: ignore[call-overload]
        test=list(body.get("test", [])),  # type: ignore[call-overload]
        accept_terms=bool(body.get("accept_terms", False)),
        note=str(body.get("note", "")),
    )


def _positive_int(name: str, default: int, problems: dict[str, tuple[str, object]]) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
        problems[name] = field_problem("not_a_positive_integer")
        return default
    return int(raw)


# Elections (public) -------------------------------------------------------------------------------


@bp.get("/elections")
def elections() -> ResponseReturnValue:
    now = utcnow()
    return json_response({"elections": [election_json(e, now) for e in all_elections()]})


@bp.get("/elections/<code>")
def election(code: str) -> ResponseReturnValue:
    found = election_by_code(code)
    if found is None:
        raise not_found_error()
    return json_response(election_json(found, utcnow()))


@bp.get("/elections/<code>/allowlist")
def election_allowlist(code: str) -> ResponseReturnValue:
    """The signed allowlist snapshot for firewall agents and feed proxies; 304 while unchanged."""
    found = election_by_code(code)
    if found is None:
        raise not_found_error()
    published = allowlist.publish(found, at=utcnow(), key=allowlist.signing_key())
    db.session.commit()
    if published.etag in request.if_none_match:
        response = current_app.response_class(status=304)
    else:
        response = json_response(published.document)
    response.set_etag(published.etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/elections/<code>/allowlist/reports")
def allowlist_report(code: str) -> ResponseReturnValue:
    """A firewall agent reports what its host enforces (after an apply, a refusal, an error, or a heartbeat)."""
    found = election_by_code(code)
    if found is None:
        raise not_found_error()
    try:
        report = hosts.parse_report(read_object())
    except hosts.ReportInvalid as invalid:
        fields = {name: field_problem(problem) for name, problem in invalid.problems.items()}
        raise ApiError(422, "validation_failed", _l("Some fields are not valid."), fields) from invalid
    host = hosts.store_report(found, report, user=auth.signed_in(), at=utcnow())
    db.session.commit()
    return json_response({"host": host.host, "version": host.version, "status": host.status.value}, 201)


@bp.get("/allowlist/public-key")
def allowlist_public_key() -> ResponseReturnValue:
    """The Ed25519 public key that verifies every snapshot (PEM), for the agents' configuration."""
    return current_app.response_class(allowlist.public_key_pem(), mimetype="application/x-pem-file")


# Applications -------------------------------------------------------------------------------------


@bp.get("/applications")
def applications() -> ResponseReturnValue:
    user = auth.signed_in()
    reviewer = may(Kind.APPLICATION, Action.REVIEW)
    problems: dict[str, tuple[str, object]] = {}
    election_id = None
    if code := request.args.get("election"):
        found = election_by_code(code)
        if found is None:
            problems["election"] = field_problem("unknown_election")
        else:
            election_id = found.id
    state = None
    if raw_state := request.args.get("state"):
        if raw_state in {s.value for s in VersionState}:
            state = VersionState(raw_state)
        else:
            problems["state"] = field_problem("invalid_choice")
    page = _positive_int("page", 1, problems)
    per_page = min(_positive_int("per_page", DEFAULT_PER_PAGE, problems), MAX_PER_PAGE)
    if problems:
        raise ApiError(422, "validation_failed", _l("Some fields are not valid."), problems)
    result = application_page(
        organisation_id=None if reviewer else user.organisation_id,
        election_id=election_id,
        state=state,
        page=page,
        per_page=per_page,
    )
    return json_response(
        {
            "applications": [application_json(a, staff=reviewer) for a in result.applications],
            "page": page,
            "per_page": per_page,
            "total": result.total,
        }
    )


@bp.post("/applications")
def create_application() -> ResponseReturnValue:
    """Start an application, save its content and, with ``submit``, submit it: all or nothing."""
    user = auth.signed_in()
    organisation = load_organisation(user.organisation_id or 0, Action.CREATE, Kind.APPLICATION)
    body = parse(CREATE_FIELDS, required=("election",))
    target = election_by_code(body["election"])
    if target is None:
        raise ApiError(
            422, "validation_failed", _l("Some fields are not valid."), {"election": field_problem("unknown_election")}
        )
    now = utcnow()
    policy = address_policy()
    try:
        application = service.start_application(organisation, target, user, at=now)
        service.save_draft(application.latest, _content(body), policy, at=now)
        if body.get("submit"):
            service.submit(application.latest, policy, user=user, at=now)
    except RegistrationError as error:
        db.session.rollback()
        raise from_registration(error) from error
    db.session.commit()
    return _application_response(application, 201)


@bp.get("/applications/<int:application_id>")
def application(application_id: int) -> ResponseReturnValue:
    return _application_response(_load_application(application_id, Action.VIEW))


@bp.put("/applications/<int:application_id>")
def replace_draft(application_id: int) -> ResponseReturnValue:
    """Replace the draft's content; fields left out become empty."""
    application = _load_application(application_id, Action.EDIT)
    body = parse(CONTENT_FIELDS)
    return _change(
        application,
        lambda: service.save_draft(application.latest, _content(body), address_policy(), at=utcnow()),
    )


@bp.post("/applications/<int:application_id>/submit")
def submit(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.SUBMIT)
    parse({}, allow_empty=True)
    user = auth.signed_in()
    return _change(
        application,
        lambda: service.submit(application.latest, address_policy(), user=user, at=utcnow()),
    )


@bp.post("/applications/<int:application_id>/withdraw")
def withdraw(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.WITHDRAW)
    parse({}, allow_empty=True)
    user = auth.signed_in()
    return _change(application, lambda: service.withdraw(application, user=user, at=utcnow()))


@bp.post("/applications/<int:application_id>/amend")
def amend(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.AMEND)
    parse({}, allow_empty=True)
    user = auth.signed_in()
    return _change(application, lambda: service.amend(application, user=user, at=utcnow()))


# The office's decision ------------------------------------------------------------------------------


@bp.post("/applications/<int:application_id>/approve")
def approve(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.APPROVE)
    body = parse({"acknowledge_conflicts": BOOLEAN, "expected_version": VERSION_NUMBER}, allow_empty=True)
    decisions.approve(
        application.latest,
        staff=auth.signed_in(),
        at=utcnow(),
        acknowledge_conflicts=bool(body.get("acknowledge_conflicts", False)),
        expected_version=body.get("expected_version"),
    )
    return _application_response(application)


@bp.post("/applications/<int:application_id>/reject")
def reject(application_id: int) -> ResponseReturnValue:
    """R8: a reason is optional and internal; the outlet's view of the application never shows it."""
    application = _load_application(application_id, Action.REJECT)
    reason, expected_version = _refusal_body()
    decisions.reject(
        application.latest,
        staff=auth.signed_in(),
        at=utcnow(),
        internal_reason=reason,
        expected_version=expected_version,
    )
    return _application_response(application)


@bp.post("/applications/<int:application_id>/revoke")
def revoke(application_id: int) -> ResponseReturnValue:
    """Take back the approval in force; its addresses leave the next allowlist version."""
    application = _load_application(application_id, Action.REVOKE)
    reason, expected_version = _refusal_body()
    decisions.revoke(
        application, staff=auth.signed_in(), at=utcnow(), internal_reason=reason, expected_version=expected_version
    )
    return _application_response(application)


def _refusal_body() -> tuple[str, int | None]:
    """The optional internal reason of a refusal or a revocation, and the version the caller decided on."""
    body = parse({"internal_reason": STRING, "expected_version": VERSION_NUMBER}, allow_empty=True)
    reason = str(body.get("internal_reason", ""))
    if len(reason) > MAX_INTERNAL_REASON:
        message = field_error_message("too_long", {"max": MAX_INTERNAL_REASON})
        raise ApiError(
            422, "validation_failed", _l("Some fields are not valid."), {"internal_reason": ("too_long", message)}
        )
    return reason, body.get("expected_version")


def _change(application: Application, action) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    """Run a service action; commit once, or roll back and answer with the service's refusal."""
    try:
        action()
    except RegistrationError as error:
        db.session.rollback()
        raise from_registration(error) from error
    db.session.commit()
    return _application_response(application)


# The description of all of the above ------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return json_response(openapi.document())
