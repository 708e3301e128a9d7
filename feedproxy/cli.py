"""``feedproxy serve|simulate|bench``: the result-feed proxy, the election-night simulator, the benchmark.

Exit codes: 0 success, 1 a refused input or a failed check (the reason on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from allowlist.snapshot import ELECTION_CODE, load_public_key
from feedproxy.config import ServeConfig
from feedproxy.upstream import Upstream

USAGE = "usage: feedproxy {serve,simulate,bench} ..."


class Refused(Exception):
    """A rejected input (an unreadable file, a wrong key type)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(
            f"{USAGE}\n\n  serve     the caching proxy\n  simulate  the election-night upstream simulator"
            "\n  bench     the proxy against nginx with wrk",
            file=sys.stderr if not args else sys.stdout,
        )
        return 2 if not args else 0
    command, rest = args[0], args[1:]
    if command == "simulate":
        from feedproxy.simulator.cli import main as simulate

        return simulate(rest)
    if command == "bench":
        from feedproxy.bench import main as bench

        return bench(rest)
    if command == "serve":
        return _serve(rest)
    print(f"{USAGE}\nfeedproxy: unknown command {command!r}", file=sys.stderr)
    return 2


def _serve(argv: list[str]) -> int:
    parser = _serve_parser()
    try:
        args = parser.parse_args(argv)
        if args.public_key is None and not args.no_verify:
            parser.error("give --public-key FILE, or --no-verify for tests and demos")
        config = _config(args, parser)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    except Refused as error:
        print(f"feedproxy serve: {error}", file=sys.stderr)
        return 1
    if config.allow_loopback_clients:
        print("feedproxy serve: --allow-loopback-clients is for tests and benchmarks only", file=sys.stderr)
    from feedproxy.coordinator import StartupError, serve

    try:
        return serve(config)
    except StartupError as error:
        print(f"feedproxy serve: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedproxy serve", description="The caching proxy for the results XML.")
    parser.add_argument("--upstream", required=True, help="the results server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--snapshot", required=True, help="the allowlist snapshot: a file, or the portal's URL")
    parser.add_argument("--token-file", help="Bearer token for a snapshot URL")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--public-key", help="the portal's Ed25519 public key (PEM)")
    keys.add_argument("--no-verify", action="store_true", help="do not check the snapshot's signature (demos)")
    parser.add_argument("--allow-documentation-ranges", action="store_true", help="accept documentation addresses")
    parser.add_argument(
        "--allow-loopback-clients",
        action="store_true",
        help="TEST ONLY: accept loopback addresses (127.0.0.0/8, ::1) in the snapshot",
    )
    parser.add_argument("--listen", default="127.0.0.1:8080", type=_listen, help="HOST:PORT (port 0: any free)")
    parser.add_argument("--refresh", type=_positive, default=10.0, help="seconds between revalidations (10)")
    parser.add_argument("--timeout", type=_positive, default=5.0, help="seconds for one upstream answer (5)")
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: CPU cores)")
    parser.add_argument("--election", type=_election, help="the election served (default: the first snapshot's)")
    parser.add_argument("--trusted-proxy", action="append", default=[], type=_address, metavar="ADDR")
    parser.add_argument(
        "--metrics-allow",
        action="append",
        default=[],
        type=_address,
        metavar="ADDR",
        help="TCP peer that may read /metrics, /stats.json, /healthz (repeatable; default 127.0.0.1 and ::1)",
    )
    parser.add_argument("--metrics-token-file", help="Bearer token /metrics and /stats.json require")
    parser.add_argument("--rate", type=_positive, default=10.0, help="requests per second per address (10)")
    parser.add_argument("--burst", type=_positive, default=50.0, help="token bucket size (50)")
    parser.add_argument("--max-document-bytes", type=int, default=16 * 1024 * 1024)
    parser.add_argument("--max-documents", type=int, default=5000, help="distinct documents cached at most")
    parser.add_argument("--snapshot-poll", type=_positive, default=5.0, help="seconds between snapshot checks (5)")
    parser.add_argument(
        "--header-timeout",
        type=_positive,
        default=5.0,
        help="seconds a connection has to send its request head; also the idle keep-alive bound (5)",
    )
    parser.add_argument(
        "--connection-limit",
        type=int,
        default=0,
        metavar="N",
        help="cap each source address at N connections to the listening port with an nftables ct count rule "
        "(needs CAP_NET_ADMIN; for a proxy without the firewall agent in front; 0: no cap, the default)",
    )
    return parser


def _config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ServeConfig:
    try:
        Upstream.parse(args.upstream)
    except ValueError as error:
        parser.error(str(error))
    token = None
    if args.token_file:
        token = _read(args.token_file).decode("utf-8").strip()
    metrics_token = None
    if args.metrics_token_file:
        metrics_token = _read(args.metrics_token_file).decode("utf-8").strip()
        if not metrics_token:
            raise Refused(f"{args.metrics_token_file} holds no token")
    host, port = args.listen
    extra = {"workers": args.workers} if args.workers else {}
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if not 0 <= args.connection_limit <= 1_000_000:
        parser.error("--connection-limit must be from 0 to 1000000")
    return ServeConfig(
        upstream=args.upstream,
        snapshot=args.snapshot,
        public_key=_public_key(args.public_key),
        token=token,
        allow_documentation=args.allow_documentation_ranges,
        allow_loopback_clients=args.allow_loopback_clients,
        host=host,
        port=port,
        refresh=args.refresh,
        timeout=args.timeout,
        trusted_proxies=tuple(args.trusted_proxy),
        metrics_allow=tuple(args.metrics_allow) or ("127.0.0.1", "::1"),
        metrics_token=metrics_token,
        election=args.election,
        rate=args.rate,
        burst=args.burst,
        max_document_bytes=args.max_document_bytes,
        max_documents=args.max_documents,
        snapshot_poll=args.snapshot_poll,
        header_timeout=args.header_timeout,
        connection_limit=args.connection_limit,
        **extra,
    )


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT with an IP address") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: the port is 0..65535")
    return host, number


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None


def _election(text: str) -> str:
    if not ELECTION_CODE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an election code")
    return text


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise Refused(f"cannot read {path}: {error.strerror}") from error


def _public_key(path: str | None) -> Ed25519PublicKey | None:
    if path is None:
        return None
    try:
        return load_public_key(_read(path))
    except ValueError as error:
        raise Refused(f"{path} is {error}") from error
