"""The policy applied to requests: the guard before every view, and ``require`` for the loaders.

The guard looks the request's route up in ``policy.ROUTES`` and refuses, before the view runs, a
caller whose role could never perform that action (401 anonymous, a second-factor prompt for staff
who have not passed it, 403 otherwise). Loaders then call ``require`` with the object's owning
organisation: 404 when the caller may not even see the object (so its existence does not leak),
403 when they may see it but not perform the action. Views never decide who may act.
"""

from __future__ import annotations

import logging

from flask import Flask, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.accounts.models import User
from portal.accounts.policy import (
    ANONYMOUS,
    Action,
    Kind,
    Subject,
    could_permit,
    permits,
    route_rule,
    staff_grant_needs_second_factor,
)
from portal.accounts.session import has_second_factor_in_session
from portal.extensions import login_manager

log = logging.getLogger(__name__)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def current_subject() -> Subject:
    """The caller of this request as the policy sees them (a token's scopes bound an API call)."""
    cached: Subject | None = g.get("policy_subject")
    if cached is not None:
        return cached
    subject = ANONYMOUS
    if _is_api():
        from portal.api import auth  # the API resolves bearer tokens; HTML pages never accept them

        who = auth.caller()
        if who.user is not None:
            scopes = who.token.scope_set if who.token is not None else None
            subject = _subject_of(who.user, staff_verified=who.staff_verified, scopes=scopes)
    elif current_user.is_authenticated:
        user = current_user._get_current_object()
        subject = _subject_of(user, staff_verified=user.is_staff and has_second_factor_in_session(user))
    g.policy_subject = subject
    return subject


def _subject_of(user: User, *, staff_verified: bool, scopes: frozenset | None = None) -> Subject:
    return Subject(
        role=user.role,
        organisation_id=user.organisation_id,
        staff_verified=staff_verified and user.is_staff,
        scopes=scopes,
    )


def may(kind: Kind, action: Action, owner_organisation_id: int | None = None) -> bool:
    """For templates and listings: whether the caller may perform the action (nothing is refused)."""
    return permits(current_subject(), kind, action, owner_organisation_id)


def require(kind: Kind, action: Action, owner_organisation_id: int | None, *, view: Kind | None = None) -> None:
    """Refuse unless the caller may perform ``action`` on this object: 404 if they may not even see it.

    ``view`` names the kind whose VIEW rule decides visibility (default: ``kind``).
    """
    subject = current_subject()
    if permits(subject, kind, action, owner_organisation_id):
        return
    if not subject.signed_in:
        _refuse(401)
    if permits(subject, view or kind, Action.VIEW, owner_organisation_id):
        _refuse(403)
    _refuse(404)


def _note_refusal(status: int) -> None:
    """Remember on ``g`` that the policy refused this request (the log and the matrix test read it)."""
    g.policy_refused = status
    log.info("refused by the access policy: %s %s (%d)", request.method, request.path, status)


def _refuse(status: int, message: object | None = None, code: str | None = None) -> None:
    _note_refusal(status)
    if _is_api():
        from portal.api.errors import ApiError, not_found

        if status == 404:
            raise not_found()
        default = {401: "unauthorized", 403: "forbidden"}[status]
        raise ApiError(status, code or default, message)
    abort(status)


def guard_request() -> Response | None:
    """Before every view: the route's rule, checked against the caller's role (not yet the object)."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: the 404 or 405 follows
    rule = route_rule(endpoint, request.method)
    if rule is None:
        log.error("route %s (%s) has no entry in the access policy: refused", endpoint, request.method)
        _refuse(403)
        return None
    kind, action = rule
    subject = current_subject()
    if could_permit(subject, kind, action):
        return None
    if not subject.signed_in:
        _note_refusal(401)
        if _is_api():
            from portal.api.errors import unauthorized

            raise unauthorized()
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    if staff_grant_needs_second_factor(subject, kind, action):
        _note_refusal(403)
        return _second_factor_prompt()
    if subject.scopes is not None and could_permit(Subject(subject.role, subject.organisation_id, True), kind, action):
        from portal.api.errors import ApiError

        _note_refusal(403)
        raise ApiError(403, "insufficient_scope", _("This API token's scopes do not allow this action."))
    _refuse(403)
    return None


def _second_factor_prompt() -> Response:
    if _is_api():
        from portal.api.auth import SECOND_FACTOR_NEEDED
        from portal.api.errors import forbidden

        raise forbidden(SECOND_FACTOR_NEEDED)
    if current_user.has_second_factor:
        flash(_("Confirm your identity with a code from your authenticator."), "info")
        return redirect(url_for("accounts.second_factor", next=request.full_path))
    flash(_("Staff accounts must set up a second factor before doing anything else."), "info")
    return redirect(url_for("accounts.enrol_second_factor"))


def init_app(app: Flask) -> None:
    app.before_request(guard_request)
    # Templates ask the same table, so that nobody is shown a link the policy would refuse.
    app.jinja_env.globals.update(may=may, Kind=Kind, Action=Action)
