"""The portal command: staff accounts, demo seed, the development TOTP helper."""

import pyotp
import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.cli import main
from portal.elections.models import Election
from portal.extensions import db


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_create_staff_reads_the_password_from_standard_input(run):
    result = run(
        "users",
        "create-staff",
        "Reviewer@CZSO.example",
        "--role",
        "reviewer",
        input="a long staff password\na long staff password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "reviewer@czso.example"))
    assert user.role is Role.REVIEWER and user.email_confirmed_at is not None and user.totp_secret is None


def test_create_staff_refuses_a_taken_address_with_exit_1(run, make_staff):
    make_staff(email="taken@czso.example")
    db.session.commit()
    result = run("users", "create-staff", "taken@czso.example", "--role", "admin", "--password", "long enough pw")
    assert result.exit_code == 1


def test_create_staff_refuses_a_short_password_as_usage_error(run):
    result = run("users", "create-staff", "x@czso.example", "--role", "admin", "--password", "short")
    assert result.exit_code == 2
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_staff_refuses_the_applicant_role(run):
    result = run("users", "create-staff", "x@czso.example", "--role", "applicant", "--password", "long enough pw")
    assert result.exit_code == 2


def test_seed_demo_is_idempotent_and_prints_the_accounts(run):
    first = run("seed", "demo")
    assert "admin@volby.example" in first.output and "redakce@zpravy.example" in first.output
    second = run("seed", "demo")
    assert "already present" in second.output
    # Every start prints how to sign in, not only the first (make run restarts on the same database).
    assert "admin@volby.example" in second.output and "password demo-heslo-2028" in second.output
    assert "redakce@zpravy.example" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 4
    assert db.session.scalar(select(func.count()).select_from(Election)) == 12


def test_demo_totp_prints_a_valid_code(run):
    run("seed", "demo")
    result = run("demo", "totp", "admin@volby.example")
    user = db.session.scalar(select(User).where(User.email == "admin@volby.example"))
    assert pyotp.TOTP(user.totp_secret).verify(result.output.strip(), valid_window=1)


def test_notices_send_takes_the_instant_and_refuses_a_naive_one(run):
    assert run("notices", "send", "--at", "2027-12-28T09:00:00").exit_code == 2
    assert run("notices", "send", "--at", "yesterday").exit_code == 2
    result = run("notices", "send", "--at", "2027-12-28T09:00:00+01:00")
    assert result.exit_code == 0 and "queued 0 deadline reminders" in result.output


def test_portal_firewall_passes_through_to_the_firewall_tool(tmp_path, app):
    """`portal firewall render` is the firewall tool: a snapshot in, an nftables script out."""
    import json
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    snapshot = {
        "schema": "csu-allowlist/1",
        "election": "prez2099",
        "version": 1,
        "generated_at": "2026-11-23T10:00:00Z",
        "live_windows": [
            {
                "round": 1,
                "from": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "until": (datetime.now(UTC) + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ],
        "closes_at": (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "entries": [{"address": "192.0.2.10", "kind": "production", "organisation": "ČTK", "organisation_id": 7}],
    }
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot))
    portal = str(Path(sys.executable).parent / "portal")  # the console script beside this interpreter
    result = subprocess.run(
        [portal, "firewall", "render", "--snapshot", str(path), "--no-verify", "--allow-documentation-ranges"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PORTAL_ENV": "testing"},
    )
    assert result.returncode == 0, result.stderr
    assert "192.0.2.10" in result.stdout and "table inet csu_results" in result.stdout
    bad = subprocess.run(
        [portal, "firewall", "render", "--snapshot", str(tmp_path / "missing.json"), "--no-verify"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PORTAL_ENV": "testing"},
    )
    assert bad.returncode in (1, 2) and bad.stderr


def test_the_demo_accepts_documentation_addresses(run):
    from portal.access.service import address_policy

    run("seed", "demo")
    assert address_policy().allow_documentation is True
