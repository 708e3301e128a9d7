"""The ``portal`` command: Flask's CLI (run, db, shell) plus the portal's own commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from portal import create_app, unit_of_work
from portal.accounts import service as accounts
from portal.accounts.errors import EmailTaken
from portal.accounts.models import Role
from portal.db import utcnow
from portal.night.cli import feed_group
from portal.signatures.databox_cli import databox_group


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
@unit_of_work.command
def create_staff(email: str, role: str, language: str, password: str) -> None:
    """Create a staff account; it must enrol a second factor at its first sign-in."""
    if len(password) < 10:
        raise click.UsageError("the password needs at least 10 characters")
    try:
        accounts.create_staff(
            email=email, role=Role(role), password=password, language=language, at=utcnow(), actor_label="cli"
        )
    except EmailTaken as error:
        click.echo(f"refused: an account with {error.email} exists", err=True)
        raise SystemExit(1) from error
    click.echo(f"created {role} {accounts.normalise_email(email)}")


@main.group("policy")
def policy_group() -> None:
    """The access policy: who may do what."""


@policy_group.command("matrix", with_appcontext=False)
def policy_matrix() -> None:
    """Print the permission matrix as Markdown (docs/permissions.md is this output)."""
    from portal.accounts.policy import render_markdown

    click.echo(render_markdown(), nl=False)


@main.group()
def seed() -> None:
    """Load reference and demonstration data."""


@seed.command("elections")
@with_appcontext
@unit_of_work.command
def seed_elections_command() -> None:
    """The elections of DOMAIN.md and the next presidential election (idempotent)."""
    from portal.elections.seed import seed_elections

    created = seed_elections(utcnow().date())
    click.echo(f"elections created: {', '.join(created) or 'none'}")


@seed.command("demo")
@with_appcontext
@unit_of_work.command
def seed_demo_command() -> None:
    """Elections plus demo accounts, on a database without users (development only)."""
    from portal.demo import seed_demo

    if current_app.config["PORTAL_ENV"] == "production":
        click.echo("refused: demo data is not for production", err=True)
        raise SystemExit(1)
    from portal.filming.demo import seed_demo_points

    accounts_created = seed_demo(utcnow())
    points_created = seed_demo_points(utcnow())
    if points_created:
        click.echo(f"demo collection points: {points_created}")
    from portal.demo import demo_account_lines

    # Printed on every start, not only the first: a restarted `make run` still shows how to sign in.
    lines = demo_account_lines()
    if lines:
        click.echo("demo accounts (development only):" if accounts_created else "demo accounts (already present):")
        for line in lines:
            click.echo(f"  {line}")
    else:
        click.echo("demo data already present (the database has other users, so no demo accounts)")


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


@main.group("filming")
def filming_group() -> None:
    """Filming permits: the collection points."""


@filming_group.command("import-points")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@unit_of_work.command
def import_points_command(source: Path) -> None:
    """Create or update collection points from a CSV file (code, name, address, region, district,
    capacity[, active]); all or nothing: exit 1 with every problem when any row is wrong."""
    from portal.filming.errors import PointsCsvInvalid
    from portal.filming.points_csv import import_points, parse_points_csv

    try:
        points = parse_points_csv(source.read_bytes())
    except PointsCsvInvalid as invalid:
        for problem in invalid.problems:
            where = f"line {problem.line}" + (f", column {problem.field}" if problem.field else "")
            details = " ".join(f"{key}={value}" for key, value in problem.detail.items())
            click.echo(f"{source}: {where}: {problem.code} {details}".rstrip(), err=True)
        click.echo("refused: nothing was imported", err=True)
        raise SystemExit(1) from invalid
    report = import_points(points, staff=None, at=utcnow(), actor_label="cli")
    click.echo(f"collection points: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")


@users.command("set-role")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role if r.is_staff]), required=True)
@with_appcontext
@unit_of_work.command
def set_role(email: str, role: str) -> None:
    """Give a staff member another staff role; every session of theirs ends."""
    user = accounts.find_user_by_email(email)
    if user is None or not user.is_staff:
        raise click.UsageError(f"{email}: no staff account with this e-mail")
    before = user.role.value
    accounts.change_role(user, Role(role), actor=None, at=utcnow(), actor_label="cli")
    click.echo(
        f"{user.email}: {before} -> {role}; signed out everywhere"
        if before != role
        else f"{user.email}: already {role}"
    )


@main.group()
def audit() -> None:
    """The append-only audit log."""


@audit.command("verify")
@click.option(
    "--head",
    "recorded_heads",
    multiple=True,
    metavar="ID:HASH",
    help="A head printed earlier by `portal audit head`: that event must still carry that hash (repeatable).",
)
@with_appcontext
def audit_verify(recorded_heads: tuple[str, ...]) -> None:
    """Recompute the keyed hash chain: exit 0 when intact, 1 (with the first bad event) when not."""
    from portal.audit.service import event_hash, verify_chain

    report = verify_chain()
    if not report.ok:
        click.echo(report.describe(), err=True)
        raise SystemExit(1)
    for recorded in recorded_heads:
        event_id, _, expected = recorded.partition(":")
        if not event_id.isdigit() or len(expected) != 64:
            raise click.BadParameter(
                f"{recorded!r}: expected ID:HASH as printed by `portal audit head`", param_hint="--head"
            )
        if event_hash(int(event_id)) != expected.lower():
            click.echo(f"audit chain broken: event {event_id} no longer carries the recorded hash {expected}", err=True)
            raise SystemExit(1)
    click.echo(report.describe())


@audit.command("head")
@with_appcontext
def audit_head() -> None:
    """Print the chain's head as ID:HASH (and when), to record outside the database."""
    from portal.audit.service import chain_head

    head = chain_head()
    when = head.occurred_at.isoformat() if head.occurred_at else "-"
    click.echo(f"{head.event_id}:{head.hash} {when}")


# --- outbox: the sender of outgoing mail --------------------------------------------------------------


@main.group("outbox")
def outbox_group() -> None:
    """Outgoing mail: the transactional outbox."""


@outbox_group.command("send")
@click.option("--once", is_flag=True, help="Deliver what is due now, print the counts and exit.")
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds between polls."
)
@with_appcontext
def outbox_send(once: bool, interval: float) -> None:
    """Deliver due mails (SMTP, or the console in development) with retries and backoff.

    Without --once it runs until SIGTERM or SIGINT, then finishes the current mail and exits.
    Exit 1 only when the database cannot be reached (with --once); failed mails are retried later.
    """
    import signal
    import threading

    from sqlalchemy.exc import DBAPIError

    from portal.notifications import outbox

    if once:
        try:
            report = outbox.deliver_due(utcnow())
        except DBAPIError as error:
            click.echo(f"outbox: cannot reach the database: {error.orig or error}", err=True)
            raise SystemExit(1) from error
        click.echo(report.describe())
        return

    stop = threading.Event()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in stop_signals}

    def request_stop(number: int, _frame: object) -> None:
        # Repeats change nothing (Ctrl+C under `make run` brings SIGINT and then the recipe's SIGTERM):
        # the current mail is finished either way, bounded by the SMTP timeout.
        if not stop.is_set():
            click.echo(f"outbox: {signal.Signals(number).name}, stopping after the current mail", err=True)
        stop.set()

    for number in stop_signals:
        signal.signal(number, request_stop)
    click.echo(f"outbox: sending every {interval:g} s ({current_app.config['PORTAL_MAIL_BACKEND']})", err=True)
    try:
        outbox.run_sender(
            interval=interval, stop=stop, on_report=lambda report: click.echo(f"outbox: {report.describe()}")
        )
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("outbox: stopped", err=True)


@outbox_group.command("status")
@with_appcontext
def outbox_status() -> None:
    """How many mails are pending, being sent, sent and dead."""
    from portal.notifications.outbox import status_counts

    for status, count in status_counts().items():
        click.echo(f"{status.value:<8} {count}")


@main.group()
def notices() -> None:
    """Scheduled notices to outlets."""


@notices.command("send")
@click.option("--at", "at_text", help="Act as if it were this instant (ISO 8601 with an offset); default now.")
@click.option(
    "--reminder-days",
    type=click.IntRange(1, 30),
    default=3,
    show_default=True,
    help="Remind outlets with drafts this many days before the deadline ends.",
)
@click.option(
    "--test-cut-hours",
    type=click.IntRange(1, 168),
    default=48,
    show_default=True,
    help="Tell outlets this many hours before their test addresses are cut.",
)
@with_appcontext
@unit_of_work.command
def send_notices(at_text: str | None, reminder_days: int, test_cut_hours: int) -> None:
    """Queue the deadline reminders and test-cut notices that are due; each goes out once."""
    from datetime import datetime, timedelta

    from portal.registration.notices import send_due_notices

    try:
        at = datetime.fromisoformat(at_text) if at_text else utcnow()
    except ValueError as error:
        raise click.BadParameter(f"not an ISO 8601 instant: {at_text}", param_hint="--at") from error
    if at.tzinfo is None:
        raise click.BadParameter("give the offset, for example 2027-12-28T09:00:00+01:00", param_hint="--at")
    report = send_due_notices(
        at, reminder_before=timedelta(days=reminder_days), test_cut_before=timedelta(hours=test_cut_hours)
    )
    click.echo(f"queued {report.reminders} deadline reminders, {report.test_cut_notices} test-cut notices")


@demo.command("feed-snapshot")
@click.option(
    "--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo-feed"), show_default=True
)
@click.option("--every", type=click.FloatRange(min=1), help="Write it again every N seconds until stopped.")
@with_appcontext
def demo_feed_snapshot(folder: Path, every: float | None) -> None:
    """The demo proxy's snapshot: the next election's allowlist plus 127.0.0.1 (development only)."""
    import time

    from portal.night.demo import demo_election, write_demo_snapshot

    while True:
        election = demo_election(utcnow())
        if election is None:
            click.echo("demo feed-snapshot: no election is open", err=True)
            raise SystemExit(1)
        with unit_of_work.transaction():
            path = write_demo_snapshot(election, folder, at=utcnow())
        if every is None:
            click.echo(f"{election.code} {path}")
            return
        time.sleep(every)


@demo.command("poll")
@click.option(
    "--url",
    default="http://127.0.0.1:8080/pls/prez2023/vysledky",
    show_default=True,
    help="The results document to poll through the feed proxy.",
)
@click.option(
    "--interval", type=click.FloatRange(min=0.5), default=5.0, show_default=True, help="Seconds between polls."
)
def demo_poll(url: str, interval: float) -> None:
    """Poll the demo feed proxy as the demo outlet does on election night (this computer, 127.0.0.1), so that
    the election-night board shows real traffic (development only). Runs until SIGTERM or SIGINT."""
    import signal
    import threading
    from urllib.parse import urlsplit

    from portal.night.demo import poll_forever

    if urlsplit(url).scheme not in ("http", "https"):
        raise click.BadParameter("an http:// or https:// URL", param_hint="--url")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"demo poll: {url} every {interval:g} s")
    poll_forever(url, interval=interval, stop=stop, log=lambda line: click.echo(line, err=True))


@demo.command("pki")
@click.option(
    "--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo-pki"), show_default=True
)
def demo_pki(folder: Path) -> None:
    """Create the demo qualified CA, signer and office seal (once); print the settings that use them."""
    from portal.filming.demo import ensure_office_certificate
    from portal.signatures.demo import ensure_demo_pki

    pki = ensure_demo_pki(folder)
    settings = {**pki.environment(), **ensure_office_certificate(folder)}
    for name, value in settings.items():
        click.echo(f"{name}={value}")


@demo.command("sign")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed PDF; default SOURCE with -signed before .pdf.",
)
@click.option(
    "--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo-pki"), show_default=True
)
def demo_sign(source: Path, output: Path | None, folder: Path) -> None:
    """Sign a downloaded application PDF with the demo qualified certificate (development only)."""
    from portal.signatures.demo import ensure_demo_pki, sign_with_demo_signer

    data = source.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise click.BadParameter(f"{source} is not a PDF", param_hint="SOURCE")
    target = output or source.with_name(f"{source.stem}-signed.pdf")
    target.write_bytes(sign_with_demo_signer(data, ensure_demo_pki(folder)))
    click.echo(f"signed: {target}")


# --- verify-signature: the signed-PDF validator, without a database or an app -------------------------


@main.command("verify-signature", with_appcontext=False)
@click.argument("signed", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--original", type=click.Path(exists=True, dir_okay=False), help="The PDF that was signed (unsigned).")
@click.option("--trust-roots", multiple=True, type=click.Path(exists=True, dir_okay=False), help="PEM bundle.")
@click.option("--trust-list", multiple=True, type=click.Path(exists=True, dir_okay=False), help="ETSI TS 119 612 XML.")
@click.option("--tl-signer", multiple=True, type=click.Path(exists=True, dir_okay=False), help="Trusted list signer.")
@click.option("--crl", multiple=True, type=click.Path(exists=True, dir_okay=False), help="CRL, DER or PEM.")
@click.option("--deadline", help="Exclusive end, ISO 8601 with an offset; a bare date means the end of that day.")
@click.option(
    "--received",
    "--received-at",
    "received_at",
    help="When the file arrived (ISO 8601 with an offset; default now): without a trusted timestamp the "
    "certificate and the deadline are judged at this instant.",
)
@click.option("--allow-fetching", is_flag=True, help="Fetch OCSP responses and CRLs over the network.")
@click.option("--soft-revocation", is_flag=True, help="Accept when no revocation information is available.")
@click.option("--allow-seals", is_flag=True, help="Accept qualified certificates for electronic seals.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as one JSON object on standard output.")
def verify_signature(
    signed: str,
    original: str | None,
    trust_roots: tuple[str, ...],
    trust_list: tuple[str, ...],
    tl_signer: tuple[str, ...],
    crl: tuple[str, ...],
    deadline: str | None,
    received_at: str | None,
    allow_fetching: bool,
    soft_revocation: bool,
    allow_seals: bool,
    time_limit: float,
    as_json: bool,
) -> None:
    """Validate a signed PDF: exit 0 when accepted, 1 when refused (reasons on stderr), 2 on usage errors."""
    import json
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from portal.signatures import preload, worker
    from portal.signatures.trust import TrustConfig, TrustConfigError
    from portal.signatures.validate import DEFAULT_MAX_BYTES, validate_signed_pdf

    del preload  # imported for its effect: pyHanko loaded and quiet before the worker is forked
    # One file, one process that has pyHanko loaded already: fork the worker from it.
    worker.use_pool(worker.ValidationPool(size=1, start_method="fork"))

    def instant(text: str, hint: str, *, day_end: bool = False) -> datetime:
        try:
            if day_end and len(text) == 10:
                day = datetime.fromisoformat(text).date()
                prague = ZoneInfo("Europe/Prague")
                return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=prague)
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise click.BadParameter(f"not an ISO 8601 instant: {text}", param_hint=hint) from error
        if moment.tzinfo is None:
            raise click.BadParameter("give the offset, for example 2022-09-09T23:59:59+02:00", param_hint=hint)
        return moment

    deadline_at = instant(deadline, "--deadline", day_end=True) if deadline else None
    arrived = instant(received_at, "--received") if received_at else utcnow()
    try:
        trust = TrustConfig.from_files(
            roots=trust_roots,
            trusted_lists=trust_list,
            crls=crl,
            tl_signers=tl_signer,
            allow_fetching=allow_fetching,
            revocation_mode="soft" if soft_revocation else "hard",
            allow_seals=allow_seals,
        )
    except TrustConfigError as error:
        raise click.UsageError(f"trust configuration: {error}") from error
    with Path(signed).open("rb") as handle:
        data = handle.read(DEFAULT_MAX_BYTES + 1)
    original_bytes = Path(original).read_bytes() if original else None
    verdict = validate_signed_pdf(
        data,
        trust=trust,
        original=original_bytes,
        deadline=deadline_at,
        received_at=arrived,
        time_limit=time_limit,
    )
    if as_json:
        click.echo(json.dumps(verdict.to_json(), ensure_ascii=False, indent=2))
    else:
        main_signature = verdict.main_signature
        signer = main_signature.signer if main_signature else None
        if signer is not None:
            qualified = f"qualified {signer.qc_type}" if signer.qualified else "not qualified"
            who = f"{signer.common_name or signer.subject} ({signer.organisation_identifier or 'no organisation id'})"
            click.echo(f"signer: {who}, {qualified}", err=not verdict.accepted)
        if verdict.accepted and main_signature is not None:
            when = main_signature.signing_time.isoformat() if main_signature.signing_time else "unknown"
            click.echo(f"accepted: signed {when}, coverage {main_signature.coverage}")
        elif not verdict.accepted:
            click.echo(f"refused: {', '.join(reason.value for reason in verdict.reasons)}", err=True)
        report = verdict.report()
        outcome = " / ".join(part for part in (report["indication"], report["sub_indication"]) if part)
        level = f", PAdES {report['pades_level']}" if report["pades_level"] else ""
        judged = f", judged at {report['judged_at']} ({report['judged_at_basis']})" if report["judged_at"] else ""
        click.echo(f"ETSI EN 319 102-1: {outcome}{level}{judged}", err=not verdict.accepted)
        for used in report["trusted_lists"]:
            click.echo(f"trusted list: {used['territory']} #{used['sequence_number']}", err=not verdict.accepted)
    raise SystemExit(0 if verdict.accepted else 1)


@main.command(
    "firewall",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def firewall_command(arguments: tuple[str, ...]) -> None:
    """render|check|apply|rollback|confirm|agent: the firewall tool (firewall/); it never reads the database."""
    from firewall.cli import main as firewall_main

    raise SystemExit(firewall_main(list(arguments)))


main.add_command(feed_group)
main.add_command(databox_group)
