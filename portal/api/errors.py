"""Every error under ``/api/`` as ``{"error": {"code", "message", "fields"?}}``; never an HTML page.

The codes are stable: clients match on them. Messages are in the caller's language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.problems import PortalError, describe
from portal.registration.errors import (
    ConflictsNotAcknowledged,
    ContentInvalid,
    DeadlinePassed,
    FourEyesRequired,
    IllegalTransition,
    QuotaExceeded,
    RegistrationError,
    SignatureRequired,
    StaleVersion,
)
from portal.registration.messages import error_message, field_error_message

#: The most a request body may hold, in bytes; a bigger one is refused with 413 before it is read.
MAX_BODY_BYTES = 64 * 1024

#: HTTP status -> (stable code, message) for errors raised outside the API's own checks.
HTTP_ERRORS: dict[int, tuple[str, Any]] = {
    400: ("malformed_json", _l("The request body is not a JSON object of the expected shape.")),
    401: ("unauthorized", _l("Sign in, or send a valid API token in the Authorization header.")),
    403: ("forbidden", _l("You do not have access to this.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    413: ("payload_too_large", _l("The request body is too large: at most %(max)d bytes.", max=MAX_BODY_BYTES)),
    429: ("rate_limited", _l("Too many requests. Wait as long as the Retry-After header says, then try again.")),
    500: ("internal_error", _l("Something went wrong on our side. The problem has been logged.")),
}

#: Registration error class -> HTTP status; the code is the error's own ``code``.
REGISTRATION_STATUS: dict[type[RegistrationError], int] = {
    DeadlinePassed: 409,
    QuotaExceeded: 409,
    IllegalTransition: 409,
    SignatureRequired: 409,
    ConflictsNotAcknowledged: 409,
    FourEyesRequired: 403,
    StaleVersion: 409,
}

#: What the database refused that no rule foresaw: (status, stable code, message). The locks make
#: deadlocks and duplicate numbers impossible on the application paths; this is the safety net, so
#: a race is never a 500: a collision is a conflict (409), a lock or serialisation failure a 503.
DATABASE_ERRORS: dict[type[Exception], tuple[int, str, Any]] = {
    IntegrityError: (
        409,
        "conflict",
        _l("The request conflicts with a change made at the same moment. Reload and try again."),
    ),
    OperationalError: (
        503,
        "database_busy",
        _l("The portal is busy with another change of the same data. Try again in a moment."),
    ),
}

#: Messages of the per-field codes the API adds to the service's own.
FIELD_MESSAGES: dict[str, Any] = {
    "missing": _l("This field is required."),
    "unknown_field": _l("This field is not known."),
    "not_a_string": _l("Must be a string."),
    "not_a_boolean": _l("Must be true or false."),
    "not_a_list_of_strings": _l("Must be a list of strings."),
    "invalid_text": _l("Contains characters that are not allowed (NUL or an unpaired surrogate)."),
    "unknown_election": _l("No election has this code."),
    "invalid_choice": _l("Not one of the allowed values."),
    "not_a_positive_integer": _l("Must be a whole number of at least 1."),
    "not_a_count": _l("Must be a whole number of at least 0."),
    "invalid_host": _l("Must be a host name (letters, digits, hyphens and dots)."),
    "not_an_instant": _l("Must be an ISO 8601 instant with a time zone."),
    "invalid_counts": _l("Must be an object of set names and element counts."),
}


class ApiError(Exception):
    """An answer the API gives on purpose: a status, a stable code, a message, per-field problems."""

    def __init__(
        self,
        status: int,
        code: str,
        message: object | None = None,
        fields: Mapping[str, tuple[str, object]] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message if message is not None else HTTP_ERRORS.get(status, (code, code))[1]
        #: field -> (code, message)
        self.fields = dict(fields or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.fields:
            error["fields"] = {name: {"code": code, "message": str(text)} for name, (code, text) in self.fields.items()}
        return {"error": error}


def field_problem(code: str) -> tuple[str, object]:
    return code, FIELD_MESSAGES[code]


def unauthorized(message: object | None = None) -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: object | None = None) -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found() -> ApiError:
    return ApiError(404, "not_found")


def from_registration(error: RegistrationError) -> ApiError:
    """The service's refusal in API terms: 422 with the service's field codes, or 409 with its code."""
    if isinstance(error, ContentInvalid):
        fields = {name: (code, field_error_message(code, detail)) for name, (code, detail) in error.errors.items()}
        return ApiError(422, "validation_failed", _l("Some fields are not valid."), fields)
    return ApiError(REGISTRATION_STATUS.get(type(error), 409), error.code, error_message(error))


def portal_error_response(error: PortalError) -> Response:
    """A refusal by the rules that reached the unit of work under ``/api/``, in the API's shape."""
    if isinstance(error, RegistrationError):
        return error_response(from_registration(error))
    return error_response(ApiError(error.status, error.code, describe(error)))


def json_response(payload: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """UTF-8 JSON (Czech stays readable), never cached: answers can carry personal data."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: ApiError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if error.status == 401 else None
    return json_response(error.body(), error.status, headers)


def http_error_response(error: HTTPException) -> Response:
    """A werkzeug error (404 route, 405, 413, 429 from the limiter, ...) in the API's shape."""
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, (error.name.lower().replace(" ", "_"), error.description))
    response = error_response(ApiError(status, code, message))
    if status == 405 and error.get_headers():
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers["Allow"] = value
    return response


def database_error_response(error: IntegrityError | OperationalError) -> Response | tuple[str, int]:
    """A refusal of the database in the request's shape: JSON under ``/api/``, else the error page."""
    # The unit of work has rolled the request back already.
    current_app.logger.warning("database refused a request: %s", error, exc_info=error)
    status, code, message = DATABASE_ERRORS[IntegrityError if isinstance(error, IntegrityError) else OperationalError]
    if request.path.startswith("/api/"):
        response = error_response(ApiError(status, code, message))
        if status == 503:
            response.headers["Retry-After"] = "1"
        return response
    return render_template("error.html", code=status, message=message), status


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(IntegrityError, database_error_response)
    app.register_error_handler(OperationalError, database_error_response)
