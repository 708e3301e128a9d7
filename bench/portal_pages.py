"""Benchmark: the staff queue, an application's detail and the outlet's status page under load.

Loads 500 applications into a fresh PostgreSQL database, starts the portal under gunicorn in
production mode, signs in 20 users (10 reviewers with their second factor, 10 outlets) and drives
the three pages from 20 concurrent keep-alive connections. Each user reads a page for a moment
before the next click (``--think``, uniform around a mean of 1 s); ``--think 0`` sends back-to-back
requests instead, a stress test of throughput rather than of what a user waits for. Prints requests
per second and latency percentiles per page; exits 1 if a p95 exceeds the bound (50 ms by default).

    .venv/bin/python bench/portal_pages.py [--duration 30] [--users 20] [--workers 4] [--think 1.0]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pyotp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "benchmark password 2028"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def load(database_url: str, applications: int, users: int) -> dict[str, object]:
    """The data set, written through the portal's own services (so every rule holds)."""
    from allowlist.addresses import AddressPolicy
    from portal import create_app
    from portal.access import service as decisions
    from portal.accounts import service as accounts
    from portal.accounts.models import Role
    from portal.extensions import db
    from portal.registration import service
    from portal.registration.content import ApplicationContent
    from portal.registration.models import AddressSettings
    from tests.factories import make_test_election, valid_ico

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PORTAL_ENV": "development",
            "PORTAL_PASSWORD_PROFILE": "cheapest",
            "PORTAL_MAIL_BACKEND": "console",
        }
    )
    policy = AddressPolicy(allow_documentation=True)
    now = datetime.now(UTC)
    rng = random.Random(2028)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.add(AddressSettings(id=1, allow_documentation=True))
        election = make_test_election("prez2099")
        reviewers = []
        for index in range(users // 2):
            staff = accounts.create_staff(
                email=f"reviewer{index}@czso.example", role=Role.REVIEWER, password=PASSWORD, language="cs", at=now
            )
            staff.totp_secret = pyotp.random_base32()
            reviewers.append((staff.email, staff.totp_secret))
        outlets, application_ids = [], []
        per_organisation = 5
        for number in range(applications // per_organisation):
            user = accounts.register_outlet(
                organisation_name=f"Redakce {number}",
                ico=valid_ico(3000 + number),
                address=f"Ulice {number}",
                website="",
                email=f"outlet{number}@media.example",
                password=PASSWORD,
                language="cs",
            )
            accounts.confirm_email(user, at=now)
            for slot in range(per_organisation):
                application = service.start_application(user.organisation, election, user, at=now)
                host = number * per_organisation + slot
                address = f"2001:db8::{host:x}" if slot % 2 else f"198.51.100.{host % 250 + 1}"
                service.save_draft(
                    application.latest,
                    ApplicationContent(
                        contact_email=user.email,
                        contact_phone="+420274051111",
                        production=[address],
                        test=[],
                        accept_terms=True,
                    ),
                    policy,
                    at=now,
                )
                service.submit(application.latest, policy, user=user, at=now)
                roll = rng.random()
                if roll < 0.5:
                    decisions.approve(
                        application.latest, staff=user_staff(reviewers, db), at=now, acknowledge_conflicts=True
                    )
                elif roll < 0.6:
                    decisions.reject(application.latest, staff=user_staff(reviewers, db), at=now)
                application_ids.append((user.organisation_id, application.id))
            if len(outlets) < users - len(reviewers):
                outlets.append((user.email, user.organisation_id))
            db.session.commit()
        db.session.commit()
    return {"reviewers": reviewers, "outlets": outlets, "applications": application_ids}


def user_staff(reviewers: list[tuple[str, str]], db):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from portal.accounts.models import User

    return db.session.scalar(select(User).where(User.email == reviewers[0][0]))


class Browser:
    """One signed-in user on one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("portal_session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, text, elapsed

    def sign_in(self, email: str, totp_secret: str | None = None) -> None:
        _, page, _ = self.request("GET", "/login")
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        status, _, _ = self.request("POST", "/login", {"csrf_token": token, "email": email, "password": PASSWORD})
        assert status == 302, f"sign-in of {email} answered {status}"
        if totp_secret:
            _, page, _ = self.request("GET", "/login/second-factor")
            token = CSRF.search(page).group(1)  # type: ignore[union-attr]
            code = pyotp.TOTP(totp_secret).now()
            status, _, _ = self.request("POST", "/login/second-factor", {"csrf_token": token, "code": code})
            assert status == 302, f"second factor of {email} answered {status}"


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, status: int, seconds: float) -> None:
        with self.lock:
            if status != 200:
                self.errors += 1
            self.latencies.setdefault(page, []).append(seconds)


def drive(
    browser: Browser, pages: list[tuple[str, str]], samples: Samples, warm_until: float, stop_at: float, think: float
) -> None:
    rng = random.Random()
    while (now := time.perf_counter()) < stop_at:
        name, path = rng.choice(pages)
        status, _, seconds = browser.request("GET", path)
        if now >= warm_until:
            samples.add(name, status, seconds)
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", default="bench_portal")
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds a user reads a page (0: none)")
    parser.add_argument("--warm-up", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--p95-bound-ms", type=float, default=50.0)
    args = parser.parse_args()

    database_url = fresh_database(args.admin_url, args.database).replace("postgresql://", "postgresql+psycopg://")
    started = time.perf_counter()
    data = load(database_url, args.applications, args.users)
    print(f"loaded {len(data['applications'])} applications in {time.perf_counter() - started:.1f} s")

    port = free_port()
    key_file = ROOT / "var" / "bench-allowlist-key.pem"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    environment = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_ALLOWLIST_KEY": str(key_file),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_MAIL_BACKEND": "smtp",
        "PORTAL_REDIS_URL": os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "PORTAL_AUDIT_KEY": secrets.token_urlsafe(48),
        "PORTAL_DATABOX_IMPORT": "off",  # no .zfo is uploaded here
        # 20 users sign in from one address within seconds: lift the login limit for the run.
        "PORTAL_LOGIN_RATE_LIMIT": "10000 per minute",
    }
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=environment,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                if Browser(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit("gunicorn did not answer /healthz within 30 s")
            time.sleep(0.2)

        applications = data["applications"]
        users: list[tuple[Browser, list[tuple[str, str]]]] = []
        for email, secret in data["reviewers"]:
            browser = Browser(port)
            browser.sign_in(email, secret)
            # A reviewer goes back and forth between the queue and an application.
            details = [
                ("application detail", f"/staff/applications/{application_id}")
                for _, application_id in random.sample(applications, 20)
            ]
            pages = [("staff queue", "/staff/applications")] * len(details) + details
            users.append((browser, pages))
        for email, organisation_id in data["outlets"]:
            browser = Browser(port)
            browser.sign_in(email)
            own = [a for o, a in applications if o == organisation_id]
            users.append(
                (browser, [("outlet status", f"/organisations/{organisation_id}/applications/{a}") for a in own])
            )

        samples = Samples()
        warm_until = time.perf_counter() + args.warm_up
        stop_at = warm_until + args.duration
        threads = [
            threading.Thread(target=drive, args=(b, p, samples, warm_until, stop_at, args.think)) for b, p in users
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    thinking = f"think time {args.think:.1f} s mean" if args.think else "no think time (stress)"
    print(f"{len(users)} concurrent users, {args.workers} gunicorn workers, {args.duration:.0f} s, {thinking}")
    print(f"{'page':20} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    worst = 0.0
    for page, values in sorted(samples.latencies.items()):
        p95 = percentile(values, 0.95) * 1000
        worst = max(worst, p95)
        print(
            f"{page:20} {len(values):9d} {len(values) / args.duration:8.1f} "
            f"{statistics.median(values) * 1000:8.1f} {p95:8.1f} {percentile(values, 0.99) * 1000:8.1f}"
        )
    print(f"non-200 answers: {samples.errors}")
    ok = worst <= args.p95_bound_ms and samples.errors == 0
    print(f"{'PASS' if ok else 'FAIL'}: worst p95 {worst:.1f} ms (bound {args.p95_bound_ms:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
