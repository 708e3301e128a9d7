"""The ``portal`` command: Flask's CLI (run, db, shell) plus the portal's own commands."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from portal import create_app
from portal.accounts import service as accounts
from portal.accounts.errors import EmailTaken
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
def main() -> None:
    """The media access portal of the Czech Statistical Office."""


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role if r.is_staff]), required=True)
@click.option("--language", type=click.Choice(["cs", "en"]), default="cs", show_default=True)
@click.password_option(help="Asked for when not given; read from standard input when it is not a terminal.")
@with_appcontext
def create_staff(email: str, role: str, language: str, password: str) -> None:
    """Create a staff account; it must enrol a second factor at its first sign-in."""
    if len(password) < 10:
        raise click.UsageError("the password needs at least 10 characters")
    try:
        accounts.create_staff(email=email, role=Role(role), password=password, language=language, at=utcnow())
    except EmailTaken as error:
        click.echo(f"refused: an account with {error.email} exists", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    click.echo(f"created {role} {accounts.normalise_email(email)}")


@main.group()
def seed() -> None:
    """Load reference and demonstration data."""


@seed.command("elections")
@with_appcontext
def seed_elections_command() -> None:
    """The elections of DOMAIN.md and the next presidential election (idempotent)."""
    from portal.elections.seed import seed_elections

    created = seed_elections(utcnow().date())
    db.session.commit()
    click.echo(f"elections created: {', '.join(created) or 'none'}")


@seed.command("demo")
@with_appcontext
def seed_demo_command() -> None:
    """Elections plus demo accounts, on a database without users (development only)."""
    from portal.demo import seed_demo

    if current_app.config["PORTAL_ENV"] == "production":
        click.echo("refused: demo data is not for production", err=True)
        raise SystemExit(1)
    accounts_created = seed_demo(utcnow())
    db.session.commit()
    if accounts_created:
        click.echo("demo accounts (development only):")
        for line in accounts_created:
            click.echo(f"  {line}")
    else:
        click.echo("demo data already present")


@main.group()
def demo() -> None:
    """Development helpers."""


@demo.command("totp")
@click.argument("email")
@with_appcontext
def demo_totp(email: str) -> None:
    """Print the current second-factor code of a demo staff account (development only)."""
    import pyotp

    if current_app.config["PORTAL_ENV"] == "production":
        click.echo("refused: not in production", err=True)
        raise SystemExit(1)
    user = accounts.find_user_by_email(email)
    if user is None or user.totp_secret is None:
        click.echo(f"refused: {email} has no second factor", err=True)
        raise SystemExit(1)
    click.echo(pyotp.TOTP(user.totp_secret).now())
