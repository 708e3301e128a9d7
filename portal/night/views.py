"""The election-night board page; it reloads itself every 30 s."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, render_template

from allowlist.phase import phase_at
from portal.access.allowlist import schedule_of
from portal.db import utcnow
from portal.elections.service import all_elections, election_by_code
from portal.night.board import increments, outlet_rows, rate_series, samples_since
from portal.night.chart import line_chart

bp = Blueprint("night", __name__, template_folder="templates")
CHART_SPAN = timedelta(hours=1)
CHART_BUCKET = timedelta(minutes=1)


@bp.get("/staff/night")
def index() -> str:
    return render_template("night/index.html", elections=all_elections())


@bp.get("/staff/elections/<code>/night")
def board(code: str) -> str:
    election = election_by_code(code)
    if election is None:
        abort(404)
    now = utcnow()
    deltas = increments(samples_since(election, now - CHART_SPAN - CHART_BUCKET))
    outlets = outlet_rows(election, at=now, deltas=deltas)
    series = rate_series(deltas, start=now - CHART_SPAN, end=now, bucket=CHART_BUCKET)
    return render_template(
        "night/board.html",
        election=election,
        now=now,
        phase=phase_at(schedule_of(election, at=now), now),
        outlets=outlets,
        chart=line_chart(series),
        silent=[o for o in outlets if o.state == "silent"],
        never=[o for o in outlets if o.state == "never"],
    )
