"""The drill's timeline: set up, register, test, go live twice, close, judge.

Times are real (the kernel's element timeouts, the agent's and the proxy's clocks are real); the plan
compresses the election into a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drill import filming, network, registration, report, web
from drill.clients import read_observations
from drill.mail import MailCapture, mail_tally
from drill.office import portal_environment, set_up_office
from drill.plan import Check, Fate, Plan, make_plan
from drill.stack import (
    BIN,
    ROOT,
    Database,
    Processes,
    StackError,
    fetch_in_netns,
    free_port,
    get_json,
    gunicorn_command,
    http_ok,
    portal_command,
    post_json,
    run_checked,
    wait_until,
)

#: Seconds from the start of the command to the plan's t0: topology, database, gunicorn, office set-up.
SETUP_MARGIN = 35.0
PROXY_PORT = 80
#: The agent is frozen from this many seconds before each live start until this many after it.
AGENT_PAUSE = (2.0, 5.0)
SIMULATOR_BATCHES = 20


def log(message: str) -> None:
    print(f"[drill {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def sleep_until(moment: datetime) -> None:
    while (left := (moment - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(min(left, 0.5))


class Drill:
    def __init__(self, report_dir: Path, admin_url: str) -> None:
        self.report_dir = report_dir
        self.work = report_dir / "work"
        self.logs = report_dir / "logs"
        # A run's files are its own: an earlier run's agent state (its snapshot and phase in force) would
        # make this run's agent start from that run's schedule.
        for folder in (self.work, self.logs):
            shutil.rmtree(folder, ignore_errors=True)
        for folder in (self.work, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        self.admin_url = admin_url
        self.processes = Processes(self.logs)
        self.checks: list[Check] = []
        self.timers: list[threading.Timer] = []
        self.revoked_at: float | None = None
        self.extra: dict[str, Any] = {}

    # -- helpers ------------------------------------------------------------------------------------------

    def check(self, stage: str, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(stage, name, ok, detail))
        log(f"{'ok  ' if ok else 'FAIL'} [{stage}] {name}{': ' + detail if detail else ''}")

    def pause_agent(self, paused: bool) -> None:
        if paused:
            self.processes.pause("agent")
        else:
            self.processes.resume("agent")
        log(f"firewall agent {'frozen' if paused else 'resumed'}")

    def add_checks(self, checks: list[Check]) -> None:
        for check in checks:
            self.check(check.stage, check.name, check.ok, check.detail)

    def at(self, moment: datetime, action: Callable[[], None]) -> None:
        """Run ``action`` in a thread at ``moment`` (exceptions become failed checks)."""

        def guarded() -> None:
            try:
                action()
            except Exception as error:  # a scheduled step that fails is a failed check; the drill goes on
                self.check("timeline", getattr(action, "__name__", "step"), False, repr(error))

        delay = max(0.0, (moment - datetime.now(UTC)).total_seconds())
        timer = threading.Timer(delay, guarded)
        timer.daemon = True
        timer.start()
        self.timers.append(timer)

    def clients(self, mode: str, name: str, config: dict[str, Any]) -> tuple[Path, Path, list[str]]:
        """The config file, the observations file and the command of one ``drill.clients`` run."""
        path = self.work / f"{name}.json"
        path.write_text(json.dumps({"port": PROXY_PORT, "paths": self.paths, **config}))
        out = self.work / f"{name}.jsonl"
        argv = [sys.executable, "-m", "drill.clients", mode, "--config", str(path), "--out", str(out)]
        return path, out, argv

    def sweep(self, name: str, addresses: list[str]) -> dict[str, str]:
        """One request from each address now; its outcome by address."""
        _config, out, argv = self.clients(
            "sweep", name, {"clients": [{"address": a} for a in addresses], "connect_timeout": 1.0}
        )
        self.topology.run(self.topology.client_ns, argv, timeout=60)
        return {o["a"]: o["o"] for o in _read_jsonl(out)}

    def start_probe(self, name: str, addresses: list[str], start: datetime, until: datetime) -> None:
        _config, out, argv = self.clients(
            "probe",
            name,
            {
                "clients": [{"address": a} for a in addresses],
                "from": start.timestamp(),
                "until": until.timestamp(),
                "every": report.PROBE_STEP,
                "connect_timeout": 0.3,
                "read_timeout": 3.0,
            },
        )
        self.probe_outputs.append(out)
        self.processes.start(name, argv, netns=self.topology.client_ns)

    # -- the timeline -------------------------------------------------------------------------------------

    def run(self) -> int:
        started = time.monotonic()
        plan = make_plan(datetime.now(UTC) + timedelta(seconds=SETUP_MARGIN))
        self.plan = plan
        self.probe_outputs: list[Path] = []
        try:
            network.require_privileges()
        except RuntimeError as missing:
            raise StackError(f"the drill needs root, ip and nft: {missing}") from missing
        network.cleanup_stale("drill")
        with network.Topology([a for a, _, _ in plan.clients()], prefix="drill") as topology:
            self.topology = topology
            self._install_stop_handler()
            try:
                self.set_up(plan)
                self.register(plan)
                self.testing(plan)
                self.live_and_close(plan)
                self.collect(plan)
            finally:
                for timer in self.timers:
                    timer.cancel()
                self.processes.stop_all()
                if getattr(self, "mail", None) is not None:
                    self.mail.stop()
                if getattr(self, "database", None) is not None:
                    self.database.drop()
        self.extra["duration_seconds"] = round(time.monotonic() - started, 1)
        verdict = report.judge(
            report.Evidence(
                plan=plan,
                observations=self.observations,
                upstream_hits=self.upstream_hits,
                publications=self.publications,
                revoked_at=self.revoked_at,
                mail=self.mail_tally,
                checks=self.checks,
            )
        )
        summary = report.write(self.report_dir, verdict, self.extra, self.checks)
        print(summary)
        print(f"report: {self.report_dir / 'report.html'}")
        return 0 if verdict.ok else 1

    def _install_stop_handler(self) -> None:
        def stop(number: int, _frame: object) -> None:
            raise KeyboardInterrupt(f"signal {number}")

        signal.signal(signal.SIGTERM, stop)

    def set_up(self, plan: Plan) -> None:
        topology = self.topology
        self.database = Database.create(self.admin_url)
        log(f"database {self.database.name}")
        self.mail = MailCapture()
        self.mail.start()
        portal_port = free_port(topology.host_address)
        self.portal_url = f"http://{topology.host_address}:{portal_port}"
        self.env = portal_environment(self.work, self.database.url, self.mail.port, self.portal_url)
        run_checked(portal_command("db", "upgrade"), self.env, "portal db upgrade")
        self.processes.start("portal", gunicorn_command(topology.host_address, portal_port), env=self.env)
        self.processes.start("outbox", portal_command("outbox", "send", "--interval", "1"), env=self.env)

        simulator_port = free_port(topology.host_address)
        self.simulator_url = f"http://{topology.host_address}:{simulator_port}"
        first_live = plan.schedule.live[0]
        self.processes.start(
            "simulator",
            [
                str(BIN / "feedproxy"),
                "simulate",
                "--election",
                plan.election,
                "--duration",
                str(plan.timing.live - 5),
                "--batches",
                str(SIMULATOR_BATCHES),
                "--start-at",
                first_live[0].isoformat(),
                "--runoff-at",
                plan.schedule.live[1][0].isoformat(),
                "--layout",
                "both",
                # Precincts sent again with corrections (OPAKOVANE="1"), as on a real night.
                "--repeats",
                "10",
                "--listen",
                f"{topology.host_address}:{simulator_port}",
            ],
        )
        wait_until("portal", lambda: http_ok(f"{self.portal_url}/healthz"), 30, self.processes, "portal")
        wait_until("simulator", lambda: http_ok(f"{self.simulator_url}/_control/"), 15, self.processes, "simulator")
        self.paths, self.publications = polled_paths(get_json(f"{self.simulator_url}/_control/"))
        self.extra["documents polled"] = self.paths
        self.extra["layouts"] = "round 1 on the /pls/ query endpoints, the run-off on the /appdata/ static files"

        self.office = set_up_office(self.env, plan)
        token_file = self.work / "agent-token"
        token_file.write_text(self.office.ops_token)
        token_file.chmod(0o600)
        proxy_token_file = self.work / "proxy-token"
        proxy_token_file.write_text(self.office.proxy_token)
        proxy_token_file.chmod(0o600)
        self.proxy_token_file = proxy_token_file
        key_file = self.work / "allowlist-public.pem"
        key_file.write_bytes(self.office.allowlist_public_key_pem)
        self.token_file, self.key_file = token_file, key_file
        log(f"set up: portal {self.portal_url}, simulator {self.simulator_url}, t0 {plan.schedule.t0:%H:%M:%S}")
        self.check("set-up", "office ready before t0", datetime.now(UTC) < plan.schedule.t0)

    def register(self, plan: Plan) -> None:
        sleep_until(plan.schedule.t0)
        self.registration = registration.register_on_time(self.portal_url, plan, self.office)
        self.add_checks(self.registration.checks)
        done = datetime.now(UTC)
        self.check(
            "registration",
            "every on-time application in before the deadline",
            done < plan.schedule.applications_close_at,
            f"done {(plan.schedule.applications_close_at - done).total_seconds():.1f} s before it",
        )

    def testing(self, plan: Plan) -> None:
        topology = self.topology
        admitted = {a for o in plan.outlets if o.admitted_ever for a in (*o.production, *o.test)}
        everyone = [a for a, _, _ in plan.clients()]
        others = [a for a in everyone if a not in admitted]

        # The proxy first, alone: its own access check is the only gate.
        self.processes.start(
            "proxy",
            [
                str(BIN / "feedproxy"),
                "serve",
                "--upstream",
                self.simulator_url,
                "--snapshot",
                f"{self.portal_url}/api/v1/elections/{plan.election}/allowlist",
                "--token-file",
                str(self.proxy_token_file),
                "--public-key",
                str(self.key_file),
                "--allow-documentation-ranges",
                "--listen",
                f"[::]:{PROXY_PORT}",
                "--refresh",
                str(plan.timing.proxy_refresh),
                "--snapshot-poll",
                "1",
                "--workers",
                "2",
                "--metrics-allow",
                "127.0.0.1",
            ],
            netns=topology.server_ns,
        )
        wait_until("feed proxy", self._proxy_answers, 30, self.processes, "proxy")
        self._sweep_expect("testing, proxy only", admitted, others, refused_as="refused")

        # Then the firewall agent: the kernel drops the others before the proxy sees them.
        self.processes.start(
            "agent",
            [
                str(BIN / "firewall"),
                "agent",
                "--portal",
                self.portal_url,
                "--election",
                plan.election,
                "--public-key",
                str(self.key_file),
                "--token-file",
                str(self.token_file),
                "--state-dir",
                str(self.work / "agent-state"),
                "--interval",
                str(plan.timing.agent_interval),
                "--ports",
                str(PROXY_PORT),
                "--allow-documentation-ranges",
                "--host-name",
                "drill-xml-1",
            ],
            netns=topology.server_ns,
        )
        wait_until(
            "firewall agent's first apply",
            lambda: (
                "csu_results"
                in topology.run(topology.server_ns, ["nft", "list", "tables"], capture_output=True, text=True).stdout
            ),
            30,
            self.processes,
            "agent",
        )
        self._sweep_expect("testing, firewall and proxy", admitted, others, refused_as="timeout")

        sleep_until(plan.schedule.applications_close_at + timedelta(seconds=1))
        self.add_checks(registration.apply_late(self.portal_url, plan, self.office))
        self.add_checks(filming.filming_and_meeting(self.portal_url, plan, self.office, self.mail))

    def _proxy_answers(self) -> bool:
        try:
            fetch_in_netns(self.topology.server_ns, f"http://127.0.0.1:{PROXY_PORT}/healthz")
        except StackError:
            return False
        return True

    def _sweep_expect(self, stage: str, admitted: set[str], others: list[str], *, refused_as: str) -> None:
        outcomes = self.sweep(stage.replace(" ", "-").replace(",", ""), sorted(admitted) + others)
        wrong_admitted = sorted(a for a in admitted if outcomes.get(a) not in report.ADMITTED)
        wrong_others = sorted(a for a in others if outcomes.get(a) != refused_as)
        self.check(
            stage,
            f"all {len(admitted)} approved production and test addresses fetch documents",
            not wrong_admitted,
            ", ".join(f"{a}: {outcomes.get(a)}" for a in wrong_admitted[:5]),
        )
        self.check(
            stage,
            f"all {len(others)} rejected, late, over-limit and unknown addresses refused ({refused_as})",
            not wrong_others,
            ", ".join(f"{a}: {outcomes.get(a)}" for a in wrong_others[:5]),
        )

    def live_and_close(self, plan: Plan) -> None:
        schedule, timing = plan.schedule, plan.timing
        clients = [{"address": a} for a, _, _ in plan.clients()]
        end = schedule.closes_at + timedelta(seconds=8)
        _config, self.poll_output, argv = self.clients(
            "poll",
            "poll",
            {
                "clients": clients,
                "interval": timing.poll_interval,
                "until": end.timestamp(),
                "connect_timeout": 1.0,
                "read_timeout": 5.0,
                "conditional": True,
                "gzip": True,
            },
        )
        self.processes.start("poll", argv, netns=self.topology.client_ns)

        tests = [a for o in plan.outlets if o.fate is Fate.APPROVED for a in o.test][:8]
        productions = [o.production[0] for o in plan.outlets if o.fate is Fate.APPROVED][:8]
        for name, moment in schedule.boundaries():
            watched = productions if name == "closed" else tests
            probe_start = moment - timedelta(seconds=3)
            self.at(
                probe_start - timedelta(seconds=1),
                lambda name=name, watched=watched, s=probe_start, m=moment: self.start_probe(
                    f"probe-{name}", watched, s, m + timedelta(seconds=6)
                ),
            )

        # Across each live start the agent is frozen (SIGSTOP): the kernel's element timeouts alone must cut
        # the test addresses, as they would with the agent's host busy or its portal away.
        self.extra["firewall agent frozen (SIGSTOP) around each live start"] = (
            f"{AGENT_PAUSE[0]:.0f} s before to {AGENT_PAUSE[1]:.0f} s after: the element timeouts cut alone"
        )
        for start, _end in schedule.live:
            self.at(start - timedelta(seconds=AGENT_PAUSE[0]), lambda: self.pause_agent(True))
            self.at(start + timedelta(seconds=AGENT_PAUSE[1]), lambda: self.pause_agent(False))

        sim = self.simulator_url
        self.at(
            schedule.outage_at,
            lambda: post_json(
                f"{sim}/_control/fault",
                {"kind": "status500", "count": None, "for_seconds": schedule.outage_seconds, "path": "/pls/*"},
            ),
        )
        self.at(
            schedule.truncated_at,
            lambda: post_json(f"{sim}/_control/fault", {"kind": "truncated", "count": 1, "path": self.paths[0]}),
        )

        revoked = plan.outlet(Fate.REVOKED)
        self.at(
            schedule.revoke_at - timedelta(seconds=2),
            lambda: self.start_probe(
                "probe-revocation",
                list(revoked.production),
                schedule.revoke_at - timedelta(seconds=1),
                schedule.revoke_at + timedelta(seconds=timing.agent_interval + 8),
            ),
        )
        # A stolen host token on election night: the agent's allowlist-only token tries to withdraw and to
        # rewrite an approved outlet's application; both are refused and nothing changes.
        self.at(
            schedule.revoke_at - timedelta(seconds=6),
            lambda: registration.host_token_cannot_touch_outlets(
                self.portal_url, plan, self.office, self.registration, self.checks
            ),
        )
        sleep_until(schedule.revoke_at)
        self.revoked_at = registration.revoke(
            self.portal_url, plan, self.office, self.registration, self.checks
        ).timestamp()
        log(f"revoked {revoked.name} at {report.instant(self.revoked_at)}")

        sleep_until(schedule.closes_at + timedelta(seconds=timing.cut_tolerance + 1))
        everyone = [a for a, _, _ in plan.clients()]
        outcomes = self.sweep("after-close", everyone)
        admitted_after_close = sorted(a for a, o in outcomes.items() if o in report.ADMITTED)
        self.check(
            "closed",
            f"nobody of {len(everyone)} admitted after the close",
            not admitted_after_close and len(outcomes) == len(everyone),
            ", ".join(admitted_after_close[:5]),
        )
        sleep_until(end + timedelta(seconds=2))
        self.processes.check_alive("portal", "proxy", "agent", "simulator")

    def collect(self, plan: Plan) -> None:
        for name in [n for n in self.processes.running if n.startswith(("poll", "probe"))]:
            self.processes.stop(name, timeout=15)
        self.observations = _read_jsonl(self.poll_output)
        for output in self.probe_outputs:
            self.observations.extend(_read_jsonl(output))
        hits = get_json(f"{self.simulator_url}/_control/hits")
        self.upstream_hits = {url: times for url, times in hits.items()}
        # The raw evidence behind the upstream and batch gates, for reading a failure afterwards.
        (self.work / "upstream-hits.json").write_text(json.dumps(self.upstream_hits, indent=1))
        (self.work / "publications.json").write_text(json.dumps(self.publications, indent=1))
        health = json.loads(fetch_in_netns(self.topology.server_ns, f"http://127.0.0.1:{PROXY_PORT}/healthz"))
        stats = json.loads(fetch_in_netns(self.topology.server_ns, f"http://127.0.0.1:{PROXY_PORT}/stats.json"))
        (self.work / "proxy-stats.json").write_text(json.dumps(stats, indent=2))
        self.extra["proxy at the end"] = {
            "status": health.get("status"),
            "fetches per document": {
                path: document.get("fetches") for path, document in health.get("documents", {}).items()
            },
            "stale documents": [p for p, d in health.get("documents", {}).items() if d.get("stale")],
        }
        upstream = get_json(f"{self.simulator_url}/_control/stats")
        self.extra["upstream answers (faults injected: outage, truncated)"] = {
            "statuses": upstream.get("statuses"),
            "faults": upstream.get("faults"),
        }
        tally = mail_tally(self.env, self.mail)
        self.add_checks(tally.checks())
        self.mail_tally = {"sent": tally.sent, "received": tally.received, "lost": list(tally.lost)}
        self.extra["mail"] = {
            "queued": tally.queued,
            "sent": tally.sent,
            "received": tally.received,
            "lost": len(tally.lost),
            "by template": tally.by_template,
        }


def polled_paths(index: dict[str, Any]) -> tuple[list[str], dict[str, float]]:
    """The paths the clients poll, from the simulator's index, and each polled batch's publication (epoch s).

    Round 1 on the old query endpoints (national, batches 1 to 3, the newest); the run-off on the static
    files: national, the newest-batch alias and every numbered batch, each 404 until the office publishes it.
    """
    documents = [(d["what"], d["path"]) for d in index["documents"]]
    first = [p for what, p in documents if p.startswith("/pls/") and not what.startswith("round 2")]
    first = [q for p in first for q in ([p.replace("=N", f"={n}") for n in (1, 2, 3)] if "=N" in p else [p])]
    second = [
        p for what, p in documents if p.startswith("/appdata/") and what.startswith("round 2") and "NNNNN" not in p
    ]
    base = next(p for p in second if p.endswith("/vysledky.xml")).removesuffix("vysledky.xml")
    publications = {b["path"]: float(b["at"]) for b in index["publications"] if b["path"].startswith(base)}
    return [*first, *second, *publications], publications


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [dict(o) for o in read_observations(path)] if path.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drill", description=__doc__)
    parser.add_argument("--report-dir", type=Path, default=ROOT / "test-artifacts" / "drill")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("DRILL_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL allowed to create and drop databases",
    )
    args = parser.parse_args(argv)
    drill = Drill(args.report_dir, args.admin_url)
    try:
        return drill.run()
    except (StackError, web.DrillError) as error:
        log(f"drill aborted: {error}")
        return 2
    except KeyboardInterrupt:
        log("drill stopped")
        return 130
