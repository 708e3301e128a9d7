"""A per-source connection cap for a proxy that runs without the firewall agent in front of it.

granian accepts connections before the application sees anything, so the cap lives in the kernel: one
small nftables table of the proxy's own (``inet feedproxy_<port>``) drops a new connection to the
proxy's port from a source that already holds ``limit`` connections (``ct count`` per address, the
same rule ``firewall/render.py`` puts in front of the protected ports). Installed in one transaction
when the proxy starts, deleted when it stops; needs CAP_NET_ADMIN. Loopback is exempt, as there.
"""

from __future__ import annotations

import shutil
import subprocess


class ConnectionLimitError(Exception):
    """nft is missing or refused the table."""


def table_name(port: int) -> str:
    return f"feedproxy_{port}"


def script(port: int, limit: int) -> str:
    if not 1 <= port <= 65535 or not 1 <= limit <= 1_000_000:
        raise ValueError(f"port {port} or limit {limit} out of range")
    table = f"inet {table_name(port)}"
    return "\n".join(
        [
            f"table {table} {{}}",
            f"delete table {table}",
            f"table {table} {{",
            "\tset conn4 {\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic\n\t}",
            "\tset conn6 {\n\t\ttype ipv6_addr\n\t\tsize 65535\n\t\tflags dynamic\n\t}",
            "\tchain input {",
            "\t\ttype filter hook input priority filter; policy accept;",
            '\t\tiifname "lo" accept',
            f"\t\ttcp dport {port} ct state new add @conn4 {{ ip saddr ct count over {limit} }} counter drop",
            f"\t\ttcp dport {port} ct state new add @conn6 {{ ip6 saddr ct count over {limit} }} counter drop",
            "\t}",
            "}",
            "",
        ]
    )


def _nft(*arguments: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    nft = shutil.which("nft") or "/usr/sbin/nft"
    try:
        return subprocess.run(  # noqa: S603 - nft with our own arguments
            [nft, *arguments], input=input, capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as error:
        raise ConnectionLimitError(f"cannot run nft: {error.strerror}") from error


def install(port: int, limit: int) -> None:
    result = _nft("-f", "-", input=script(port, limit))
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()[-1:] or ["no message"]
        raise ConnectionLimitError(f"nft refused the connection limit table: {message[0]}")


def remove(port: int) -> None:
    _nft("delete", "table", "inet", table_name(port))
