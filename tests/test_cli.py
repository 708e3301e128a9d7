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
