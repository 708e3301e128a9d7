"""``firewall render|check|apply|rollback|confirm|agent``: the allowlist snapshot on a host's nftables.

Exit codes: 0 success, 1 a refused input or a failed check (the reason on stderr), 2 usage.
``portal firewall ...`` calls ``main`` with the same arguments.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allowlist.addresses import AddressPolicy
from allowlist.snapshot import Snapshot, SnapshotError, format_time, load_public_key, load_snapshot
from firewall import agent as agents
from firewall import apply as applying
from firewall.errors import FirewallError, NftError
from firewall.render import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_FAMILY,
    DEFAULT_PORTS,
    DEFAULT_TABLE,
    FAMILIES,
    FORMATS,
    build,
    render,
)


class Refused(Exception):
    """A rejected input outside the library's own errors (an unreadable file, a wrong key type)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # usage errors (2) and --help (0)
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        needs_key = args.command in ("render", "check", "apply") and args.snapshot is not None
        if needs_key and args.public_key is None and not args.no_verify:
            parser.error(f"{args.command}: give --public-key FILE, or --no-verify for tests and demos")
        return args.handler(args)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    except SnapshotError as error:
        return _refused(args.command, "snapshot refused", error.code, error.detail)
    except NftError as error:
        _refused(args.command, "nft", error.code, error.detail)
        if error.stderr.strip():
            print(error.stderr.rstrip(), file=sys.stderr)
        return 1
    except FirewallError as error:
        return _refused(args.command, "refused", error.code, error.detail)
    except Refused as error:
        print(f"firewall {args.command}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the state directory or an output file
        print(f"firewall {args.command}: {error}", file=sys.stderr)
        return 1


def _refused(command: str, what: str, code: str, detail: str) -> int:
    print(f"firewall {command}: {what} ({code}): {detail}", file=sys.stderr)
    return 1


# --- arguments ------------------------------------------------------------------------------------------


def _ports(text: str) -> tuple[int, ...]:
    try:
        ports = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of port numbers") from None
    if not all(1 <= port <= 65535 for port in ports) or len(set(ports)) != len(ports):
        raise argparse.ArgumentTypeError(f"{text!r}: ports are distinct numbers from 1 to 65535")
    return ports


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 instant") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add Z or +01:00)")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share is between 0 and 1 (0.5 = 50 %)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError("between 1 and 86400 seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firewall", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def snapshot_options(command: argparse.ArgumentParser, *, required: bool, at: bool) -> None:
        command.add_argument(
            "--snapshot", required=required, metavar="FILE", help="the allowlist snapshot (JSON; - reads stdin)"
        )
        if at:
            command.add_argument("--at", type=_instant, help="the instant whose phase to render (default: now)")
        command.add_argument("--ports", type=_ports, default=DEFAULT_PORTS, help="protected TCP ports (80,443)")
        _connection_limit_option(command)
        command.add_argument("--table", default=DEFAULT_TABLE, help=f"the nft table ({DEFAULT_TABLE})")
        command.add_argument("--family", default=DEFAULT_FAMILY, choices=sorted(FAMILIES), help="table family (inet)")
        command.add_argument("--format", default="nft", choices=FORMATS, help="nft script or libnftables JSON")
        key = command.add_mutually_exclusive_group()
        key.add_argument("--public-key", metavar="FILE", help="the portal's Ed25519 public key (PEM)")
        key.add_argument("--no-verify", action="store_true", help="skip the signature check (tests and demos only)")
        command.add_argument(
            "--allow-documentation-ranges",
            action="store_true",
            help="accept 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 (tests and demos only)",
        )

    def state_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--state-dir",
            type=Path,
            default=applying.DEFAULT_STATE_DIR,
            help=f"applied versions and pending confirmations ({applying.DEFAULT_STATE_DIR})",
        )

    render_command = commands.add_parser("render", help="print the nftables ruleset of a snapshot")
    snapshot_options(render_command, required=True, at=True)
    render_command.add_argument("--output", metavar="FILE", help="write the script here instead of stdout")
    render_command.set_defaults(handler=_render)

    check_command = commands.add_parser("check", help="render and run nft -c on the result (or on --script)")
    snapshot_options(check_command, required=False, at=True)
    check_command.add_argument("--script", metavar="FILE", help="check this rendered script instead")
    check_command.set_defaults(handler=_check)

    apply_command = commands.add_parser("apply", help="render for now, check, apply in one nft -f, verify")
    snapshot_options(apply_command, required=True, at=False)
    state_option(apply_command)
    apply_command.add_argument("--force", action="store_true", help="override the drop and election brakes")
    apply_command.add_argument(
        "--max-drop-share",
        type=_share,
        default=applying.DEFAULT_MAX_DROP_SHARE,
        help="refuse a snapshot with this share fewer entries than the one in force (0.5)",
    )
    apply_command.add_argument("--keep", type=int, default=applying.DEFAULT_KEEP, help="applied versions kept (5)")
    apply_command.add_argument(
        "--confirm-within", type=_seconds, metavar="N", help="roll back after N seconds unless `confirm` follows"
    )
    apply_command.set_defaults(handler=_apply)

    rollback_command = commands.add_parser("rollback", help="put the previously applied version back")
    state_option(rollback_command)
    rollback_command.add_argument("--pending", help=argparse.SUPPRESS)  # the confirm timer's token
    rollback_command.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    rollback_command.set_defaults(handler=_rollback)

    confirm_command = commands.add_parser("confirm", help="keep the apply that awaits confirmation")
    state_option(confirm_command)
    confirm_command.set_defaults(handler=_confirm)

    _agent_parser(commands, state_option)
    return parser


def _agent_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    state_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    command = commands.add_parser(
        "agent",
        help="pull the signed snapshot from the portal and keep it applied (a daemon, or --once)",
        description="Poll the portal for the election's signed allowlist snapshot, apply it when it changes and "
        "at every phase boundary (also while the portal is away), and report each step back to the portal.",
        epilog=f"The API token comes from --token-file FILE, --token T or the environment variable "
        f"{agents.TOKEN_ENV}. Prefer --token-file (what the systemd unit uses) or the variable: a token on the "
        "command line shows in ps. Exit codes: 0 stopped by SIGTERM/SIGINT (--once: the host is in order), "
        "1 bad configuration (--once: the fetch failed or the snapshot was refused), 2 usage.",
    )
    command.add_argument("--portal", required=True, metavar="URL", help="the portal's base URL (http or https)")
    command.add_argument("--election", required=True, metavar="CODE", help="the election code (prez2028)")
    command.add_argument("--public-key", required=True, metavar="FILE", help="the portal's Ed25519 public key (PEM)")
    token = command.add_mutually_exclusive_group()
    token.add_argument("--token-file", metavar="FILE", help="a file holding the portal API token (preferred)")
    token.add_argument("--token", help="the portal API token; visible to every user in ps: use --token-file")
    state_option(command)
    command.add_argument(
        "--interval",
        type=_seconds,
        default=agents.DEFAULT_INTERVAL,
        metavar="SECONDS",
        help="seconds between polls (10)",
    )
    command.add_argument(
        "--max-backoff",
        type=_seconds,
        default=agents.DEFAULT_MAX_BACKOFF,
        metavar="SECONDS",
        help="longest wait between failed polls, in seconds (300)",
    )
    command.add_argument("--ports", type=_ports, default=DEFAULT_PORTS, help="protected TCP ports (80,443)")
    _connection_limit_option(command)
    command.add_argument("--table", default=DEFAULT_TABLE, help=f"the nft table ({DEFAULT_TABLE})")
    command.add_argument("--family", default=DEFAULT_FAMILY, choices=sorted(FAMILIES), help="table family (inet)")
    command.add_argument(
        "--max-drop-share",
        type=_share,
        default=applying.DEFAULT_MAX_DROP_SHARE,
        help="refuse a snapshot with this share fewer entries than the one in force (0.5)",
    )
    command.add_argument(
        "--allow-documentation-ranges",
        action="store_true",
        help="accept 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 (tests and demos only)",
    )
    command.add_argument("--host-name", metavar="NAME", help="this host's name in the reports (the hostname)")
    command.add_argument("--once", action="store_true", help="poll once, apply if needed, exit (for cron and tests)")
    command.set_defaults(handler=_agent)


# --- commands -------------------------------------------------------------------------------------------


def _policy(args: argparse.Namespace) -> AddressPolicy:
    return AddressPolicy(allow_documentation=args.allow_documentation_ranges)


def _read(path: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise Refused(f"cannot read {path}: {error.strerror}") from error


def _public_key(path: str | None) -> Ed25519PublicKey | None:
    if path is None:
        return None
    try:
        return load_public_key(_read(path))
    except ValueError as error:
        raise Refused(f"{path} is {error}") from error


def _snapshot(args: argparse.Namespace) -> Snapshot:
    return load_snapshot(_read(args.snapshot), public_key=_public_key(args.public_key), policy=_policy(args))


def _rendered(args: argparse.Namespace) -> str:
    at = args.at or datetime.now(UTC)
    return render(
        _snapshot(args),
        at,
        ports=args.ports,
        table=args.table,
        family=args.family,
        format=args.format,
        policy=_policy(args),
        connection_limit=args.connection_limit,
    )


def _render(args: argparse.Namespace) -> int:
    script = _rendered(args)
    if args.output:
        Path(args.output).write_text(script, encoding="utf-8")
    else:
        sys.stdout.write(script)
    return 0


def _check(args: argparse.Namespace) -> int:
    if (args.script is None) == (args.snapshot is None):
        raise SystemExit(_usage("check: give exactly one of --snapshot FILE and --script FILE"))
    script = _read(args.script).decode("utf-8", "replace") if args.script else _rendered(args)
    applying.check(script)
    print("firewall check: nft accepts the ruleset")
    return 0


def _apply(args: argparse.Namespace) -> int:
    if args.keep < 2:
        raise SystemExit(_usage("apply: --keep is at least 2"))
    ruleset = build(
        _snapshot(args),
        datetime.now(UTC),
        ports=args.ports,
        table=args.table,
        family=args.family,
        policy=_policy(args),
        connection_limit=args.connection_limit,
    )
    applied = applying.apply(
        ruleset,
        state_dir=args.state_dir,
        format=args.format,
        force=args.force,
        max_drop_share=args.max_drop_share,
        keep=args.keep,
        confirm_within=args.confirm_within,
    )
    record = applied.record
    counts = ", ".join(f"{name} {count}" for name, count in record.counts.items())
    before = f"; before: version {applied.previous.version}" if applied.previous else ""
    print(f"applied {record.election} version {record.version} (phase {record.phase}): {counts}{before}")
    if applied.confirm_deadline is not None:
        print(f"rolls back at {format_time(applied.confirm_deadline)} unless `firewall confirm` follows")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    if args.delay > 0:
        time.sleep(args.delay)
    result = applying.rollback(args.state_dir, pending_token=args.pending)
    stamp = format_time(datetime.now(UTC))
    if result is None:
        print(f"{stamp} rollback: nothing to do (confirmed, or rolled back already)")
    elif result.restored is None:
        print(f"{stamp} rollback: version {result.undone.version} undone; it was the first apply: table removed")
    else:
        restored = result.restored
        print(
            f"{stamp} rollback: version {result.undone.version} undone, {restored.election} version "
            f"{restored.version} is in force again"
        )
    return 0


def _confirm(args: argparse.Namespace) -> int:
    pending = applying.confirm(args.state_dir)
    print(f"confirmed version {pending.get('version')}: no rollback")
    return 0


def _token(args: argparse.Namespace) -> str:
    if args.token_file is not None:
        return _read(args.token_file).decode("utf-8", "replace").strip()
    token = args.token if args.token is not None else os.environ.get(agents.TOKEN_ENV)
    if token is None:
        raise SystemExit(_usage(f"agent: give --token-file FILE (or {agents.TOKEN_ENV}, or --token)"))
    return token.strip()


def _agent(args: argparse.Namespace) -> int:
    if args.max_backoff < args.interval:
        raise SystemExit(_usage("agent: --max-backoff is at least --interval"))
    token = _token(args)
    public_key = _public_key(args.public_key)
    assert public_key is not None  # --public-key is required
    config = agents.AgentConfig(
        portal=args.portal,
        election=args.election,
        public_key=public_key,
        token=token,
        host=args.host_name or socket.gethostname(),
        state_dir=args.state_dir,
        interval=args.interval,
        max_backoff=args.max_backoff,
        ports=args.ports,
        table=args.table,
        family=args.family,
        max_drop_share=args.max_drop_share,
        policy=_policy(args),
        connection_limit=args.connection_limit,
    )
    with agents.agent_lock(config.state_dir):
        agent = agents.Agent(config, nft=applying.NFT)  # looked up now: tests point it into a namespace
        return agent.once() if args.once else agent.run()


def _connection_limit_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--connection-limit",
        type=_connection_limit,
        default=DEFAULT_CONNECTION_LIMIT,
        metavar="N",
        help=f"open connections per source address to the protected ports ({DEFAULT_CONNECTION_LIMIT}; 0: no cap)",
    )


def _connection_limit(text: str) -> int:
    """A cap of open connections per source address: 0 (none) or a positive count."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the connection limit is 0 (no cap) or more")
    return value


def _usage(message: str) -> int:
    print(f"firewall {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
