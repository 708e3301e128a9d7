"""The JSON API under ``/api/v1`` and the personal API tokens that open it to scripts.

Two blueprints: ``api`` (JSON, CSRF-exempt: it checks CSRF itself for browser sessions) and
``api_tokens`` (the HTML page where people create and revoke their tokens).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask.sessions import SecureCookieSessionInterface

    from portal.api import errors
    from portal.api.auth import TokenAwareSessionInterface
    from portal.api.token_views import bp as tokens_bp
    from portal.api.views import bp as api_bp
    from portal.extensions import csrf

    # Bearer tokens cannot be forged by another site; session callers send X-CSRFToken (see auth.py).
    csrf.exempt(api_bp)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = TokenAwareSessionInterface()
    app.register_blueprint(api_bp)
    app.register_blueprint(tokens_bp)
    errors.init_app(app)
