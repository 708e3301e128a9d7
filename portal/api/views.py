"""The JSON API, ``/api/v1``: elections (public), applications (the outlet's side), decisions (staff).

Views are thin: authenticate, parse, call the services (the office's decisions: ``portal.access.service``),
represent. The request commits once when the view returns and rolls back on any error
(``portal/unit_of_work.py``); a service's refusal becomes the API's error shape in the one error handler.
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
from portal.api.errors import MAX_BODY_BYTES, ApiError, field_problem, json_response
from portal.api.errors import not_found as not_found_error
from portal.api.parsing import parse, validate
from portal.api.queries import application_page
from portal.api.representations import application_json, application_list_json, election_json, election_list_json
from portal.api.schemas import firewall, requests
from portal.db import utcnow
from portal.elections.service import all_elections, election_by_code
from portal.extensions import limiter
from portal.registration import service
from portal.registration.access import load_application
from portal.registration.models import Application

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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


# Elections (public) -------------------------------------------------------------------------------


@bp.get("/elections")
def elections() -> ResponseReturnValue:
    now = utcnow()
    return json_response(election_list_json(all_elections(), now))


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
    report = parse(firewall.FirewallReport).report()
    host = hosts.store_report(found, report, user=auth.signed_in(), at=utcnow())
    accepted = firewall.FirewallReportAccepted(host=host.host, version=host.version, status=host.status.value)
    return json_response(accepted.model_dump(mode="json"), 201)


@bp.get("/allowlist/public-key")
def allowlist_public_key() -> ResponseReturnValue:
    """The Ed25519 public key that verifies every snapshot (PEM), for the agents' configuration."""
    return current_app.response_class(allowlist.public_key_pem(), mimetype="application/x-pem-file")


# Applications -------------------------------------------------------------------------------------


@bp.get("/applications")
def applications() -> ResponseReturnValue:
    user = auth.signed_in()
    reviewer = may(Kind.APPLICATION, Action.REVIEW)
    query = validate(requests.ApplicationQuery, request.args.to_dict())
    per_page = min(query.per_page, requests.MAX_PER_PAGE)
    result = application_page(
        organisation_id=None if reviewer else user.organisation_id,
        election_id=query.election_id,
        state=query.state,
        page=query.page,
        per_page=per_page,
    )
    return json_response(
        application_list_json(
            result.applications, staff=reviewer, page=query.page, per_page=per_page, total=result.total
        )
    )


@bp.post("/applications")
def create_application() -> ResponseReturnValue:
    """Start an application, save its content and, with ``submit``, submit it: all or nothing."""
    user = auth.signed_in()
    organisation = load_organisation(user.organisation_id or 0, Action.CREATE, Kind.APPLICATION)
    body = parse(requests.ApplicationCreate)
    target = election_by_code(body.election)
    if target is None:
        raise ApiError(
            422, "validation_failed", _l("Some fields are not valid."), {"election": field_problem("unknown_election")}
        )
    now = utcnow()
    policy = address_policy()
    application = service.start_application(organisation, target, user, at=now)
    service.save_draft(application.latest, body.content(), policy, at=now)
    if body.submit:
        service.submit(application.latest, policy, user=user, at=now)
    return _application_response(application, 201)


@bp.get("/applications/<int:application_id>")
def application(application_id: int) -> ResponseReturnValue:
    return _application_response(_load_application(application_id, Action.VIEW))


@bp.put("/applications/<int:application_id>")
def replace_draft(application_id: int) -> ResponseReturnValue:
    """Replace the draft's content; fields left out become empty."""
    application = _load_application(application_id, Action.EDIT)
    body = parse(requests.ApplicationContent)
    return _change(
        application,
        lambda: service.save_draft(application.latest, body.content(), address_policy(), at=utcnow()),
    )


@bp.post("/applications/<int:application_id>/submit")
def submit(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.SUBMIT)
    parse(requests.Empty, allow_empty=True)
    user = auth.signed_in()
    return _change(
        application,
        lambda: service.submit(application.latest, address_policy(), user=user, at=utcnow()),
    )


@bp.post("/applications/<int:application_id>/withdraw")
def withdraw(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.WITHDRAW)
    parse(requests.Empty, allow_empty=True)
    user = auth.signed_in()
    return _change(application, lambda: service.withdraw(application, user=user, at=utcnow()))


@bp.post("/applications/<int:application_id>/amend")
def amend(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.AMEND)
    parse(requests.Empty, allow_empty=True)
    user = auth.signed_in()
    return _change(application, lambda: service.amend(application, user=user, at=utcnow()))


# The office's decision ------------------------------------------------------------------------------


@bp.post("/applications/<int:application_id>/approve")
def approve(application_id: int) -> ResponseReturnValue:
    application = _load_application(application_id, Action.APPROVE)
    body = parse(requests.Approve, allow_empty=True)
    decisions.approve(
        application.latest,
        staff=auth.signed_in(),
        at=utcnow(),
        acknowledge_conflicts=body.acknowledge_conflicts,
        expected_version=body.expected_version,
    )
    return _application_response(application)


@bp.post("/applications/<int:application_id>/reject")
def reject(application_id: int) -> ResponseReturnValue:
    """R8: a reason is optional and internal; the outlet's view of the application never shows it."""
    application = _load_application(application_id, Action.REJECT)
    body = parse(requests.Reject, allow_empty=True)
    decisions.reject(
        application.latest,
        staff=auth.signed_in(),
        at=utcnow(),
        internal_reason=body.internal_reason,
        expected_version=body.expected_version,
    )
    return _application_response(application)


@bp.post("/applications/<int:application_id>/revoke")
def revoke(application_id: int) -> ResponseReturnValue:
    """Take back the approval in force; its addresses leave the next allowlist version."""
    application = _load_application(application_id, Action.REVOKE)
    body = parse(requests.Reject, allow_empty=True)
    decisions.revoke(
        application,
        staff=auth.signed_in(),
        at=utcnow(),
        internal_reason=body.internal_reason,
        expected_version=body.expected_version,
    )
    return _application_response(application)


def _change(application: Application, action) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    """Run a service action and answer with the application (a refusal propagates to the error handler)."""
    action()
    return _application_response(application)


# The description of all of the above ------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return json_response(openapi.document())
