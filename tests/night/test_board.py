"""The election-night board: statistics pulled from a proxy over HTTP, stored, and shown to staff."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.cli import main
from portal.db import utcnow
from portal.extensions import db
from portal.night.collect import CollectError, fetch_stats, store_stats
from portal.night.models import FeedAddress, FeedSample
from portal.night.stats import parse_stats
from tests.factories import post_form, sign_in


class StatsServer:
    """A real HTTP server answering /stats.json with whatever the test sets."""

    def __init__(self) -> None:
        self.body = b"{}"
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/stats.json":
                    self.send_error(404)
                    return
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, document: dict[str, object]) -> None:
        self.body = json.dumps(document).encode()


@pytest.fixture
def stats_server() -> Iterator[StatsServer]:
    server = StatsServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def address(text: str, kind: str, requests: int, last_seen: float) -> dict[str, object]:
    return {
        "address": text,
        "kind": kind,
        "requests": requests,
        "bytes": requests * 100,
        "not_modified": 0,
        "refused": 0,
        "rate_limited": 0,
        "last_seen": last_seen,
    }


def document(organisations: list[dict[str, object]], election: str = "prez2099") -> dict[str, object]:
    return {
        "generated_at": utcnow().timestamp(),
        "election": election,
        "snapshot_version": 1,
        "organisations": organisations,
        "unknown": {"refused": 0, "rate_limited": 0},
        "responses": {},
    }


def outlet(organisation_id: int, name: str, *addresses: dict[str, object]) -> dict[str, object]:
    requests = sum(int(a["requests"]) for a in addresses)  # type: ignore[call-overload]
    return {
        "organisation_id": organisation_id,
        "organisation": name,
        "requests": requests,
        "bytes": requests * 100,
        "not_modified": 0,
        "refused": 0,
        "rate_limited": 0,
        "last_seen": max(float(a["last_seen"]) for a in addresses),  # type: ignore[arg-type]
        "not_modified_share": 0.0,
        "addresses": list(addresses),
    }


@pytest.fixture
def outlets(make_election, make_application, make_staff):
    election = make_election(code="prez2099")
    staff = make_staff()
    busy = make_application(election, production=["192.0.2.1"], test=["192.0.2.2"], state="approved", staff=staff)
    quiet = make_application(election, production=["192.0.2.3"], state="approved", staff=staff)
    absent = make_application(election, production=["192.0.2.4"], state="approved", staff=staff)
    db.session.commit()
    return election, busy.organisation, quiet.organisation, absent.organisation


def test_collected_statistics_are_stored_and_a_second_round_updates_last_seen(app, outlets, stats_server):
    _election, busy, quiet, _absent = outlets
    now = utcnow().timestamp()
    stats_server.serve(
        document(
            [
                outlet(busy.id, busy.name, address("192.0.2.1", "production", 40, now)),
                outlet(quiet.id, quiet.name, address("192.0.2.3", "production", 5, now - 3600)),
            ]
        )
    )
    collected = store_stats("proxy-1", fetch_stats(stats_server.url), at=utcnow())
    db.session.commit()
    assert (collected.election, collected.organisations, collected.addresses) == ("prez2099", 2, 2)
    stats_server.serve(document([outlet(busy.id, busy.name, address("192.0.2.1", "production", 70, now + 15))]))
    store_stats("proxy-1", fetch_stats(stats_server.url), at=utcnow())
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(FeedSample)) == 3
    row = db.session.scalar(select(FeedAddress).where(FeedAddress.address == "192.0.2.1"))
    assert row.requests == 70 and row.last_seen.timestamp() == pytest.approx(now + 15)


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, b"<html>oops</html>", "not JSON"),
        (500, b"{}", "500"),
        (200, json.dumps(document([], election="prez1999")).encode(), "does not know"),
        (200, json.dumps(document([], election=None)).encode(), "no snapshot"),  # type: ignore[arg-type]
    ],
)
def test_a_proxy_that_answers_something_else_stores_nothing(app, outlets, stats_server, status, body, reason):
    stats_server.status, stats_server.body = status, body
    with pytest.raises(CollectError, match=reason):
        store_stats("proxy-1", fetch_stats(stats_server.url), at=utcnow())
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FeedSample)) == 0


def test_an_unreachable_proxy_is_a_collect_error():
    with pytest.raises(CollectError):
        fetch_stats("http://127.0.0.1:9")
    with pytest.raises(CollectError):
        fetch_stats("file:///etc/passwd")


def test_the_board_flags_silent_and_never_seen_outlets_and_charts_the_rate(app, outlets, make_staff):
    _election, busy, quiet, absent = outlets
    now = utcnow()
    an_hour_ago = (now - timedelta(hours=1)).timestamp()
    for minutes_ago, requests in ((10, 0), (5, 300), (1, 600)):
        at = now - timedelta(minutes=minutes_ago)
        seen = document(
            [
                outlet(busy.id, busy.name, address("192.0.2.1", "production", requests, at.timestamp())),
                outlet(quiet.id, quiet.name, address("192.0.2.3", "production", 5, an_hour_ago)),
            ]
        )
        store_stats("proxy-1", parse_stats(json.dumps(seen).encode()), at=at)
    reviewer = make_staff(role=Role.REVIEWER)
    db.session.commit()
    client = app.test_client()
    sign_in(client, reviewer)
    post_form(client, "/language", {"language": "en"})
    response = client.get("/staff/elections/prez2099/night")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 outlet went silent:" in html and quiet.name in html.split("went silent:")[1].split("</p>")[0]
    assert "1 outlet has not reached a proxy yet:" in html
    assert absent.name in html.split("has not reached a proxy yet:")[1].split("</p>")[0]
    assert "<polyline" in html
    # Samples at -10, -5 and -1 min: the 300 requests between -5 and -1 min fall within the last 5 minutes.
    assert '<td class="num">60.0</td>' in html and '<td class="num">0.0</td>' in html
    # No meta refresh (WCAG 2.2.1): the page's script reads night.json, and a plain link reloads it.
    assert 'http-equiv="refresh"' not in html
    assert 'id="board-refresh"' in html and 'data-url="/staff/elections/prez2099/night.json"' in html
    # The chart has a labelled scale and a time axis.
    assert "Vertical axis: requests per second; horizontal axis: Prague time." in html
    assert html.count('text-anchor="middle"') >= 5 and html.count('text-anchor="end"') >= 3

    post_form(client, "/language", {"language": "cs"})
    data = client.get("/staff/elections/prez2099/night.json").get_json()
    rows = {row["name"]: row for row in data["outlets"]}
    assert [row["state"] for row in data["outlets"]] == ["silent", "never", "ok"]
    assert rows[busy.name]["rate"] == "60,0" and rows[busy.name]["state_label"] == "obsluhována"
    assert rows[quiet.name]["state_label"] == "odmlčel se"
    assert data["silent"]["names"] == [quiet.name] and data["never"]["names"] == [absent.name]
    assert {count["key"]: count["value"] for count in data["counts"]} == {
        "served": "1",
        "silent": "1",
        "never": "1",
        "rate": "0,0",
    }
    assert data["chart"]["points"] and data["chart"]["y_ticks"][0][1] == "0"


def test_a_proxy_serving_an_address_not_on_the_allowlist_in_force_shows_it_apart(app, outlets, make_staff):
    """The demo's own computer, or a proxy still on an older snapshot: served, but not on the allowlist."""
    _election, busy, _quiet, _absent = outlets
    now = utcnow()
    for minutes_ago, requests in ((3, 10), (1, 130)):
        at = now - timedelta(minutes=minutes_ago)
        seen = document([outlet(busy.id, busy.name, address("198.51.100.7", "production", requests, at.timestamp()))])
        store_stats("proxy-1", parse_stats(json.dumps(seen).encode()), at=at)
    reviewer = make_staff(role=Role.REVIEWER)
    db.session.commit()
    client = app.test_client()
    sign_in(client, reviewer)
    post_form(client, "/language", {"language": "en"})
    data = client.get("/staff/elections/prez2099/night.json").get_json()
    (row,) = [row for row in data["outlets"] if row["name"] == busy.name]
    assert row["state"] == "ok"  # its listed address was never seen, but the outlet is served
    listed = {a["address"]: a["listed"] for a in row["addresses"]}
    assert listed == {"192.0.2.1": True, "192.0.2.2": True, "198.51.100.7": False}
    assert row["rate"] == "24.0"  # 120 requests in the last 5 minutes
    assert {count["key"]: count["value"] for count in data["counts"]}["served"] == "1"


def test_the_night_index_puts_elections_in_testing_or_live_first(app, make_election, make_staff):
    make_election(code="prez2099")
    reviewer = make_staff(role=Role.REVIEWER)
    db.session.commit()
    client = app.test_client()
    sign_in(client, reviewer)
    html = client.get("/staff/night").get_data(as_text=True)
    assert "prez2099" in html
    assert 'http-equiv="refresh"' not in html


def test_the_board_is_for_staff_only(app, outlets, make_applicant):
    applicant = make_applicant()
    db.session.commit()
    client = app.test_client()
    sign_in(client, applicant)
    assert client.get("/staff/elections/prez2099/night").status_code == 403
    assert client.get("/staff/night").status_code == 403


def test_the_collect_command_reads_each_proxy_once_and_exits_1_if_one_failed(app, outlets, stats_server):
    _election, busy, _quiet, _absent = outlets
    stats_server.serve(document([outlet(busy.id, busy.name, address("192.0.2.1", "production", 3, 1.0e9))]))
    runner = app.test_cli_runner()
    good = runner.invoke(main, ["feed", "collect", "--once", "--proxy", stats_server.url])
    assert good.exit_code == 0, good.output
    assert "prez2099, 1 outlets, 1 addresses" in good.output
    mixed = runner.invoke(
        main, ["feed", "collect", "--once", "--proxy", stats_server.url, "--proxy", "http://127.0.0.1:9"]
    )
    assert mixed.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(FeedSample)) == 2


def test_the_demo_feed_snapshot_adds_this_computer_and_is_signed_by_the_portal(app, outlets, tmp_path):
    import base64

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from allowlist.snapshot import canonical_bytes

    result = app.test_cli_runner().invoke(main, ["demo", "feed-snapshot", "--folder", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("prez2099 ")
    signed = json.loads((tmp_path / "snapshot.json").read_bytes())
    key = load_pem_public_key((tmp_path / "allowlist-public.pem").read_bytes())
    key.verify(base64.b64decode(signed["signature"]), canonical_bytes(signed))  # type: ignore[union-attr]
    addresses = {(e["address"], e["kind"]) for e in signed["entries"]}
    assert {("127.0.0.1", "production"), ("192.0.2.1", "production"), ("192.0.2.2", "test")} <= addresses


def test_the_demo_poller_polls_with_the_last_etag_until_stopped():
    """`portal demo poll`: a real HTTP server; the second request carries the first answer's ETag."""
    seen: list[str] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("If-None-Match", ""))
            if len(seen) >= 3:
                stop.set()
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    from portal.night.demo import poll_forever

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/pls/prez2023/vysledky"
        logged: list[str] = []
        made = poll_forever(url, interval=0.05, stop=stop, log=logged.append)
    finally:
        server.shutdown()
        server.server_close()
    assert made == 3 and seen == ["", '"v1"', '"v1"'] and logged == []


def test_the_demo_snapshot_counts_this_computer_as_the_demo_outlet_when_seeded(app, outlets, tmp_path):
    from portal.accounts import service as accounts
    from portal.night.demo import DEMO_OUTLET_ICO

    demo_outlet = accounts.register_outlet(
        organisation_name="Demo zpravodajství s.r.o.",
        ico=DEMO_OUTLET_ICO,
        address="Praha",
        website="",
        email="redakce@zpravy.example",
        password="demo-heslo-2028",
        language="cs",
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(main, ["demo", "feed-snapshot", "--folder", str(tmp_path)])
    assert result.exit_code == 0, result.output
    signed = json.loads((tmp_path / "snapshot.json").read_bytes())
    (loopback,) = [e for e in signed["entries"] if e["address"] == "127.0.0.1"]
    assert (loopback["organisation_id"], loopback["organisation"]) == (
        demo_outlet.organisation_id,
        "Demo zpravodajství s.r.o.",
    )
