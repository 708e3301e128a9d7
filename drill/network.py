"""The drill's network: a server and a client namespace, joined to each other and the server to the host.

::

    root namespace                server namespace ``<prefix>-srv-<hex>``      client namespace ``<prefix>-cli-<hex>``
    <prefix>-h<hex>  <--veth-->   uplink0 (198.18.x.y+2/30)
    (198.18.x.y+1/30)             lan0 (.254 of each /24, 2001:db8:1::fe)  <--veth-->  lan0 (every client address)

The portal and the simulator listen in the root namespace on ``host_address``; the firewall agent and the
feed proxy run in the server namespace; the polling clients in the client namespace talk only to the
server's on-link addresses, so the client namespace needs no routes at all.

Needs root, ``ip`` and ``nft``. Namespaces outlive the process that made them, so :class:`Topology`
removes everything on exit (idempotently, also from a signal handler) and :func:`cleanup_stale` removes
what a crashed earlier run left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_interface, ip_network
from types import TracebackType
from typing import Any

from drill.plan import CLIENT_NETWORKS, SERVER_ADDRESSES

#: The root<->server link takes a free /30 from here: the benchmarking range (RFC 2544), never a private one
#: (10/8, 172.16/12, 192.168/16), whose traffic could look like traffic to other networks the host reaches.
UPLINK_SPACE = IPv4Network("198.18.0.0/15")
#: Ranges the drill's own links never use.
PRIVATE_RANGES = (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/16"))
SERVER_UPLINK_DEVICE = "uplink0"
LAN_DEVICE = "lan0"  #: the server<->client veth, called the same on both sides
#: A prefix must leave room in the 15-character interface name ``<prefix>-h<6 hex>``.
PREFIX = re.compile(r"[a-z][a-z0-9]{0,6}")
COMMAND_TIMEOUT = 60


def require_privileges() -> None:
    """Raise ``RuntimeError`` naming what is missing for the drill's network (root, ``ip``, ``nft``)."""
    problems = [f"`{tool}` is not installed (not on PATH)" for tool in ("ip", "nft") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        problems.append("the drill must run as root (it creates network namespaces and nft tables)")
    if problems:
        raise RuntimeError("cannot build the drill's network: " + "; ".join(problems))


def server_address_for(client_address: str) -> str:
    """The server's address in the client's network (the one the client talks to on-link)."""
    address = ip_address(client_address)
    for network, server in zip(CLIENT_NETWORKS, SERVER_ADDRESSES, strict=True):
        if address.version == network.version and address in network:
            return server
    raise ValueError(f"{client_address} is in none of the drill's client networks")


def _with_prefix_length(address: str) -> str:
    """``address/len`` with its client network's prefix length."""
    parsed = ip_address(address)
    for network in CLIENT_NETWORKS:
        if parsed.version == network.version and parsed in network:
            return f"{parsed}/{network.prefixlen}"
    raise ValueError(f"{address} is in none of the drill's client networks")


def _ip(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", *args],
        check=check,
        capture_output=True,
        text=True,
        input=input,
        timeout=COMMAND_TIMEOUT,
    )


def _batch(namespace: str | None, commands: Iterable[str]) -> None:
    """Run many ``ip`` commands in one process (``ip -batch -``): 250 addresses in milliseconds."""
    script = "".join(f"{command}\n" for command in commands)
    if not script:
        return
    args = ("-n", namespace, "-batch", "-") if namespace else ("-batch", "-")
    done = _ip(*args, input=script, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip -batch failed in {namespace or 'the root namespace'}: {done.stderr.strip()}")


def _free_uplink(rng: random.Random) -> IPv4Network:
    """A /30 of ``UPLINK_SPACE`` that no address or route in the root namespace overlaps."""
    used: list[IPv4Network | IPv6Network] = []
    for row in json.loads(_ip("-j", "-4", "address", "show").stdout or "[]"):
        for info in row.get("addr_info", []):
            used.append(ip_interface(f"{info['local']}/{info.get('prefixlen', 32)}").network)
    for row in json.loads(_ip("-j", "-4", "route", "show", "table", "all").stdout or "[]"):
        destination = row.get("dst", "")
        if destination and destination != "default":
            try:
                used.append(ip_network(destination, strict=False))
            except ValueError:
                continue
    return pick_uplink(used, rng)


def pick_uplink(used: Sequence[IPv4Network | IPv6Network], rng: random.Random) -> IPv4Network:
    """A /30 of ``UPLINK_SPACE`` overlapping none of ``used`` (the host's addresses and routes)."""
    blocks = UPLINK_SPACE.num_addresses // 4
    first = rng.randrange(blocks)  # a random start, then every block in turn
    relevant = [other for other in used if other.version == 4 and other.overlaps(UPLINK_SPACE)]
    for step in range(blocks):
        base = UPLINK_SPACE.network_address + 4 * ((first + step) % blocks)
        candidate = IPv4Network(f"{base}/30")
        if not any(candidate.overlaps(other) for other in relevant):
            return candidate
    raise RuntimeError(f"no free /30 left in {UPLINK_SPACE} for the drill's uplink")


def _pids(namespace: str) -> list[int]:
    done = _ip("netns", "pids", namespace, check=False)
    return [int(word) for word in done.stdout.split() if word.isdigit()]


def _kill_all(namespace: str, grace: float) -> None:
    """SIGTERM every process still inside ``namespace``, then SIGKILL what is left after ``grace`` seconds."""
    pids = _pids(namespace)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = _pids(namespace)
        if not pids:
            return


def _netns_names() -> list[str]:
    done = _ip("-j", "netns", "list", check=False)
    try:
        rows = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:  # some ip versions print nothing parseable without namespaces
        rows = []
    return [row["name"] for row in rows if isinstance(row, dict) and "name" in row]


def cleanup_stale(prefix: str = "drill", *, kill: bool = True) -> list[str]:
    """Remove every ``<prefix>-srv-*``/``<prefix>-cli-*`` namespace and ``<prefix>-h*`` veth; what was removed.

    Meant for the start of a drill after an earlier run crashed: it also removes a *running* drill's network
    with the same prefix. With ``kill``, processes still inside those namespaces (a crashed run's proxy or
    agent) are stopped first, or the namespace would live on for them.
    """
    removed: list[str] = []
    for name in _netns_names():
        if name.startswith((f"{prefix}-srv-", f"{prefix}-cli-")):
            if kill:
                _kill_all(name, grace=2.0)
            _ip("netns", "del", name, check=False)
            removed.append(f"netns {name}")
    rows = json.loads(_ip("-j", "link", "show", check=False).stdout or "[]")
    for row in rows:
        name = row.get("ifname", "")
        if name.startswith(f"{prefix}-h") and _ip("link", "del", name, check=False).returncode == 0:
            removed.append(f"link {name}")
    return removed


class Topology:
    """The drill's two namespaces and two veth pairs; a context manager that removes them on exit.

    ``__exit__`` (and :meth:`close`) may be called more than once, also from a signal handler while an
    earlier call is under way: every step tolerates what is already gone.
    """

    def __init__(self, client_addresses: Sequence[str], prefix: str = "drill") -> None:
        if not PREFIX.fullmatch(prefix):
            raise ValueError(f"prefix {prefix!r}: 1-7 lowercase letters and digits, starting with a letter")
        self.client_addresses = [str(ip_address(a)) for a in client_addresses]
        for address in self.client_addresses:
            if address in SERVER_ADDRESSES:
                raise ValueError(f"{address} is the server's own address")
            _with_prefix_length(address)  # in a client network, or ValueError
        if len(set(self.client_addresses)) != len(self.client_addresses):
            raise ValueError("client addresses repeat")
        self.prefix = prefix
        self.suffix = secrets.token_hex(3)
        self.server_ns = f"{prefix}-srv-{self.suffix}"
        self.client_ns = f"{prefix}-cli-{self.suffix}"
        self.host_device = f"{prefix}-h{self.suffix}"  #: the root namespace's end of the uplink veth
        self.server_uplink_device = SERVER_UPLINK_DEVICE
        self.lan_device = LAN_DEVICE
        self.uplink: IPv4Network | None = None
        self.host_address = ""  #: the root namespace's address on the uplink (portal, simulator)
        self.server_uplink = ""  #: the server namespace's address on the uplink
        self._created: list[str] = []
        self._closed = False

    # --- set-up -----------------------------------------------------------------------------------

    def __enter__(self) -> Topology:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _build(self) -> None:
        require_privileges()
        self.uplink = _free_uplink(random.Random(secrets.randbits(64)))
        host, server = list(self.uplink.hosts())
        self.host_address, self.server_uplink = str(host), str(server)
        for name in (self.server_ns, self.client_ns):
            self._created.append(name)  # before `add`: a half-made namespace is still deleted
            _ip("netns", "add", name)
            _ip("-n", name, "link", "set", "lo", "up")
        # root <-> server
        _ip(
            "link",
            "add",
            self.host_device,
            "type",
            "veth",
            "peer",
            "name",
            SERVER_UPLINK_DEVICE,
            "netns",
            self.server_ns,
        )
        _batch(None, [f"address add {host}/30 dev {self.host_device}", f"link set {self.host_device} up"])
        # server <-> client: created in the server namespace, its peer moved straight into the client one
        _ip(
            "-n",
            self.server_ns,
            "link",
            "add",
            LAN_DEVICE,
            "type",
            "veth",
            "peer",
            "name",
            LAN_DEVICE,
            "netns",
            self.client_ns,
        )
        server_commands = [f"address add {server}/30 dev {SERVER_UPLINK_DEVICE}", f"link set {SERVER_UPLINK_DEVICE} up"]
        for network, address in zip(CLIENT_NETWORKS, SERVER_ADDRESSES, strict=True):
            nodad = " nodad" if network.version == 6 else ""
            server_commands.append(f"address add {address}/{network.prefixlen} dev {LAN_DEVICE}{nodad}")
        server_commands.append(f"link set {LAN_DEVICE} up")
        _batch(self.server_ns, server_commands)
        client_commands = [f"link set {LAN_DEVICE} up"]
        for address in self.client_addresses:
            nodad = " nodad" if ":" in address else ""
            client_commands.append(f"address add {_with_prefix_length(address)} dev {LAN_DEVICE}{nodad}")
        _batch(self.client_ns, client_commands)

    # --- running things inside --------------------------------------------------------------------

    @staticmethod
    def command(ns: str, argv: Sequence[str]) -> list[str]:
        """``argv`` as run inside namespace ``ns``."""
        return ["ip", "netns", "exec", ns, *argv]

    def popen(self, ns: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside namespace ``ns``; the Popen's pid is the command's own (``ip`` execs it)."""
        return subprocess.Popen(self.command(ns, argv), **kwargs)

    def run(self, ns: str, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        """Run ``argv`` inside namespace ``ns`` to completion (``subprocess.run`` keywords)."""
        return subprocess.run(self.command(ns, argv), **kwargs)

    # --- tear-down --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, *, grace: float = 3.0) -> None:
        """Stop what still runs inside the namespaces, delete the veths and the namespaces. Idempotent."""
        if self._closed:
            return
        if not self._created:  # refused before anything was made (no root, no `ip`)
            self._closed = True
            return
        for name in reversed(self._created):
            _kill_all(name, grace)
        _ip("link", "del", self.host_device, check=False)  # also removes the server's end
        for name in reversed(self._created):
            _ip("netns", "del", name, check=False)
        self._closed = True
