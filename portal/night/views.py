"""The election-night board: a page that works alone (with a refresh link) and updates itself from its JSON twin.

The page and ``night.json`` are made from the same :func:`board_view`, with every number and time already
formatted in the user's language and Prague time, so the page's script only puts text and points in place.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, url_for
from flask_babel import format_datetime, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from allowlist.phase import Phase, phase_at
from portal.access.allowlist import schedule_of
from portal.db import utcnow
from portal.elections.models import Election
from portal.elections.service import all_elections, election_by_code
from portal.labels import label
from portal.night.board import OutletRow, increments, outlet_rows, rate_series, samples_since
from portal.night.chart import line_chart, sparkline
from portal.templating import format_prague_datetime

bp = Blueprint("night", __name__, template_folder="templates")
CHART_SPAN = timedelta(hours=1)
CHART_BUCKET = timedelta(minutes=1)
ACTIVITY_SPAN = timedelta(minutes=30)
#: Elections in these phases are what staff open on the night: listed first.
PHASE_ORDER = {Phase.LIVE: 0, Phase.TESTING: 1, Phase.REGISTRATION: 2, Phase.CLOSED: 3}


@bp.get("/staff/night")
def index() -> str:
    now = utcnow()
    rows = [(election, phase_at(schedule_of(election, at=now), now)) for election in all_elections()]
    rows.sort(key=lambda row: (PHASE_ORDER.get(row[1], 9), _first_processing(row[0], now)))
    return render_template("night/index.html", rows=rows)


def _first_processing(election: Election, now: datetime) -> float:
    """Sort key within a phase: the nearest result processing first."""
    starts = [r.processing_starts_at for r in election.rounds]
    return min((abs((s - now).total_seconds()) for s in starts), default=float("inf"))


@bp.get("/staff/elections/<code>/night")
def board(code: str) -> str:
    election = _election_or_404(code)
    return render_template(
        "night/board.html",
        election=election,
        board=board_view(election, utcnow()),
        poll_seconds=current_app.config.get("PORTAL_NIGHT_POLL_SECONDS", 15),
        json_url=url_for("night.board_json", code=code),
    )


@bp.get("/staff/elections/<code>/night.json")
def board_json(code: str) -> Response:
    response = jsonify(board_view(_election_or_404(code), utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _election_or_404(code: str) -> Election:
    election = election_by_code(code)
    if election is None:
        abort(404)
    return election


def number(value: float, digits: int = 1) -> str:
    """A number in the user's language: ``1 234,5`` in Czech, ``1,234.5`` in English."""
    return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")


def scale_number(value: float) -> str:
    return format_decimal(value, format="#,##0.##")


def board_view(election: Election, now: datetime) -> dict[str, Any]:
    """Everything the board shows, formatted, as plain data (the page renders it; night.json sends it)."""
    deltas = increments(samples_since(election, now - CHART_SPAN - CHART_BUCKET))
    outlets = outlet_rows(election, at=now, deltas=deltas, span=ACTIVITY_SPAN, bucket=CHART_BUCKET)
    series = rate_series(deltas, start=now - CHART_SPAN, end=now, bucket=CHART_BUCKET)
    chart = line_chart(series, number=scale_number, clock=lambda t: format_datetime(t, "HH:mm"))
    phase = phase_at(schedule_of(election, at=now), now)
    silent = [o.organisation for o in outlets if o.state == "silent"]
    never = [o.organisation for o in outlets if o.state == "never"]
    served = [o for o in outlets if o.state in ("ok", "unlisted")]
    current = series[-1][1] if series else 0.0
    activity_peak = max((max(o.activity, default=0.0) for o in outlets), default=0.0)
    return {
        "election": election.code,
        "as_of": format_prague_datetime(now),
        "as_of_iso": now.isoformat(),
        "phase": {"code": phase.value, "label": label("phase", phase)},
        "counts": [
            {"key": "served", "value": number(len(served), 0), "label": _("outlets served")},
            {"key": "silent", "value": number(len(silent), 0), "label": _("went silent")},
            {"key": "never", "value": number(len(never), 0), "label": _("never seen")},
            {"key": "rate", "value": number(current), "label": _("requests per second now")},
        ],
        "silent": {
            "title": ngettext("%(num)d outlet went silent:", "%(num)d outlets went silent:", len(silent)),
            "names": silent,
        },
        "never": {
            "title": ngettext(
                "%(num)d outlet has not reached a proxy yet:",
                "%(num)d outlets have not reached a proxy yet:",
                len(never),
            ),
            "names": never,
        },
        "chart": {
            "points": chart.points,
            "y_ticks": [[t.position, t.label] for t in chart.y_ticks],
            "x_ticks": [[t.position, t.label] for t in chart.x_ticks],
            "summary": _(
                "Now %(now)s requests per second; the highest minute of the hour %(peak)s.",
                now=number(current),
                peak=number(max((v for _, v in series), default=0.0)),
            ),
        },
        "outlets": [_outlet_view(o, activity_peak) for o in outlets],
    }


STATE_WORDS = {
    "ok": _l("served"),
    "silent": _l("silent"),
    "never": _l("never seen"),
    "unlisted": _l("not on the allowlist in force"),
}


def _outlet_view(outlet: OutletRow, activity_peak: float) -> dict[str, Any]:
    return {
        "name": outlet.organisation,
        "state": outlet.state,
        "state_label": str(STATE_WORDS[outlet.state]),
        "rate": number(outlet.requests_per_minute),
        "activity": sparkline(outlet.activity, activity_peak),
        "activity_label": _(
            "Requests per second in the last 30 minutes, up to %(peak)s", peak=number(max(outlet.activity, default=0.0))
        ),
        "addresses": [
            {
                "address": a.address,
                "kind": label("address_kind", a.kind),
                "last_seen": format_prague_datetime(a.last_seen) if a.last_seen else "",
                "requests": number(a.requests, 0),
                "silent": a.silent,
                "listed": a.listed,
            }
            for a in outlet.addresses
        ],
    }
