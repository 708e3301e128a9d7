"""Benchmark: rendering and applying an allowlist of 10,000 entries.

Builds a snapshot of ``--entries`` public addresses (two thirds IPv4, one third IPv6; half production,
half test; 500 outlets) in the testing phase, so the test elements carry timeouts. Prints the median
and p95 of ``render()`` (every address re-validated, nft text and JSON), of ``load_snapshot`` with the
signature check for comparison, and -- as root, with ``nft`` and ``ip`` -- of applying the script in a
fresh network namespace: one ``nft -f`` into an empty namespace, the same replacing a full table, and
``firewall.apply.apply`` end to end (check, apply, read-back, history). Exits 1 if the render median
exceeds ``--render-bound-ms`` (200) or the apply median exceeds ``--apply-bound-ms`` (1000).

    .venv/bin/python bench/firewall.py [--entries 10000] [--runs 15]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from allowlist.phase import LiveWindow  # noqa: E402
from allowlist.snapshot import Entry, Snapshot, load_snapshot, sign_document, snapshot_document  # noqa: E402
from firewall.apply import apply  # noqa: E402
from firewall.render import build, render  # noqa: E402


def measure(run: Callable[[], object], runs: int, *, warm_up: int = 2) -> tuple[float, float]:
    for _ in range(warm_up):
        run()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]


def big_snapshot(entries: int, now: datetime) -> Snapshot:
    """Public addresses from 11.0.0.0/8 and 2a00::/12 (allocated, global), spread out."""
    base4, base6 = int(ipaddress.IPv4Address("11.0.0.0")), int(ipaddress.IPv6Address("2a00:1000::"))
    rows = []
    for i in range(entries):
        address = ipaddress.IPv4Address(base4 + i * 7) if i % 3 else ipaddress.IPv6Address(base6 + (i << 64) + i)
        organisation = 1 + i % 500
        rows.append(
            Entry(str(address), "production" if i % 2 else "test", f"Vydavatelství č. {organisation}", organisation)
        )
    window = LiveWindow(1, now + timedelta(hours=3), now + timedelta(hours=27))
    return Snapshot("prez2028", 1, now, (window,), now + timedelta(days=20), tuple(rows))


def namespace_tools_missing() -> str | None:
    if os.geteuid() != 0:
        return "not root"
    missing = [tool for tool in ("nft", "ip") if shutil.which(tool) is None]
    return f"{', '.join(missing)} missing" if missing else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--render-bound-ms", type=float, default=200.0)
    parser.add_argument("--apply-bound-ms", type=float, default=1000.0)
    options = parser.parse_args()

    now = datetime.now(UTC)
    snapshot = big_snapshot(options.entries, now)
    key = Ed25519PrivateKey.generate()
    data = json.dumps(sign_document(snapshot_document(snapshot), key)).encode()
    print(f"{options.entries} entries, phase {snapshot.phase_at(now).value}, {options.runs} runs; median / p95:")

    failed = False
    render_median = 0.0
    for format in ("nft", "json"):
        median, p95 = measure(lambda format=format: render(snapshot, now, format=format), options.runs)
        print(f"  render ({format:4}): {median:7.1f} ms / {p95:7.1f} ms")
        render_median = max(render_median, median) if format == "nft" else render_median
    median, p95 = measure(lambda: load_snapshot(data, public_key=key.public_key()), options.runs)
    print(f"  load_snapshot (verify + validate, for comparison): {median:7.1f} ms / {p95:7.1f} ms")
    if render_median > options.render_bound_ms:
        print(f"FAIL: rendering takes {render_median:.1f} ms, over {options.render_bound_ms:.0f} ms")
        failed = True

    problem = namespace_tools_missing()
    if problem:
        print(f"  apply: not measured ({problem})")
        return 1 if failed else 0

    script = render(snapshot, now)
    name = f"csu-bench-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    state_dir = Path(tempfile.mkdtemp(prefix="csu-bench-state-"))
    try:
        nft = ("ip", "netns", "exec", name, "nft")

        def nft_f() -> None:
            subprocess.run([*nft, "-f", "-"], input=script, text=True, check=True)

        def fresh() -> None:
            subprocess.run([*nft, "delete", "table", "inet", "csu_results"], check=False, capture_output=True)

        timings = []
        for _ in range(options.runs):
            fresh()
            started = time.perf_counter()
            nft_f()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        median, worst = statistics.median(timings), timings[-1]
        print(f"  apply, one nft -f into an empty namespace: {median:7.1f} ms / {worst:7.1f} ms (max)")
        median, p95 = measure(nft_f, options.runs, warm_up=1)
        print(f"  apply, one nft -f replacing the full table: {median:7.1f} ms / {p95:7.1f} ms")

        ruleset = build(snapshot, now)
        apply_median, p95 = measure(lambda: apply(ruleset, state_dir=state_dir, nft=nft), options.runs, warm_up=1)
        print(f"  firewall.apply.apply (check + apply + read-back + history): {apply_median:7.1f} ms / {p95:7.1f} ms")
        if apply_median > options.apply_bound_ms:
            print(f"FAIL: applying takes {apply_median:.1f} ms, over {options.apply_bound_ms:.0f} ms")
            failed = True
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(state_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
