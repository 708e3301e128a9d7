"""One unit of work per request and per command: commit once when it succeeds, roll back on any error.

Views, API endpoints, services and commands never commit or roll back. Services flush; a request is
committed here after its view returned, and rolled back when anything raised (the error handlers then
answer). A refusal by the rules (:class:`portal.problems.PortalError`) raised out of an HTML view becomes a
flash and a redirect, under ``/api/`` the API's error shape. A command runs in :func:`command`, a long
loop's steps each in :func:`transaction`.

A view that shows a refusal itself (a form with its field errors) calls :func:`refused`: the request then
ends like a failed one, and nothing it flushed is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from portal.extensions import db
from portal.problems import PortalError, describe

P = ParamSpec("P")
R = TypeVar("R")

_REFUSED = "portal_unit_of_work_refused"
_REDIRECT_ATTRIBUTE = "refusals_go_to"


class PortalApp(Flask):
    """Flask, with every view run as one unit of work."""

    def dispatch_request(self) -> ResponseReturnValue:  # type: ignore[override]
        try:
            answer = super().dispatch_request()
        except BaseException:
            db.session.rollback()
            raise
        finish()
        return answer


def finish() -> None:
    """Commit the request's work, unless the view showed a refusal; a failed commit is rolled back."""
    if g.pop(_REFUSED, False):
        db.session.rollback()
        return
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def refused() -> None:
    """The view answers a refusal itself: keep nothing of this request."""
    g.setdefault(_REFUSED, True)


@contextmanager
def transaction() -> Iterator[None]:
    """One step of a command's loop as a unit of work of its own: committed, or rolled back and re-raised."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


@contextmanager
def separate_transaction() -> Iterator[Session]:
    """A short transaction on a connection of its own, committed at once whatever the request does later
    (bookkeeping such as a token's last use must neither wait for the request nor hold its locks)."""
    with Session(db.engine, expire_on_commit=False) as session, session.begin():
        yield session


def command(function: Callable[P, R]) -> Callable[P, R]:
    """Run a command as one unit of work (its refusals and ``SystemExit`` roll it back)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction():
            return function(*args, **kwargs)

    return run


def refusals_go_to(endpoint: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Where an HTML view's refusal sends the user: ``endpoint`` with the arguments of the request's URL
    that it takes (a detail page after a refused action on it)."""

    def mark(view: Callable[P, R]) -> Callable[P, R]:
        setattr(view, _REDIRECT_ATTRIBUTE, endpoint)
        return view

    return mark


def init_app(app: Flask) -> None:
    app.register_error_handler(PortalError, _refusal_response)


def _refusal_response(error: PortalError) -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        from portal.api.errors import portal_error_response

        return portal_error_response(error)
    flash(describe(error), "error")
    target = _refusal_target()
    if target is None:
        return render_template("error.html", code=error.status, message=describe(error)), error.status
    return redirect(target)


def _refusal_target() -> str | None:
    """The declared page of the view, else the page the form was sent from, else (for a GET) nothing."""
    view = current_app.view_functions.get(request.endpoint or "")
    endpoint = getattr(view, _REDIRECT_ATTRIBUTE, None)
    if endpoint is not None:
        return _url_with_request_arguments(endpoint)
    if request.method == "GET":
        return None
    referrer = request.referrer
    if referrer and urlsplit(referrer).netloc == request.host:
        return referrer
    return request.path if _answers_get(request.path) else url_for("views.index")


def _url_with_request_arguments(endpoint: str) -> str:
    if endpoint.startswith(".") and request.blueprint:
        endpoint = request.blueprint + endpoint
    wanted: set[str] = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        wanted |= set(rule.arguments)
    arguments: dict[str, Any] = {k: v for k, v in (request.view_args or {}).items() if k in wanted}
    return url_for(endpoint, **arguments)


def _answers_get(path: str) -> bool:
    adapter = current_app.url_map.bind("")
    try:
        adapter.match(path, method="GET")
    except (HTTPException, RoutingException):  # no GET route there (404, 405, a redirect)
        return False
    return True
