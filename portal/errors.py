"""Error pages in the user's language; no traceback ever reaches a user."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.api import errors as api_errors

MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    401: _l("Please sign in to see this page."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist."),
    405: _l("This action is not available here."),
    413: _l("The upload is too large."),
    429: _l("Too many attempts. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. The problem has been logged."),
}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        message = _l("The form has expired or was not sent from this site. Please reload the page and send it again.")
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        if request.path.startswith("/api/"):
            return api_errors.http_error_response(error)
        code = error.code or 500
        message = MESSAGES.get(code, error.description)
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(InternalServerError)
    def unexpected_error(error: InternalServerError) -> tuple[str, int] | Response:
        # Flask has already logged the original exception; the unit of work has rolled the request back.
        if request.path.startswith("/api/"):
            return api_errors.http_error_response(error)
        return render_template("error.html", code=500, message=MESSAGES[500]), 500
