"""Render an allowlist snapshot as an nftables ruleset: a pure function of (snapshot, instant, options).

The script replaces ONE table in one transaction, so ``nft -f`` either installs all of it or nothing::

    table inet csu_results {}        # makes the delete below safe on a first apply
    delete table inet csu_results    # drops the old sets and chain ...
    table inet csu_results { ... }   # ... and the new ones take their place in the same commit

There is no instant in which the table is missing or half-filled, and no other table is touched.

The chain hooks ``input`` at priority ``filter`` with policy ``accept``. For the protected TCP ports
only, it accepts sources in ``prod4``/``prod6``/``test4``/``test6`` and drops every other source; all
other traffic (SSH, ICMP, UDP, other ports, forwarded traffic) passes this table untouched, and an
``accept`` here never overrides a drop in another table (each base chain decides for itself).

Established and related traffic -- why there is no ``ct state established accept`` rule:

* The server's replies leave through the ``output`` hook, which this table does not hook.
* Connections the host opens itself to a remote port 80/443 (package mirrors, OCSP) come back with
  the remote port as *source* and a local ephemeral port as destination, so ``tcp dport {80, 443}``
  never matches them; ICMP errors related to any connection are not TCP and pass too.
* Packets of an established connection from an allowed source are accepted packet by packet, because
  every packet's source is in a set.
* A blanket ``ct state established,related accept`` would let a test address keep an open (keep-alive)
  connection through the whole live window after its element timed out, and let a removed outlet keep
  its connection after an apply. Checking the source on every packet instead means a cut source's open
  connection stalls at its next packet: the cut is real, not only for new connections.
* Loopback (``iifname "lo"``) is exempt: only the host itself can send on it (local health checks, a
  reverse proxy on the same host).

Connections per source: a new connection to a protected port from a source that already holds
``connection_limit`` connections (``ct count``, per address, in the dynamic sets ``conn4``/``conn6``)
is dropped, whether or not the source is allowlisted, so one address cannot hold thousands of slow
connections open against the servers behind (default 256; 0 leaves the rule out). Only the first
packet of a connection (``ct state new``) is counted: established traffic is judged by its source as above.

Phases (``snapshot.phase_at(at)``): ``registration``/``testing`` -- production and test elements; every
test element carries ``timeout`` = the time from ``at`` until the next live window's start (or
``closes_at`` if that comes first), in milliseconds rounded down, so the kernel cuts test addresses on
time even if nothing runs then; when less than one second is left they are left out. (Whole seconds
would cut up to a second early: an agent that applies right after a boundary has 29.99 s left, not 30.)
The libnftables JSON form carries whole seconds, its unit, rounded down. Production elements never time
out. ``live`` -- test sets empty. ``closed`` -- every set empty (the protected ports are closed to all).

A timeout counts from the moment nft applies the script, not from ``at``: apply a script right after
rendering it (``firewall.apply`` renders at the instant it applies, and again when it rolls back).

Every address is re-validated with ``allowlist.addresses`` and written in canonical form; comments are
reduced to a safe ASCII subset; the serialiser checks both again, so no string reaches nft unchecked.
"""

from __future__ import annotations

import json
import re
import socket
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address, IPv6Address
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from allowlist.addresses import DEFAULT_POLICY, AddressPolicy, AddressRefused, parse_host_address
from allowlist.phase import Phase
from allowlist.snapshot import ELECTION_CODE, KINDS, Snapshot, format_time
from firewall.errors import RenderError

DEFAULT_PORTS: tuple[int, ...] = (80, 443)
DEFAULT_TABLE = "csu_results"
DEFAULT_FAMILY = "inet"
#: Connections one source address may hold open to the protected ports (nginx's ``limit_conn`` role).
DEFAULT_CONNECTION_LIMIT = 256
MAX_CONNECTION_LIMIT = 1_000_000
#: The dynamic sets ``ct count`` keeps its per-source lists in, per IP version.
CONNECTION_SETS: dict[int, str] = {4: "conn4", 6: "conn6"}
CHAIN = "input"
FORMATS: tuple[str, ...] = ("nft", "json")
Format = Literal["nft", "json"]

#: Which IP versions a table family filters.
FAMILIES: dict[str, tuple[int, ...]] = {"inet": (4, 6), "ip": (4,), "ip6": (6,)}
#: A table name nft takes without quoting; nothing that could be read as syntax.
TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
SET_NAMES: dict[tuple[str, int], str] = {
    ("production", 4): "prod4",
    ("test", 4): "test4",
    ("production", 6): "prod6",
    ("test", 6): "test6",
}
#: The longest element timeout written, in seconds. nft 1.0.6 refuses 10^8 s and more, and some kernels
#: keep element timeouts in 32-bit milliseconds (49.7 days). A test cut further away than this is written as
#: this timeout: the test elements would then expire early, never late (they fail closed), and
#: ``firewall agent`` renews them daily (``RENEW_CAPPED_TIMEOUTS_AFTER``) long before they do.
MAX_ELEMENT_TIMEOUT = 20 * 86400
#: How old a ruleset with capped test timeouts may get before the agent writes it again.
RENEW_CAPPED_TIMEOUTS_AFTER = timedelta(days=1)
#: Longest element comment, in characters (nft allows more; a name is enough to recognise an outlet).
COMMENT_MAX = 48

_UNSAFE_COMMENT_CHARS = re.compile(r"[^A-Za-z0-9 .,&()+_-]")
#: What the serialiser lets through, whatever built the ruleset.
_SAFE_COMMENT = re.compile(rf"[A-Za-z0-9 .,&()+_:-]{{0,{COMMENT_MAX}}}")
_SAFE_ADDRESS = re.compile(r"[0-9a-f.:]{2,39}")


class Element(NamedTuple):
    """A set element (a named tuple: 10,000 of them are built per render)."""

    address: str  #: canonical spelling, validated
    comment: str  #: safe subset, at most COMMENT_MAX characters


@dataclass(frozen=True)
class AddressSet:
    name: str  #: prod4, test4, prod6, test6
    ip_version: int
    kind: str  #: production or test
    elements: tuple[Element, ...]  #: in address order

    @property
    def type(self) -> str:
        return "ipv4_addr" if self.ip_version == 4 else "ipv6_addr"

    @property
    def times_out(self) -> bool:
        """Test sets carry ``flags timeout``; their elements expire at the ruleset's ``test_cut_at``."""
        return self.kind == "test"


@dataclass(frozen=True)
class Ruleset:
    """What a snapshot means for one host at one instant; ``script(at)`` writes it for nft."""

    table: str
    family: str
    ports: tuple[int, ...]
    election: str
    version: int
    phase: Phase
    #: The instant whose phase this is.
    planned_at: datetime
    #: How many entries the snapshot has (whatever the phase puts into the sets): the drop brake counts these.
    entries: int
    sets: tuple[AddressSet, ...]
    #: When the test elements time out; None when the test sets are empty.
    test_cut_at: datetime | None
    #: New connections a source may open beyond those it holds: at most this many at once; 0 = no limit.
    connection_limit: int = DEFAULT_CONNECTION_LIMIT

    def test_timeout_ms(self, at: datetime) -> int | None:
        """Milliseconds the test elements still have at ``at``; None when less than a second is left (or
        there are no test elements to time out)."""
        if self.test_cut_at is None:
            return None
        left = self.test_cut_at - at
        milliseconds = min(left // timedelta(milliseconds=1), MAX_ELEMENT_TIMEOUT * 1000)
        return milliseconds if milliseconds >= 1000 else None

    def expected_sets(self, at: datetime) -> dict[str, frozenset[str]]:
        """The addresses each set holds right after ``script(at)`` is applied."""
        timeout = self.test_timeout_ms(at)
        return {
            s.name: frozenset() if s.times_out and timeout is None else frozenset(e.address for e in s.elements)
            for s in self.sets
        }

    def script(self, at: datetime, format: Format = "nft") -> str:
        """The nft script (or libnftables JSON) that installs this ruleset, test timeouts counted from ``at``."""
        _check_aware(at)
        self._check_safe()
        timeout = self.test_timeout_ms(at)
        if format == "nft":
            return _nft_text(self, at, timeout)
        if format == "json":
            return _nft_json(self, timeout)
        raise RenderError("format", f"format {format!r} is neither nft nor json")

    def _check_safe(self) -> None:
        if not TABLE_NAME.fullmatch(self.table) or self.family not in FAMILIES:
            raise RenderError("unsafe", f"table {self.family!r} {self.table!r} is not a safe name")
        if not ELECTION_CODE.fullmatch(self.election):
            raise RenderError("unsafe", f"election {self.election!r} is not an election code")
        _valid_connection_limit(self.connection_limit)
        for address_set in self.sets:
            if address_set.name not in SET_NAMES.values():
                raise RenderError("unsafe", f"set {address_set.name!r} is not one of ours")
            for element in address_set.elements:
                if not _SAFE_ADDRESS.fullmatch(element.address):
                    raise RenderError("unsafe", f"element {element.address!r} is not a canonical address")
                if not _SAFE_COMMENT.fullmatch(element.comment):
                    raise RenderError("unsafe", f"comment {element.comment!r} is not in the safe subset")

    # --- history: the state directory keeps rulesets to re-serialise them on rollback ------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "family": self.family,
            "ports": list(self.ports),
            "election": self.election,
            "version": self.version,
            "phase": self.phase.value,
            "planned_at": format_time(self.planned_at),
            "entries": self.entries,
            "test_cut_at": format_time(self.test_cut_at) if self.test_cut_at else None,
            "connection_limit": self.connection_limit,
            "sets": {
                s.name: {
                    "ip_version": s.ip_version,
                    "kind": s.kind,
                    "elements": [[e.address, e.comment] for e in s.elements],
                }
                for s in self.sets
            },
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Ruleset:
        """The ruleset ``to_state`` wrote; ``script`` checks its names and elements again before use."""
        try:
            cut = state["test_cut_at"]
            return cls(
                table=str(state["table"]),
                family=str(state["family"]),
                ports=_valid_ports(state["ports"]),
                election=str(state["election"]),
                version=int(state["version"]),
                phase=Phase(state["phase"]),
                planned_at=datetime.fromisoformat(state["planned_at"]),
                entries=int(state["entries"]),
                sets=tuple(
                    AddressSet(
                        name=str(name),
                        ip_version=int(spec["ip_version"]),
                        kind=str(spec["kind"]),
                        elements=tuple(Element(str(a), str(c)) for a, c in spec["elements"]),
                    )
                    for name, spec in state["sets"].items()
                ),
                test_cut_at=datetime.fromisoformat(cut) if cut else None,
                # a state written before the limit existed had none
                connection_limit=int(state.get("connection_limit", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise RenderError("malformed_state", f"a stored ruleset cannot be read: {error!r}") from error


# --- building -------------------------------------------------------------------------------------------


def render(
    snapshot: Snapshot,
    at: datetime,
    *,
    ports: Sequence[int] = DEFAULT_PORTS,
    table: str = DEFAULT_TABLE,
    family: str = DEFAULT_FAMILY,
    format: Format = "nft",
    policy: AddressPolicy = DEFAULT_POLICY,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
) -> str:
    """The nftables script (``format="json"``: libnftables JSON) enforcing ``snapshot`` at ``at``."""
    if format not in FORMATS:
        raise RenderError("format", f"format {format!r} is neither nft nor json")
    ruleset = build(
        snapshot, at, ports=ports, table=table, family=family, policy=policy, connection_limit=connection_limit
    )
    return ruleset.script(at, format)


def build(
    snapshot: Snapshot,
    at: datetime,
    *,
    ports: Sequence[int] = DEFAULT_PORTS,
    table: str = DEFAULT_TABLE,
    family: str = DEFAULT_FAMILY,
    policy: AddressPolicy = DEFAULT_POLICY,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
) -> Ruleset:
    """The ruleset ``snapshot`` means at ``at``; RenderError refuses the whole snapshot on any bad entry."""
    _check_aware(at)
    _valid_connection_limit(connection_limit)
    _check_names(snapshot, table, family)
    valid_ports = _valid_ports(ports)
    versions = FAMILIES[family]
    members = _members(snapshot, family, policy)

    phase = snapshot.phase_at(at)
    test_cut_at: datetime | None = None
    if phase is Phase.CLOSED:
        keep: tuple[str, ...] = ()
    elif phase is Phase.LIVE:
        keep = ("production",)
    else:
        keep = KINDS
        test_cut_at = test_cut(snapshot, at)

    sets = tuple(
        AddressSet(
            name=SET_NAMES[kind, version],
            ip_version=version,
            kind=kind,
            elements=tuple(e for _, e in members[SET_NAMES[kind, version]]) if kind in keep else (),
        )
        for version in versions
        for kind in KINDS
    )
    if not any(s.times_out and s.elements for s in sets):
        test_cut_at = None
    return Ruleset(
        table=table,
        family=family,
        ports=valid_ports,
        election=snapshot.election,
        version=snapshot.version,
        phase=phase,
        planned_at=at.astimezone(UTC),
        entries=len(snapshot.entries),
        sets=sets,
        test_cut_at=test_cut_at,
        connection_limit=connection_limit,
    )


def _check_names(snapshot: Snapshot, table: str, family: str) -> None:
    """The family, the table's name and the snapshot's election and version, or RenderError."""
    if family not in FAMILIES:
        raise RenderError("family", f"family {family!r} is not one of {', '.join(FAMILIES)}")
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise RenderError("table", f"table name {table!r} is not a letter followed by up to 31 letters, digits or _")
    if not isinstance(snapshot.election, str) or not ELECTION_CODE.fullmatch(snapshot.election):
        raise RenderError("election", f"election {snapshot.election!r} is not an election code")
    if isinstance(snapshot.version, bool) or not isinstance(snapshot.version, int) or snapshot.version < 1:
        raise RenderError("version", f"version {snapshot.version!r} is not a positive integer")


def _members(snapshot: Snapshot, family: str, policy: AddressPolicy) -> dict[str, list[tuple[int, Element]]]:
    """Every entry's element in its set, sorted by address; RenderError on the first bad entry."""
    versions = FAMILIES[family]
    members: dict[str, list[tuple[int, Element]]] = {
        SET_NAMES[kind, version]: [] for version in versions for kind in KINDS
    }
    seen: set[tuple[int, int]] = set()
    comments: dict[tuple[object, object, type], str] = {}  # one outlet has many addresses
    for entry in snapshot.entries:
        text = entry.address
        if not isinstance(text, str):
            raise RenderError("bad_entry", f"address {text!r} is not a string", address=repr(text))
        try:
            address = parse_host_address(text, policy)
        except AddressRefused as refusal:
            raise RenderError(
                "bad_entry", f"address {text!r} refused ({refusal.code})", address=text, address_code=refusal.code
            ) from refusal
        version = 4 if isinstance(address, IPv4Address) else 6
        key = (version, int(address))
        if key in seen:
            raise RenderError("duplicate_entry", f"address {text!r} appears twice", address=text)
        seen.add(key)
        kind = entry.kind
        if kind not in KINDS:
            raise RenderError("malformed_entry", f"address {text!r}: kind {kind!r}", address=text)
        if version not in versions:
            raise RenderError(
                "family", f"address {text!r} is IPv{version}; a {family} table has no such set", address=text
            )
        outlet = (entry.organisation, entry.organisation_id, type(entry.organisation_id))  # True == 1
        comment = comments.get(outlet)
        if comment is None:
            comment = comments[outlet] = _comment(entry)
        members[SET_NAMES[kind, version]].append((key[1], Element(_canonical(address), comment)))
    for elements in members.values():
        elements.sort(key=itemgetter(0))

    return members


def test_cut(snapshot: Snapshot, at: datetime) -> datetime:
    """When test addresses lose access after ``at``: the next live window's start, or the close."""
    upcoming = [w.starts_at for w in snapshot.live_windows if w.starts_at > at]
    return min([*upcoming, snapshot.closes_at]).astimezone(UTC)


def timeouts_capped(snapshot: Snapshot, written_at: datetime) -> bool:
    """Whether a ruleset written at ``written_at`` carries test timeouts shorter than the way to the cut."""
    return (test_cut(snapshot, written_at) - written_at).total_seconds() > MAX_ELEMENT_TIMEOUT


def _canonical(address: IPv4Address | IPv6Address) -> str:
    """``str(address)``, written by the C library's inet_ntop: the same dotted quad and RFC 5952 form,
    several times faster. IPv6 addresses with 64 leading zero bits go through ``str`` (inet_ntop writes
    their embedded-IPv4 forms differently; the validator refuses them anyway). tests/firewall/test_render.py
    checks the agreement."""
    if isinstance(address, IPv4Address):
        return socket.inet_ntop(socket.AF_INET, address.packed)
    if int(address) >> 64 == 0:
        return str(address)
    return socket.inet_ntop(socket.AF_INET6, address.packed)


def _check_aware(at: datetime) -> None:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise RenderError("time", f"the instant {at!r} is not an aware datetime")


def _valid_ports(ports: Sequence[int]) -> tuple[int, ...]:
    if isinstance(ports, str | bytes) or not ports:
        raise RenderError("ports", f"ports {ports!r} is not a non-empty list of port numbers")
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise RenderError("ports", f"port {port!r} is not a TCP port number (1-65535)")
    if len(set(ports)) != len(ports):
        raise RenderError("ports", f"ports {list(ports)!r} repeat a port")
    return tuple(sorted(ports))


def _valid_connection_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_CONNECTION_LIMIT:
        raise RenderError(
            "connection_limit", f"connection limit {limit!r} is not a whole number from 0 to {MAX_CONNECTION_LIMIT}"
        )
    return limit


def _comment(entry: Any) -> str:
    """``org <id>: <name>`` in a safe ASCII subset: diacritics dropped (Č -> C), anything else a space."""
    organisation_id = entry.organisation_id
    if isinstance(organisation_id, bool) or not isinstance(organisation_id, int) or organisation_id < 1:
        raise RenderError(
            "malformed_entry", f"address {entry.address!r}: organisation_id {organisation_id!r}", address=entry.address
        )
    name = entry.organisation if isinstance(entry.organisation, str) else ""
    name = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    name = " ".join(_UNSAFE_COMMENT_CHARS.sub(" ", name).split())
    comment = f"org {organisation_id}: {name}" if name else f"org {organisation_id}"
    return comment[:COMMENT_MAX].rstrip()


# --- writing --------------------------------------------------------------------------------------------


def _versions(ruleset: Ruleset) -> list[int]:
    return sorted({address_set.ip_version for address_set in ruleset.sets})


def _saddr(ip_version: int) -> str:
    return "ip" if ip_version == 4 else "ip6"


def nft_duration(milliseconds: int) -> str:
    """``1800s``, or ``1799s250ms``: nft's own notation."""
    seconds, rest = divmod(milliseconds, 1000)
    return f"{seconds}s{rest}ms" if rest else f"{seconds}s"


def _nft_text(ruleset: Ruleset, at: datetime, timeout: int | None) -> str:
    table = f"{ruleset.family} {ruleset.table}"
    ports = "{ " + ", ".join(map(str, ruleset.ports)) + " }"
    lines = [
        f"# Allowlist {ruleset.election} version {ruleset.version}: phase {ruleset.phase.value} "
        f"at {format_time(ruleset.planned_at)}, written at {format_time(at)}.",
    ]
    if timeout is not None and ruleset.test_cut_at is not None:
        lines.append(
            f"# Test elements time out after {nft_duration(timeout)}, at {format_time(ruleset.test_cut_at)}"
            " if applied at once."
        )
    lines += [
        "# One transaction: apply with a single `nft -f`. The empty table makes the delete safe on a first apply.",
        f"table {table} {{}}",
        f"delete table {table}",
        f"table {table} {{",
    ]
    for address_set in ruleset.sets:
        lines += [f"\tset {address_set.name} {{", f"\t\ttype {address_set.type}"]
        if address_set.times_out:
            lines.append("\t\tflags timeout")
        elements = address_set.elements
        if address_set.times_out and timeout is None:
            elements = ()
        if elements:
            suffix = f" timeout {nft_duration(timeout)}" if address_set.times_out else ""
            lines.append("\t\telements = {")
            lines.append(",\n".join(f'\t\t\t{e.address}{suffix} comment "{e.comment}"' for e in elements))
            lines.append("\t\t}")
        lines.append("\t}")
    versions = _versions(ruleset)
    if ruleset.connection_limit:
        for version in versions:
            lines += [
                f"\tset {CONNECTION_SETS[version]} {{",
                f"\t\ttype {'ipv4_addr' if version == 4 else 'ipv6_addr'}",
                "\t\tsize 65535",
                "\t\tflags dynamic",
                "\t}",
            ]
    lines += [
        f"\tchain {CHAIN} {{",
        "\t\ttype filter hook input priority filter; policy accept;",
        '\t\tiifname "lo" accept',
    ]
    if ruleset.connection_limit:
        for version in versions:
            saddr = f"{_saddr(version)} saddr"
            lines.append(
                f"\t\ttcp dport {ports} ct state new add @{CONNECTION_SETS[version]} "
                f"{{ {saddr} ct count over {ruleset.connection_limit} }} counter drop"
            )
    for address_set in ruleset.sets:
        lines.append(f"\t\ttcp dport {ports} {_saddr(address_set.ip_version)} saddr @{address_set.name} accept")
    lines += [f"\t\ttcp dport {ports} counter drop", "\t}", "}"]
    return "\n".join(lines) + "\n"


def _nft_json(ruleset: Ruleset, timeout: int | None) -> str:
    family, table = ruleset.family, ruleset.table
    base = {"family": family, "table": table}
    ports = {"set": list(ruleset.ports)}
    dport = {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": ports}}
    commands: list[dict[str, Any]] = [
        {"metainfo": {"json_schema_version": 1}},
        {"add": {"table": {"family": family, "name": table}}},
        {"delete": {"table": {"family": family, "name": table}}},
        {"add": {"table": {"family": family, "name": table}}},
    ]
    for address_set in ruleset.sets:
        spec: dict[str, Any] = {**base, "name": address_set.name, "type": address_set.type}
        if address_set.times_out:
            spec["flags"] = ["timeout"]
        elements = address_set.elements
        if address_set.times_out and timeout is None:
            elements = ()
        if elements:
            # JSON text written directly: _check_safe let no quote, backslash or control character through
            timeout_field = f'"timeout": {timeout // 1000}, ' if address_set.times_out else ""
            spec["elem"] = [
                f'{{"elem": {{"val": "{e.address}", {timeout_field}"comment": "{e.comment}"}}}}' for e in elements
            ]
        commands.append({"add": {"set": spec}})
    versions = _versions(ruleset)
    if ruleset.connection_limit:
        for version in versions:
            kind = "ipv4_addr" if version == 4 else "ipv6_addr"
            connection_set = {**base, "name": CONNECTION_SETS[version], "type": kind, "size": 65535}
            commands.append({"add": {"set": connection_set}})
    commands.append(
        {"add": {"chain": {**base, "name": CHAIN, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}}
    )

    def rule(*expr: dict[str, Any]) -> dict[str, Any]:
        return {"add": {"rule": {**base, "chain": CHAIN, "expr": list(expr)}}}

    commands.append(
        rule({"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": None})
    )
    if ruleset.connection_limit:
        new = {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}}
        for version in versions:
            over = {
                "set": {
                    "op": "add",
                    "elem": {"payload": {"protocol": _saddr(version), "field": "saddr"}},
                    "set": f"@{CONNECTION_SETS[version]}",
                    "stmt": [{"ct count": {"val": ruleset.connection_limit, "inv": True}}],
                }
            }
            commands.append(rule(dport, new, over, {"counter": None}, {"drop": None}))
    for address_set in ruleset.sets:
        saddr = {"payload": {"protocol": _saddr(address_set.ip_version), "field": "saddr"}}
        commands.append(
            rule(dport, {"match": {"op": "==", "left": saddr, "right": f"@{address_set.name}"}}, {"accept": None})
        )
    commands.append(rule(dport, {"counter": None}, {"drop": None}))
    return _json_lines(commands)


def _json_lines(commands: list[dict[str, Any]]) -> str:
    """One command per line and one set element per line (``elem`` holds them as JSON text already)."""
    lines = []
    for command in commands:
        spec = command.get("add", {}).get("set")
        if spec is None or "elem" not in spec:
            lines.append(json.dumps(command))
            continue
        head = json.dumps({"add": {"set": {**spec, "elem": []}}})
        assert head.endswith('"elem": []}}}')  # "elem" is the last key
        elements = ",\n  ".join(spec["elem"])
        lines.append(f"{head[: -len('[]}}}')]}[\n  {elements}\n ]}}}}}}")
    return '{"nftables": [\n ' + ",\n ".join(lines) + "\n]}\n"
