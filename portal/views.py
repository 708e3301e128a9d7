"""Site-wide pages: home, language switch, health check."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from portal.extensions import db
from portal.i18n import SESSION_KEY, supported_languages
from portal.navigation import safe_next_url

bp = Blueprint("site", __name__)


@bp.get("/")
def home() -> str:
    from portal.db import utcnow
    from portal.elections.service import elections_open_for_applications

    return render_template("home.html", open_elections=elections_open_for_applications(utcnow()))


@bp.post("/language")
def set_language() -> Response:
    """Remember the chosen language in the session and, when signed in, on the account."""
    language = request.form.get("language", "")
    if language not in supported_languages():
        abort(400)
    session[SESSION_KEY] = language
    if current_user.is_authenticated:
        current_user.language = language
    return redirect(safe_next_url(request.form.get("next")))


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
