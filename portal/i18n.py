"""Language: Czech by default, English on request; the choice follows the user."""

from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_login import current_user

SESSION_KEY = "language"


def supported_languages() -> tuple[str, ...]:
    return tuple(current_app.config["PORTAL_LANGUAGES"])


def select_locale() -> str:
    """The signed-in user's language, else the one chosen in this session, else Czech."""
    languages = supported_languages()
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return chosen
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])
