"""Benchmark: validating a signed application PDF, the way an upload is validated.

Builds the test PKI, makes an application-size PDF (a few pages), signs it (PAdES, qualified
certificate, with and without a timestamp) and validates it ``--runs`` times through
``validate_signed_pdf``: the worker process with its time limit, the trusted list, the CRLs, the
binding to the original, no network. Prints the median and p95 per variant, plus the in-process
time for comparison (the difference is the price of the worker process). Exits 1 if a median
exceeds the bound (50 ms by default).

    .venv/bin/python bench/signature_validation.py [--runs 50] [--pages 4] [--bound-ms 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.signatures import validate_signed_pdf  # noqa: E402
from portal.signatures.worker import get_pool  # noqa: E402
from tests.signatures.pki import get_test_pki, unsigned_pdf  # noqa: E402


def measure(run: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(3):  # warm-up: worker start, caches
        run()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--bound-ms", type=float, default=50.0)
    options = parser.parse_args()

    pki = get_test_pki()
    trust = pki.trust_config()
    original = unsigned_pdf(options.pages)
    variants = {
        "PAdES-B": pki.sign_pdf(original),
        "PAdES-B-T": pki.sign_pdf(original, timestamp=True),
    }
    get_pool().warm()
    print(f"application PDF: {options.pages} pages, {len(original)} bytes; {options.runs} runs per variant")
    worst = 0.0
    for name, signed in variants.items():
        received_at = datetime.now(UTC)
        verdict = validate_signed_pdf(signed, trust=trust, original=original, received_at=received_at)
        assert verdict.accepted, verdict

        def pooled(signed: bytes = signed, received_at: datetime = received_at) -> object:
            return validate_signed_pdf(signed, trust=trust, original=original, received_at=received_at)

        def in_process(signed: bytes = signed, received_at: datetime = received_at) -> object:
            return validate_signed_pdf(signed, trust=trust, original=original, received_at=received_at, time_limit=None)

        median, p95 = measure(pooled, options.runs)
        median_local, p95_local = measure(in_process, options.runs)
        worst = max(worst, median)
        print(
            f"{name:10} {len(signed):7} bytes  worker: median {median:6.1f} ms, p95 {p95:6.1f} ms"
            f"   in-process: median {median_local:6.1f} ms, p95 {p95_local:6.1f} ms"
        )
    if worst > options.bound_ms:
        print(f"FAIL: a median above {options.bound_ms:g} ms")
        return 1
    print(f"ok: every median within {options.bound_ms:g} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
