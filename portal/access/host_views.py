"""The firewall page: which host enforces which allowlist version, and what its next apply changes."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from allowlist.phase import next_boundary, phase_at
from portal.access import allowlist
from portal.access.hosts import diff_entries, hosts_of, next_apply_diffs
from portal.accounts.models import Role
from portal.db import utcnow
from portal.elections.service import all_elections, election_by_code

bp = Blueprint("hosts", __name__, template_folder="templates")
OPERATORS = (Role.OPS, Role.ADMIN)


@bp.get("/staff/firewall")
def index() -> str:
    return render_template("access/firewall_index.html", elections=all_elections())


@bp.get("/staff/elections/<code>/firewall")
def election_hosts(code: str) -> str:
    election = election_by_code(code)
    if election is None:
        abort(404)
    now = utcnow()
    schedule = allowlist.schedule_of(election, at=now)
    upcoming = allowlist.entries_in_force(election)
    latest = allowlist.latest_version(election)
    latest_entries = latest.published_entries() if latest else None
    unpublished = diff_entries(latest_entries or [], upcoming) if latest_entries is not None else None
    hosts = hosts_of(election)
    return render_template(
        "access/firewall_hosts.html",
        election=election,
        now=now,
        phase=phase_at(schedule, now),
        boundary=next_boundary(schedule, now),
        latest=latest,
        upcoming=upcoming,
        unpublished=unpublished,
        hosts=hosts,
        diffs=next_apply_diffs(election, hosts, upcoming),
    )
