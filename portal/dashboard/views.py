"""The landing pages: ``/start`` sends each user to theirs after signing in."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.access.service import address_policy
from portal.accounts.access import load_organisation
from portal.dashboard.service import NextStep, outlet_overview, staff_work
from portal.db import utcnow

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.get("/start")
def start() -> Response:
    """The page a user lands on after signing in: staff their work, an outlet its overview."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    if current_user.is_staff:
        return redirect(url_for("dashboard.work"))
    if current_user.organisation_id is not None:
        return redirect(url_for("dashboard.overview", organisation_id=current_user.organisation_id))
    return redirect(url_for("site.home"))


@bp.get("/organisations/<int:organisation_id>/overview")
def overview(organisation_id: int) -> str:
    organisation = load_organisation(organisation_id)
    now = utcnow()
    feed_url = current_app.config.get("PORTAL_FEED_URL", "").rstrip("/")
    return render_template(
        "dashboard/overview.html",
        organisation=organisation,
        rows=outlet_overview(organisation, address_policy(), at=now),
        steps=NextStep,
        whoami_url=f"{feed_url}/whoami" if feed_url else "",
        now=now,
    )


@bp.get("/staff/work")
def work() -> str:
    now = utcnow()
    return render_template("dashboard/work.html", rows=staff_work(at=now), now=now)
