"""Accessibility statement, privacy notice and contacts: linked from every page's footer."""

from __future__ import annotations

import os

from flask import Blueprint, Flask, current_app, render_template, send_from_directory
from werkzeug.wrappers import Response

from portal.legal.office import load_office, office

bp = Blueprint("legal", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    """Load the office's details once (``PORTAL_OFFICE_FILE`` or the defaults) and offer ``office()``."""
    path = app.config.get("PORTAL_OFFICE_FILE") or os.environ.get("PORTAL_OFFICE_FILE") or None
    app.extensions["portal_office"] = load_office(path)
    app.jinja_env.globals["office"] = office
    app.register_blueprint(bp)


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template("legal/accessibility.html")


@bp.get("/privacy")
def privacy() -> str:
    return render_template("legal/privacy.html")


@bp.get("/contact")
def contact() -> str:
    return render_template("legal/contact.html")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on pages without a link (a PDF, a JSON answer); the same SVG."""
    return send_from_directory(current_app.static_folder or "static", "favicon.svg", mimetype="image/svg+xml")
