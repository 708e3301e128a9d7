"""Who is calling the API: a personal token, a browser session, or nobody.

Rules (also in the OpenAPI document and the README):

* ``Authorization: Bearer csu_...`` selects token authentication; the session cookie is then
  ignored, and not written either. An unknown, expired or revoked token, or one whose owner is deactivated, is a 401,
  even on a public endpoint, so a broken token is noticed at once.
* Without the header, the Flask-Login session is used. A session cannot prove it was not sent
  by another site, so unsafe methods (POST, PUT, PATCH, DELETE) with session authentication
  must carry the session's CSRF token in the ``X-CSRFToken`` header (``csrf_failed``, 403,
  otherwise). Token requests are exempt: another site cannot attach the header.
* Staff are "verified" (may see every organisation's applications and decide) when the session
  passed the second factor, or when they call with a token: staff can mint a token only in a
  session that passed the second factor, so the second factor was proven when the token was
  minted. A staff token stops counting once its owner has no second factor enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from portal.accounts.models import User
from portal.accounts.session import has_second_factor_in_session
from portal.api import service
from portal.api.errors import ApiError, unauthorized
from portal.api.models import ApiToken
from portal.db import utcnow

P = ParamSpec("P")
R = TypeVar("R")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRFToken"
#: The limit when PORTAL_API_RATE_LIMIT is not configured, per token, per signed-in user, or per address.
DEFAULT_RATE_LIMIT = "600 per minute"

INVALID_TOKEN = _l("The API token is not valid: it is unknown, expired or revoked.")
SECOND_FACTOR_NEEDED = _l("Staff must pass the second factor in this session, or use a token minted after passing it.")
CSRF_FAILED = _l("Requests made with a browser session must send the page's CSRF token in the X-CSRFToken header.")


@dataclass(frozen=True)
class Caller:
    user: User | None
    #: The token the request came with; None for a session or an anonymous call.
    token: ApiToken | None = None

    @property
    def staff_verified(self) -> bool:
        """Staff who proved the second factor: in this session, or when minting this token."""
        user = self.user
        if user is None or not user.is_staff or not user.has_second_factor:
            return False
        return self.token is not None or has_second_factor_in_session(user)


def _bearer_secret() -> str | None:
    """The secret of an ``Authorization: Bearer`` header; None without the header; 401 for another scheme."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized(INVALID_TOKEN)
    return secret.strip()


def caller() -> Caller:
    """The request's caller, resolved once per request; 401 for a token that cannot be used."""
    resolved: Caller | None = g.get("api_caller")
    if resolved is not None:
        return resolved
    secret = _bearer_secret()
    if secret is not None:
        token = service.find_usable(secret, at=utcnow())
        if token is None:
            raise unauthorized(INVALID_TOKEN)
        # Flask-Login's current user for this request only (language, audit): ``g._login_user`` is
        # where Flask-Login's own loaders put it. A token request is stateless: its session cookie is
        # ignored and not written (TokenAwareSessionInterface).
        g._login_user = token.user
        g.api_stateless = True
        resolved = Caller(token.user, token)
    elif current_user.is_authenticated:
        resolved = Caller(current_user._get_current_object())
    else:
        resolved = Caller(None)
    g.api_caller = resolved
    return resolved


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """The portal's signed-cookie sessions, except that a token request and a static file write no cookie.

    A static file answered after a newer page (an icon of the previous page still loading when the next
    one redirects) would otherwise send back the session it started with and overwrite the newer cookie,
    losing what that page put in it (a flash message, a sign-in)."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("api_stateless") or _is_static_file():
            return
        super().save_session(app, session, response)


def _is_static_file() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def rate_limit_key() -> str:
    """Per token, per signed-in user, else per client address (also for a refused token)."""
    try:
        who = caller()
    except ApiError:
        return f"address:{get_remote_address()}"
    if who.token is not None:
        return f"token:{who.token.id}"
    if who.user is not None:
        return f"user:{who.user.id}"
    return f"address:{get_remote_address()}"


def authenticate_request() -> None:
    """Run before every API view: resolve the caller, note the token's use, check CSRF for sessions."""
    who = caller()
    if who.token is not None:
        service.note_use(who.token, at=utcnow())
        return
    if who.user is not None and request.method in UNSAFE_METHODS:
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except ValidationError as error:
            raise ApiError(403, "csrf_failed", CSRF_FAILED) from error


def signed_in() -> User:
    """The calling user; 401 for an anonymous call."""
    user = caller().user
    if user is None:
        raise unauthorized()
    return user
