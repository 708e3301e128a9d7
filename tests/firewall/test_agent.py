"""The pull agent against a real HTTP server playing the portal, its nft inside a network namespace.

The agent runs in the test process with an injected clock, so phase boundaries and backoff are reached
without sleeping; every assertion about the host reads the live table back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allowlist.addresses import AddressPolicy
from allowlist.phase import LiveWindow, boundaries, next_boundary
from allowlist.snapshot import Entry, Snapshot, format_time, sign_document, snapshot_document
from firewall import apply as applying
from firewall.agent import (
    Agent,
    AgentConfig,
    ConfigError,
    backoff_seconds,
    boundary_crossed,
    next_wake,
)
from firewall.apply import LiveTable, read_table
from firewall.cli import main
from firewall.transport import TransportError, urllib_send
from tests.firewall.fake_portal import TOKEN, FakePortal, running
from tests.firewall.netns import namespace, nft_in, require_nft_and_netns, run

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
DOCS = AddressPolicy(allow_documentation=True)
NO_NFT = ("/nonexistent/nft",)
#: The sets of the default six entries (see ``entries``) while test addresses are admitted.
TESTING_SETS = {
    "prod4": {"192.0.2.3", "192.0.2.5"},
    "test4": {"192.0.2.2", "192.0.2.6"},
    "prod6": {"2001:db8::1"},
    "test6": {"2001:db8::4"},
}


# --- fixtures and helpers -------------------------------------------------------------------------------


class Clock:
    """The agent's time: starts at the real now (nft's element timeouts are real), moves only by sleep()."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)
        self.start = self.at

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)

    def to(self, instant: datetime) -> None:
        self.at = instant


def entries(count: int) -> tuple[Entry, ...]:
    return tuple(
        Entry(f"192.0.2.{i + 1}" if i % 3 else f"2001:db8::{i + 1:x}", "test" if i % 2 else "production", "Outlet", 1)
        for i in range(count)
    )


def snapshot(
    version: int,
    start: datetime,
    *,
    count: int = 6,
    election: str = "prez2028",
    window_in: timedelta = timedelta(minutes=5),
) -> Snapshot:
    """A live window ``window_in`` after ``start`` lasting five minutes; closed five minutes after it."""
    window = LiveWindow(1, start + window_in, start + window_in + timedelta(minutes=5))
    return Snapshot(
        election=election,
        version=version,
        generated_at=start,
        live_windows=(window,),
        closes_at=window.ends_at + timedelta(minutes=5),
        entries=entries(count),
    )


def signed(snap: Snapshot, key: Ed25519PrivateKey = KEY) -> bytes:
    return json.dumps(sign_document(snapshot_document(snap), key)).encode()


@pytest.fixture
def ns() -> Iterator[str]:
    require_nft_and_netns()
    with namespace("csu-agent") as name:
        yield name


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with running(FakePortal(KEY)) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def make_agent(ns, portal, clock, state, lines):
    def make(**options: Any) -> Agent:
        config = AgentConfig(
            portal=portal.url,
            election="prez2028",
            public_key=KEY.public_key(),
            token=TOKEN,
            host="xml1",
            state_dir=state,
            policy=DOCS,
            **options,
        )
        return Agent(config, nft=nft_in(ns), now=clock.now, sleep=clock.sleep, jitter=lambda: 0.5, log=lines.append)

    return make


def live(ns: str) -> LiveTable:
    table = read_table("inet", "csu_results", nft=nft_in(ns))
    assert table is not None
    return table


def live_sets(ns: str) -> dict[str, set[str]]:
    return {name: set(values) for name, values in live(ns).sets.items()}


def listing(ns: str) -> str:
    """The whole ruleset, handles and timeouts included, without the expiry countdown."""
    document = json.loads(run(*nft_in(ns), "-j", "list", "ruleset").stdout)
    for item in document["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            if isinstance(element, dict):
                element["elem"].pop("expires", None)
    return json.dumps(document)


def history(state: Path) -> list[tuple[int, str]]:
    return [(r["version"], r["phase"]) for r in json.loads((state / "history.json").read_text())["records"]]


def run_until(agent: Agent, clock: Clock, until: datetime, delay: float) -> tuple[list[datetime], float]:
    """Sleep and step as ``run()`` does, up to and including a wake-up at ``until``; the wakes and the next delay."""
    wakes = []
    while clock.at + timedelta(seconds=delay) <= until:
        clock.sleep(delay)
        wakes.append(clock.at)
        delay = agent.step()
    return wakes, delay


def started(agent: Agent) -> float:
    agent.start()
    return agent.step()


# --- time keeping (pure) --------------------------------------------------------------------------------

T0 = datetime(2028, 1, 13, 13, tzinfo=UTC)
TIMED = Snapshot(
    election="prez2028",
    version=1,
    generated_at=T0 - timedelta(days=3),
    live_windows=(
        LiveWindow(1, T0, T0 + timedelta(hours=24)),
        LiveWindow(2, T0 + timedelta(days=14), T0 + timedelta(days=15)),
    ),
    closes_at=T0 + timedelta(days=14, hours=12),  # round 2 is cut short by the close
    entries=(),
)


def test_the_boundaries_are_the_window_edges_up_to_the_close():
    assert boundaries(TIMED.schedule()) == (T0, T0 + timedelta(days=1), T0 + timedelta(days=14), TIMED.closes_at)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0 - timedelta(seconds=1), T0),  # before: the window's start
        (T0, T0 + timedelta(days=1)),  # exactly at: that one has begun, the next one
        (T0 + timedelta(seconds=1), T0 + timedelta(days=1)),  # after
        (TIMED.closes_at - timedelta(microseconds=1), TIMED.closes_at),
        (TIMED.closes_at, None),  # after close there are no more boundaries
        (TIMED.closes_at + timedelta(days=100), None),
    ],
)
def test_the_next_boundary(now, expected):
    assert next_boundary(TIMED.schedule(), now) == expected


def test_next_wake_is_the_poll_or_the_boundary_whichever_comes_first():
    bounds = boundaries(TIMED.schedule())
    soon = T0 - timedelta(seconds=3)
    assert next_wake(soon, soon + timedelta(seconds=10), bounds) == T0
    assert next_wake(soon, soon + timedelta(seconds=2), bounds) == soon + timedelta(seconds=2)
    assert next_wake(soon, T0, bounds) == T0
    assert next_wake(T0, T0 + timedelta(seconds=10), bounds) == T0 + timedelta(seconds=10)
    late = TIMED.closes_at + timedelta(hours=1)
    assert next_wake(late, late + timedelta(seconds=300), bounds) == late + timedelta(seconds=300)
    assert next_wake(late, late + timedelta(seconds=300), ()) == late + timedelta(seconds=300)


def test_a_boundary_is_crossed_when_it_falls_after_the_apply_and_by_now():
    bounds = boundaries(TIMED.schedule())
    assert boundary_crossed(bounds, T0 - timedelta(minutes=1), T0) == T0  # exactly at: crossed
    assert boundary_crossed(bounds, T0 - timedelta(minutes=1), T0 - timedelta(microseconds=1)) is None
    assert boundary_crossed(bounds, T0, T0 + timedelta(hours=1)) is None  # applied at the boundary itself
    assert boundary_crossed(bounds, T0 - timedelta(days=1), T0 + timedelta(days=20)) == TIMED.closes_at


def test_backoff_doubles_up_to_the_maximum_with_ten_percent_jitter():
    assert [backoff_seconds(10, n, 300, 0.5) for n in range(8)] == [10, 20, 40, 80, 160, 300, 300, 300]
    assert backoff_seconds(10, 1, 300, 0.0) == pytest.approx(18)
    assert backoff_seconds(10, 1, 300, 0.999999) == pytest.approx(22)
    assert backoff_seconds(10, 9, 300, 0.0) == pytest.approx(270)
    assert backoff_seconds(10, 10_000, 300, 0.5) == 300  # no overflow after a long outage
    assert backoff_seconds(10, 0, 300, 0.0) == 10  # success: the plain interval, no jitter


# --- configuration and HTTP (no nft) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"portal": "ftp://portal.example"}, "portal_url"),
        ({"portal": "portal.example"}, "portal_url"),
        ({"portal": "https://portal.example/?x=1"}, "portal_url"),
        ({"election": "prez 2028; rm"}, "election"),
        ({"token": "two words"}, "token"),
        ({"token": ""}, "token"),
        ({"interval": 600.0, "max_backoff": 300.0}, "interval"),
    ],
)
def test_a_bad_configuration_is_refused(options, code):
    values = {"portal": "https://portal.example", "election": "prez2028", "token": "t", **options}
    with pytest.raises(ConfigError) as caught:
        AgentConfig(public_key=KEY.public_key(), **values)
    assert caught.value.code == code


def test_the_urls_are_built_from_the_base():
    config = AgentConfig("https://portal.example/base/", "prez2028", KEY.public_key(), "s3cret-token")
    assert config.allowlist_url == "https://portal.example/base/api/v1/elections/prez2028/allowlist"
    assert config.reports_url == "https://portal.example/base/api/v1/elections/prez2028/allowlist/reports"
    assert "s3cret" not in repr(config)


def test_urllib_send_answers_every_status_and_refuses_what_is_not_a_whole_answer(portal):
    url = portal.url + portal.allowlist_path
    auth = {"Authorization": f"Bearer {TOKEN}"}
    portal.publish(snapshot(1, datetime.now(UTC)))
    whole = urllib_send("GET", url, auth)
    assert (whole.status, whole.headers["etag"], whole.body) == (200, '"prez2028-v1"', portal.body())
    assert urllib_send("GET", url, {**auth, "If-None-Match": '"prez2028-v1"'}).status == 304
    assert urllib_send("GET", url, {}).status == 401

    with pytest.raises(TransportError) as caught:
        urllib_send("GET", url, auth, limit=100)
    assert (caught.value.code, caught.value.answered) == ("too_large", True)

    portal.answer_with(200, portal.body(), cut=True)
    with pytest.raises(TransportError) as caught:
        urllib_send("GET", url, auth)
    assert (caught.value.code, caught.value.answered) == ("incomplete", True)

    portal.answer_with(302, b"", headers={"Location": portal.url + "/elsewhere"})
    assert urllib_send("GET", url, auth).status == 302  # not followed: the token stays with the portal
    assert not [r for r in portal.requests if r.path == "/elsewhere"]

    portal.down()
    with pytest.raises(TransportError) as caught:
        urllib_send("GET", url, auth)
    assert (caught.value.code, caught.value.answered) == ("unreachable", False)


def test_sigterm_ends_the_loop_between_steps(lines, state):
    previous = signal.getsignal(signal.SIGTERM)
    with socket.socket() as closed:  # bound, not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        config = AgentConfig(url, "prez2028", KEY.public_key(), TOKEN, state_dir=state)
        agent = Agent(config, nft=NO_NFT, sleep=lambda seconds: os.kill(os.getpid(), signal.SIGTERM), log=lines.append)
        assert agent.run() == 0
    assert [line.split()[1] for line in lines] == ["start", "unreachable", "stop"]
    assert signal.getsignal(signal.SIGTERM) is previous


def test_an_apply_that_fails_is_reported_once_and_backs_off(portal, clock, state, lines):
    portal.publish(snapshot(1, clock.start))
    config = AgentConfig(portal.url, "prez2028", KEY.public_key(), TOKEN, host="xml1", state_dir=state, policy=DOCS)
    agent = Agent(config, nft=NO_NFT, now=clock.now, sleep=clock.sleep, jitter=lambda: 0.5, log=lines.append)
    assert started(agent) == 20
    (report,) = portal.reports
    assert (report["status"], report["version"], report["counts"]) == ("failed", None, {})
    assert report["detail"].startswith("nft_missing: version 1: /nonexistent/nft is not installed")
    assert agent.snapshot is None and not (state / "agent-snapshot.json").exists()


# --- applying -------------------------------------------------------------------------------------------


@pytest.mark.netns
def test_the_first_poll_applies_the_snapshot_stores_it_and_reports(make_agent, portal, clock, ns, state):
    served = portal.publish(snapshot(1, clock.start))
    assert started(make_agent()) == 10
    assert live_sets(ns) == TESTING_SETS
    assert history(state) == [(1, "testing")]
    assert (state / "agent-snapshot.json").read_bytes() == served

    (get,) = portal.gets()
    assert get.headers["authorization"] == f"Bearer {TOKEN}"
    assert get.headers["accept"] == "application/json"
    assert "if-none-match" not in get.headers
    assert portal.reports == [
        {
            "host": "xml1",
            "status": "applied",
            "version": 1,
            "phase": "testing",
            "applied_at": format_time(clock.start),
            "detail": "nothing is in force yet; version 1 applied (testing)",
            "entries": 6,
            "counts": {"prod4": 2, "test4": 2, "prod6": 1, "test6": 1},
        }
    ]
    (post,) = [r for r in portal.requests if r.method == "POST"]
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["content-type"] == "application/json"


@pytest.mark.netns
def test_an_unchanged_snapshot_is_not_applied_again_and_heartbeats_once_a_minute(
    make_agent, portal, clock, ns, state, lines
):
    portal.publish(snapshot(1, clock.start, window_in=timedelta(days=1)))
    agent = make_agent()
    delay = started(agent)
    before = listing(ns)
    for _ in range(5):  # 50 s: no report
        clock.sleep(delay)
        delay = agent.step()
        assert delay == 10
    assert [g.headers.get("if-none-match") for g in portal.gets()] == [None, *['"prez2028-v1"'] * 5]
    assert [r["status"] for r in portal.reports] == ["applied"]
    clock.sleep(delay)
    agent.step()  # 60 s after the last report: a heartbeat
    assert [r["status"] for r in portal.reports] == ["applied", "unchanged"]
    assert portal.reports[-1]["version"] == 1 and portal.reports[-1]["counts"]["prod4"] == 2
    assert history(state) == [(1, "testing")]
    assert listing(ns) == before  # handles and timeouts unchanged: nothing was written
    assert sum("applied" in line.split()[1] for line in lines) == 1


@pytest.mark.netns
def test_a_new_version_is_applied(make_agent, portal, clock, ns, state):
    portal.publish(snapshot(1, clock.start))
    agent = make_agent()
    started(agent)
    served = portal.publish(snapshot(2, clock.start, count=8))
    clock.sleep(10)
    assert agent.poll() == "applied"
    assert history(state) == [(1, "testing"), (2, "testing")]
    assert "192.0.2.8" in live(ns).sets["test4"] and "2001:db8::7" in live(ns).sets["prod6"]
    assert (state / "agent-snapshot.json").read_bytes() == served
    assert portal.reports[-1]["version"] == 2 and portal.reports[-1]["entries"] == 8
    assert portal.reports[-1]["detail"].startswith("prez2028 version 1 in force, the portal has version 2")
    clock.sleep(10)
    assert agent.poll() == "unchanged"
    assert portal.gets()[-1].headers["if-none-match"] == '"prez2028-v2"'


def bad_answer(kind: str, start: datetime) -> tuple[int, bytes, bool]:
    """What a misbehaving portal sends while version 2 (six entries) is in force."""
    good = signed(snapshot(3, start))
    document = json.loads(good)
    return {
        "http_500": (500, b'{"error": "database is down"}', False),
        "incomplete": (200, good, True),
        "malformed": (200, b"<html><body>Bad gateway</body></html>", False),
        "signature": (200, signed(snapshot(3, start), OTHER_KEY), False),
        "unsigned": (200, json.dumps({k: v for k, v in document.items() if k != "signature"}).encode(), False),
        "tampered": (200, json.dumps({**document, "version": 4}).encode(), False),
        "other_election": (200, signed(snapshot(3, start, election="kv2028")), False),
        "older_version": (200, signed(snapshot(1, start)), False),
        "entry_drop": (200, signed(snapshot(3, start, count=2)), False),
    }[kind]


@pytest.mark.netns
@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("http_500", "http_500"),
        ("incomplete", "incomplete"),
        ("malformed", "malformed"),
        ("signature", "signature"),
        ("unsigned", "signature"),
        ("tampered", "signature"),
        ("other_election", "other_election"),
        ("older_version", "older_version"),
        ("entry_drop", "entry_drop"),
    ],
)
def test_a_bad_answer_changes_nothing_and_is_reported_as_refused(make_agent, portal, clock, ns, state, kind, code):
    served = portal.publish(snapshot(2, clock.start))
    agent = make_agent()
    started(agent)
    before = listing(ns)
    status, body, cut = bad_answer(kind, clock.start)
    portal.answer_with(status, body, cut=cut)

    delays = []
    for _ in range(2):
        clock.sleep(10)
        assert agent.poll() == "refused"
        delays.append((agent.poll_due - clock.now()).total_seconds())
    assert delays == [20, 40]  # backs off: no hot loop on a refusal
    assert listing(ns) == before
    assert history(state) == [(2, "testing")]
    assert (state / "agent-snapshot.json").read_bytes() == served
    report = portal.reports[-1]
    assert (report["status"], report["version"], report["phase"]) == ("refused", 2, "testing")
    assert report["detail"].startswith(f"{code}: ") and len(report["detail"]) <= 500

    portal.publish(snapshot(2, clock.start))  # the portal mends: back to the interval
    clock.sleep(40)
    assert agent.poll() == "unchanged"
    assert (agent.poll_due - clock.now()).total_seconds() == 10


@pytest.mark.netns
def test_a_snapshot_signed_right_but_with_a_refused_address_is_refused(make_agent, portal, clock, ns, state):
    portal.publish(snapshot(2, clock.start))
    agent = make_agent()
    started(agent)
    document = json.loads(signed(snapshot(3, clock.start)))
    document["entries"][0]["address"] = "10.0.0.1"
    portal.answer_with(200, json.dumps(sign_document(document, KEY)).encode())
    clock.sleep(10)
    assert agent.poll() == "refused"
    assert portal.reports[-1]["detail"].startswith("bad_entry: ")
    assert history(state) == [(2, "testing")]


@pytest.mark.netns
def test_a_report_the_portal_does_not_take_is_only_a_warning(make_agent, portal, clock, ns, lines):
    portal.publish(snapshot(1, clock.start))
    portal.report_status = 500
    agent = make_agent()
    agent.start()
    assert agent.poll() == "applied"
    assert any(" warning " in line and "answered 500 to the applied report" in line for line in lines)


# --- the portal away ------------------------------------------------------------------------------------


@pytest.mark.netns
def test_while_the_portal_is_down_the_agent_backs_off_and_the_ruleset_stays(make_agent, portal, clock, ns, lines):
    portal.publish(snapshot(1, clock.start, window_in=timedelta(days=1)))
    agent = make_agent()
    delay = started(agent)
    before = listing(ns)
    portal.down()
    went_away = clock.at + timedelta(seconds=delay)
    delays = []
    for _ in range(6):
        clock.sleep(delay)
        delay = agent.step()
        delays.append(delay)
    assert delays == [20, 40, 80, 160, 300, 300]
    assert listing(ns) == before
    assert sum(line.split()[1] == "unreachable" for line in lines) == 6

    portal.up()
    clock.sleep(delay)
    assert agent.step() == 10  # success resets the interval
    assert [r["status"] for r in portal.reports] == ["applied", "unreachable"]  # it tells the host's state too
    unreachable = portal.reports[-1]
    away = (clock.at - went_away).total_seconds()
    assert (unreachable["version"], unreachable["phase"], unreachable["counts"]["prod4"]) == (1, "testing", 2)
    assert unreachable["detail"].startswith(f"no answer for {away:.0f} s since {format_time(went_away)} (6 attempts)")
    assert listing(ns) == before


@pytest.mark.netns
def test_phase_boundaries_are_enforced_from_the_stored_snapshot_while_the_portal_is_down(
    make_agent, portal, clock, ns, state
):
    snap = snapshot(1, clock.start)
    (window,) = snap.live_windows
    portal.publish(snap)
    agent = make_agent()
    delay = started(agent)
    portal.down()

    wakes, delay = run_until(agent, clock, window.starts_at, delay)
    assert wakes[-1] == window.starts_at  # woken by the boundary, not by the (backed-off) poll
    sets = live_sets(ns)
    assert sets["test4"] == sets["test6"] == set()
    assert sets["prod4"] == TESTING_SETS["prod4"] and sets["prod6"] == TESTING_SETS["prod6"]
    assert history(state)[-1] == (1, "live")

    wakes, delay = run_until(agent, clock, window.ends_at, delay)
    assert wakes[-1] == window.ends_at
    assert live_sets(ns) == TESTING_SETS  # test addresses are back
    assert history(state)[-1] == (1, "testing")

    wakes, delay = run_until(agent, clock, snap.closes_at, delay)
    assert wakes[-1] == snap.closes_at
    assert all(not values for values in live_sets(ns).values())
    assert history(state) == [(1, "testing"), (1, "live"), (1, "testing"), (1, "closed")]
    assert delay == (agent.poll_due - clock.at).total_seconds()  # after the close only the poll wakes it
    assert portal.reports[-1]["status"] == "applied"  # the reports went nowhere: the last one is the first apply
    assert len(portal.reports) == 1


@pytest.mark.netns
def test_a_restart_without_the_portal_enforces_the_stored_snapshot(make_agent, portal, clock, ns, state, lines):
    snap = snapshot(1, clock.start)
    portal.publish(snap)
    started(make_agent())
    portal.down()

    clock.to(snap.live_windows[0].starts_at + timedelta(seconds=30))  # the agent was stopped over the start
    restarted = make_agent()
    restarted.start()
    assert restarted.snapshot is not None and restarted.snapshot.version == 1
    assert any("stored snapshot: version 1" in line for line in lines)
    assert live_sets(ns)["test4"] == set()
    assert history(state)[-1] == (1, "live")

    run(*nft_in(ns), "delete", "table", "inet", "csu_results")  # a reboot, or someone flushed the ruleset
    seen = len(lines)
    make_agent().start()
    assert live_sets(ns)["prod4"] == TESTING_SETS["prod4"] and live_sets(ns)["test4"] == set()
    assert any(" applied " in line and "is missing" in line for line in lines[seen:])

    stored = state / "agent-snapshot.json"
    stored.write_bytes(stored.read_bytes().replace(b'"version": 1', b'"version": 9'))
    suspicious = make_agent()
    suspicious.start()
    assert suspicious.snapshot is None
    assert any("refused (signature)" in line for line in lines)
    assert history(state)[-1][0] == 1


# --- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def key_files(tmp_path: Path) -> dict[str, Path]:
    public = tmp_path / "allowlist.pub"
    public.write_bytes(
        KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    return {"public": public, "token": token}


def agent_argv(portal_url: str, key_files: dict[str, Path], state: Path, *extra: str) -> list[str]:
    return [
        "agent",
        "--once",
        "--portal",
        portal_url,
        "--election",
        "prez2028",
        "--public-key",
        str(key_files["public"]),
        "--state-dir",
        str(state),
        "--allow-documentation-ranges",
        "--host-name",
        "xml7",
        *extra,
    ]


@pytest.mark.netns
def test_once_exit_codes_through_the_cli(ns, portal, key_files, state, monkeypatch, capsys):
    monkeypatch.setattr(applying, "NFT", nft_in(ns))  # the CLI's nft acts inside the namespace
    argv = agent_argv(portal.url, key_files, state, "--token-file", str(key_files["token"]))
    portal.publish(snapshot(1, datetime.now(UTC)))
    assert main(argv) == 0
    assert live_sets(ns) == TESTING_SETS
    assert portal.reports[-1]["host"] == "xml7" and portal.reports[-1]["status"] == "applied"
    assert main(argv) == 0  # in order: nothing to do

    portal.answer_with(200, signed(snapshot(2, datetime.now(UTC)), OTHER_KEY))
    assert main(argv) == 1
    assert "refused version=1 phase=testing signature:" in capsys.readouterr().err

    portal.down()
    assert main(argv) == 1
    assert " unreachable " in capsys.readouterr().err
    assert live_sets(ns) == TESTING_SETS


def test_the_cli_refuses_a_bad_configuration(portal, key_files, state, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(applying, "NFT", NO_NFT)
    monkeypatch.delenv("CSU_PORTAL_TOKEN", raising=False)
    token = ["--token-file", str(key_files["token"])]
    assert main(agent_argv(portal.url, key_files, state)) == 2  # no token at all
    assert "--token-file" in capsys.readouterr().err
    assert main(agent_argv("ftp://portal.example", key_files, state, *token)) == 1
    assert "(portal_url)" in capsys.readouterr().err
    missing = {**key_files, "public": tmp_path / "missing.pub"}
    assert main(agent_argv(portal.url, missing, state, *token)) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(agent_argv(portal.url, key_files, state, "--token-file", str(tmp_path / "none"))) == 1
    assert main([*agent_argv(portal.url, key_files, state, *token), "--interval", "0"]) == 2
    assert main([*agent_argv(portal.url, key_files, state, "--token", "t", *token)]) == 2  # one token source

    monkeypatch.setenv("CSU_PORTAL_TOKEN", TOKEN)  # from the environment; the portal has nothing yet: 404
    assert main(agent_argv(portal.url, key_files, state)) == 1
    assert "refused version=- phase=- http_404:" in capsys.readouterr().err
    assert portal.gets()[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_capped_test_timeouts_are_renewed_daily_and_only_then(make_agent, portal, clock, ns, state):
    """An election far ahead: the test elements carry the longest timeout nft takes, and the agent writes the
    ruleset again once a day so they never run out before the window."""
    portal.publish(snapshot(1, clock.start, window_in=timedelta(days=90)))
    agent = make_agent()
    started(agent)
    assert history(state) == [(1, "testing")]
    clock.sleep(3600)
    agent.step()
    assert len(history(state)) == 1, "an hour later nothing is renewed"
    clock.sleep(86400)
    agent.step()
    assert len(history(state)) == 2
    assert "capped: renewed" in portal.reports[-1]["detail"]
    assert live(ns).sets["test4"] == TESTING_SETS["test4"]
