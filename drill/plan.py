"""What the drill replays: the outlets, their addresses and fates, and the compressed election schedule.

Pure and deterministic: the same ``seed`` and ``t0`` give the same plan, so a failed drill can be read
against the plan it ran.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

ELECTION = "prez2023"  #: the simulator's presidential election: two rounds, as in 2023
#: The documentation ranges the client namespace holds; the server namespace takes the last address of each.
CLIENT_NETWORKS = (
    IPv4Network("192.0.2.0/24"),
    IPv4Network("198.51.100.0/24"),
    IPv4Network("203.0.113.0/24"),
    IPv6Network("2001:db8:1::/64"),
)
SERVER_ADDRESSES = ("192.0.2.254", "198.51.100.254", "203.0.113.254", "2001:db8:1::fe")
MAX_ADDRESSES_PER_KIND = 5


class Fate(enum.StrEnum):
    """What happens to an outlet's application in the drill."""

    APPROVED = "approved"  #: submitted on time, approved
    REVOKED = "revoked"  #: approved, then revoked by staff during the first live window
    DUPLICATE = "duplicate"  #: claims an address another outlet claims; approved once staff acknowledge it
    REJECTED = "rejected"  #: submitted on time, rejected by staff
    LATE = "late"  #: applies after the deadline: refused
    OVER_LIMIT = "over_limit"  #: six production addresses: refused, never submitted


@dataclass(frozen=True)
class Check:
    """One thing the drill verified: its stage (``registration``, ``testing``, ...), what, and the outcome."""

    stage: str
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Outlet:
    index: int
    name: str
    ico: str  #: a valid Czech IČO (checksum)
    email: str
    production: tuple[str, ...]
    test: tuple[str, ...]
    fate: Fate
    #: Submits through the portal with a PDF signed by the test PKI; the others are recorded by staff
    #: from the data box.
    signed: bool

    @property
    def admitted_ever(self) -> bool:
        return self.fate in (Fate.APPROVED, Fate.REVOKED, Fate.DUPLICATE)


@dataclass(frozen=True)
class Schedule:
    """Absolute instants (UTC) of the compressed election."""

    t0: datetime
    applications_close_at: datetime
    live: tuple[tuple[datetime, datetime], ...]  #: (processing starts, live ends) per round
    revoke_at: datetime  #: staff revoke the REVOKED outlet, during round 1's live window
    outage_at: datetime  #: the upstream answers 500 for ``outage_seconds``
    outage_seconds: float
    truncated_at: datetime  #: the upstream sends one truncated national document

    @property
    def closes_at(self) -> datetime:
        return self.live[-1][1]

    def boundaries(self) -> list[tuple[str, datetime]]:
        """Every phase switch, named: ``live-1``, ``testing-after-1``, ``live-2``, ``closed``."""
        named: list[tuple[str, datetime]] = []
        for number, (start, end) in enumerate(self.live, start=1):
            named.append((f"live-{number}", start))
            named.append(("closed" if number == len(self.live) else f"testing-after-{number}", end))
        return named


@dataclass(frozen=True)
class Timing:
    """The drill's compressed durations, in seconds."""

    registration: float = 50.0  #: from t0 to the deadline
    testing: float = 55.0  #: from the deadline to the first processing start
    live: float = 60.0  #: each round's live window
    between_rounds: float = 30.0
    agent_interval: float = 5.0  #: the firewall agent's poll interval
    proxy_refresh: float = 2.0  #: the proxy's revalidation interval
    poll_interval: float = 3.0  #: each client address polls this often
    cut_tolerance: float = 2.0  #: test addresses must be cut within this of the live start


@dataclass(frozen=True)
class Plan:
    seed: int
    election: str
    outlets: tuple[Outlet, ...]
    unknown: tuple[str, ...]  #: addresses in no application at all
    schedule: Schedule
    timing: Timing = field(default_factory=Timing)

    def outlet(self, fate: Fate) -> Outlet:
        return next(o for o in self.outlets if o.fate is fate)

    def clients(self) -> list[tuple[str, str, str]]:
        """Every polling client address as (address, outlet name or "", kind: production|test|unknown)."""
        seen: set[str] = set()
        rows: list[tuple[str, str, str]] = []
        for outlet in self.outlets:
            for kind, addresses in (("production", outlet.production), ("test", outlet.test)):
                for address in addresses:
                    if address not in seen:
                        seen.add(address)
                        rows.append((address, outlet.name, kind))
        rows.extend((address, "", "unknown") for address in self.unknown if address not in seen)
        return rows


#: How many outlets of each fate a drill has: 36 outlets, 250 client addresses with the unknown ones.
FATES = (
    (Fate.APPROVED, 24),
    (Fate.REVOKED, 1),
    (Fate.DUPLICATE, 2),
    (Fate.REJECTED, 4),
    (Fate.LATE, 3),
    (Fate.OVER_LIMIT, 2),
)
CLIENT_ADDRESSES = 250


def valid_ico(number: int) -> str:
    """An eight-digit IČO with a correct check digit, from ``number`` (< 10**7)."""
    digits = f"{number:07d}"
    weighted = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    check = (11 - weighted % 11) % 10
    return digits + str(check)


def _address_pool() -> list[str]:
    pool: list[str] = []
    servers = {ip_address(a) for a in SERVER_ADDRESSES}
    for network in CLIENT_NETWORKS[:3]:
        pool.extend(str(h) for h in network.hosts() if h not in servers)
    v6 = CLIENT_NETWORKS[3]
    pool.extend(str(v6.network_address + n) for n in range(1, 200))
    return pool


def make_plan(t0: datetime, seed: int = 2023, timing: Timing | None = None) -> Plan:
    """The drill's plan, starting at ``t0`` (aware, UTC)."""
    timing = timing or Timing()
    rng = random.Random(seed)
    pool = _address_pool()
    rng.shuffle(pool)
    take = iter(pool)

    outlets: list[Outlet] = []
    fates = [fate for fate, count in FATES for _ in range(count)]
    for index, fate in enumerate(fates):
        production_count = MAX_ADDRESSES_PER_KIND + 1 if fate is Fate.OVER_LIMIT else rng.randint(2, 5)
        test_count = rng.randint(1, 3)
        production = tuple(next(take) for _ in range(production_count))
        test = tuple(next(take) for _ in range(test_count))
        outlets.append(
            Outlet(
                index=index,
                name=f"Drill Media {index + 1:02d}",
                ico=valid_ico(4_200_000 + index),
                email=f"outlet{index + 1:02d}@drill.example",
                production=production,
                test=test,
                fate=fate,
                signed=index % 2 == 0,
            )
        )
    # The two DUPLICATE outlets share their first production address.
    first, second = [i for i, o in enumerate(outlets) if o.fate is Fate.DUPLICATE]
    shared = outlets[first].production[0]
    outlets[second] = _replace_first_production(outlets[second], shared)

    used = {a for o in outlets for a in (*o.production, *o.test)}
    unknown_count = CLIENT_ADDRESSES - len(used)
    unknown = tuple(next(take) for _ in range(max(unknown_count, 10)))
    return Plan(seed, ELECTION, tuple(outlets), unknown, _schedule(t0, timing), timing)


def _replace_first_production(outlet: Outlet, address: str) -> Outlet:
    from dataclasses import replace

    return replace(outlet, production=(address, *outlet.production[1:]))


def _schedule(t0: datetime, timing: Timing) -> Schedule:
    t0 = t0.astimezone(UTC).replace(microsecond=0)
    deadline = t0 + timedelta(seconds=timing.registration)
    first_start = deadline + timedelta(seconds=timing.testing)
    first_end = first_start + timedelta(seconds=timing.live)
    second_start = first_end + timedelta(seconds=timing.between_rounds)
    second_end = second_start + timedelta(seconds=timing.live)
    return Schedule(
        t0=t0,
        applications_close_at=deadline,
        live=((first_start, first_end), (second_start, second_end)),
        revoke_at=first_start + timedelta(seconds=timing.live * 0.5),
        outage_at=first_start + timedelta(seconds=timing.live * 0.25),
        outage_seconds=6.0,
        truncated_at=first_start + timedelta(seconds=timing.live * 0.7),
    )
