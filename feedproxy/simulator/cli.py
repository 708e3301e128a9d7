"""``feedproxy simulate``: serve a simulated election night on the office's URL paths.

    feedproxy simulate --election prez2023 [--layout appdata|pls|both] [--duration 600] [--batches 40]
                       [--listen 127.0.0.1:8081] [--seed N] [--start-at ISO8601] [--runoff-at ISO8601]
                       [--repeats N] [--fault KIND[:COUNT][@PATH]] [--verbose]

Counting starts at ``--start-at`` (default: now; a time without an offset is Prague time) and reaches
100 % of precincts ``--duration`` seconds later in ``--batches`` batches; a run-off (prez, senat) counts its own
figures from ``--runoff-at`` (default: as long after as in reality). ``--layout appdata`` (the default) serves the
office's static files of 2025 on (``/appdata/...``), ``pls`` the query endpoints up to 2023, ``both`` both. The
URLs are printed on start;
SIGINT or SIGTERM stops the server. Exit codes: 0 stopped cleanly, 1 cannot listen, 2 usage.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime

from feedproxy.simulator.clock import Clock
from feedproxy.simulator.faults import KINDS, FaultError, FaultRule
from feedproxy.simulator.server import CONTROL, SimulatorServer
from feedproxy.simulator.simulation import ELECTIONS, LAYOUTS, Simulation
from feedproxy.simulator.xmlwriter import PRAGUE


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        host, port = _listen(parser, args.listen)
        start = _start(parser, args.start_at)
        runoff = _start(parser, args.runoff_at, "--runoff-at") if args.runoff_at else None
        rules = [_fault(parser, spec) for spec in args.fault]
        simulation = Simulation(
            args.election, args.duration, args.batches, args.seed, start, args.repeats, args.layout, runoff
        )
    except SystemExit as exit_:  # usage errors (2) and --help (0)
        return exit_.code if isinstance(exit_.code, int) else 2
    except ValueError as error:  # a number out of range for the election
        print(f"feedproxy simulate: {error}", file=sys.stderr)
        return 2
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.verbose else None
    try:
        server = SimulatorServer(simulation, host, port, Clock.since(simulation.start), log=log)
    except OSError as error:
        print(f"feedproxy simulate: cannot listen on {args.listen}: {error}", file=sys.stderr)
        return 1
    for rule in rules:
        server.faults.add(rule)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        _announce(simulation, server)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("feedproxy simulate: stopped", flush=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedproxy simulate",
        description="Serve a simulated election night (the office's XML results) for testing the proxy.",
    )
    parser.add_argument("--election", choices=sorted(ELECTIONS), default="prez2023")
    parser.add_argument(
        "--layout", choices=LAYOUTS, default="appdata", help="paths: appdata (2025 on, default), pls (to 2023), both"
    )
    parser.add_argument("--duration", type=float, default=600.0, help="seconds from 0 to 100 %% (default 600)")
    parser.add_argument("--batches", type=int, default=40, help="number of batches (default 40)")
    parser.add_argument("--listen", default="127.0.0.1:8081", metavar="HOST:PORT", help="default 127.0.0.1:8081")
    parser.add_argument("--seed", type=int, default=0, help="seed for the invented results (default 0)")
    parser.add_argument("--start-at", metavar="ISO8601", help="when counting starts (default now; no offset = Prague)")
    parser.add_argument("--runoff-at", metavar="ISO8601", help="when the run-off's counting starts (prez, senat)")
    parser.add_argument("--repeats", type=int, default=0, help="precincts sent again with corrections (default 0)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:COUNT][@PATH]",
        help=f"spoil the first COUNT answers (default 1) from the start; KIND is one of {', '.join(KINDS)}",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def _listen(parser: argparse.ArgumentParser, value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        parser.error(f"--listen: HOST:PORT expected, got {value!r}")
    return host, int(port)


def _start(parser: argparse.ArgumentParser, value: str | None, option: str = "--start-at") -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        parser.error(f"{option}: an ISO 8601 date and time expected, got {value!r}")
    return moment.replace(tzinfo=PRAGUE) if moment.tzinfo is None else moment


def _fault(parser: argparse.ArgumentParser, spec: str) -> FaultRule:
    head, _, path = spec.partition("@")
    kind, _, count = head.partition(":")
    try:
        if count and not count.isdigit():
            raise FaultError("count", "a positive integer")
        return FaultRule.from_json({"kind": kind, "count": int(count or 1), "path": path or None})
    except FaultError as error:
        parser.error(f"--fault {spec!r}: {error}")


def _announce(simulation: Simulation, server: SimulatorServer) -> None:
    start = simulation.start.astimezone(PRAGUE).strftime("%Y-%m-%d %H:%M:%S")
    print(
        f"feedproxy simulate: {simulation.code}, seed {simulation.seed}, {simulation.batches} batches over "
        f"{simulation.duration:g} s from {start} Prague time",
        flush=True,
    )
    rows = [*simulation.documents(), ("control API", CONTROL)]
    width = max(len(what) for what, _ in rows)
    for what, path in rows:
        print(f"  {what:<{width}}  {server.url}{path}", flush=True)
