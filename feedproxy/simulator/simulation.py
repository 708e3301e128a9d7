"""``Simulation``: every document of a simulated election night as a pure function of (path, query, elapsed).

    sim = Simulation("prez2023", duration=600, batches=40, seed=1)
    status, content_type, body = sim.document("/appdata/prez2023/20230113/odata/vysledky.xml", "", at_elapsed=300)
    status, content_type, body = sim.document("/pls/prez2023/vysledky", "", at_elapsed=300)

Two layouts of paths (``layout``: ``appdata``, ``pls`` or ``both``):

- ``appdata`` (the office's static files since 2025): ``/appdata/<election>[/<YYYYMMDD>]/odata/<file>.xml``, the
  date segment being a round's first voting day (absent for the Chamber, as in ps2025): ``vysledky.xml``,
  ``okrsky/vysledky_okrsky_<NNNNN>.xml`` (batch N, five digits; 404 until it is published),
  ``vysledky_okrsky.xml`` (the newest batch; 404 before the first) and the per-district or per-region files
  of the kind (``okresy/vysledky_okres_<NUTS>.xml``, ``kraje/vysledky_kraj_<N>.xml``,
  ``obvody/vysledky_obvod_<N>.xml``).
- ``pls`` (the query endpoints up to 2023): ``/pls/<election>/vysledky``, ``vysledky_okrsky?kolo=K&davka=N``
  (an in-band ``CHYBA`` while batch N is not out), ``vysledky_okres?nuts=...``.

An election with a run-off (the president, the Senate) has a second round with its own figures and batches;
its counting starts ``runoff_start`` (default: as far after the first as in reality).

Elapsed seconds count from ``start`` (the moment counting begins; documents carry Prague times from it).
Nothing depends on the wall clock, so tests step through a night without sleeping. The documents change
only when a batch is published; between batches the same bytes come back (same ETag, Last-Modified).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol
from urllib.parse import parse_qs

from feedproxy.simulator import render_prez, render_ps
from feedproxy.simulator.counting import NATIONAL, Batch, Count, Precinct
from feedproxy.simulator.kz import kz2028_election
from feedproxy.simulator.mandates import allocate
from feedproxy.simulator.prez import PrezElection, prez2023_election, prez2023_runoff
from feedproxy.simulator.ps import PsElection, ps2017_election, ps2021_election
from feedproxy.simulator.senate import senat2028_election, senat2028_runoff
from feedproxy.simulator.xmlwriter import PRAGUE


class Custom(Protocol):
    """An election kind that renders its own documents (the regional councils, the Senate)."""

    code: str
    round: int

    def precincts(self, seed: int | str) -> tuple[Precinct, ...]: ...

    def areas(self, seed: int | str) -> list[tuple[str, str]]:
        """(what, file under odata/) of its per-region or per-district documents."""
        ...

    def render_national(
        self, rounds: Sequence[Round], round_: Round, n: int, seed: int | str, at: datetime
    ) -> bytes: ...

    def render_area(
        self, rounds: Sequence[Round], round_: Round, file: str, n: int, seed: int | str, at: datetime
    ) -> bytes: ...

    def render_batch(self, count: Count, batch: Batch, start: datetime, seed: int | str) -> bytes: ...


Election = PrezElection | PsElection | Custom
LAYOUTS = ("appdata", "pls", "both")


@dataclass(frozen=True)
class Kind:
    """An election the simulator knows: per round, its loader, when counting really began and its first voting day."""

    rounds: tuple[tuple[Callable[[], Election], datetime, str], ...]
    #: Whether appdata paths carry the first voting day (``/appdata/kv2026/20261009/odata/...``).
    dated: bool = True


#: The elections that can be simulated.
ELECTIONS: dict[str, Kind] = {
    "prez2023": Kind(
        (
            (prez2023_election, datetime(2023, 1, 14, 14, 0, tzinfo=PRAGUE), "20230113"),
            (prez2023_runoff, datetime(2023, 1, 28, 14, 0, tzinfo=PRAGUE), "20230127"),
        )
    ),
    "ps2021": Kind(((ps2021_election, datetime(2021, 10, 9, 14, 0, tzinfo=PRAGUE), "20211008"),), dated=False),
    "ps2017": Kind(((ps2017_election, datetime(2017, 10, 21, 14, 0, tzinfo=PRAGUE), "20171020"),), dated=False),
    "kz2028": Kind(((kz2028_election, datetime(2028, 10, 7, 14, 0, tzinfo=PRAGUE), "20281006"),)),
    "senat2028": Kind(
        (
            (senat2028_election, datetime(2028, 10, 7, 14, 0, tzinfo=PRAGUE), "20281006"),
            (senat2028_runoff, datetime(2028, 10, 14, 14, 0, tzinfo=PRAGUE), "20281013"),
        )
    ),
}
TEXT = "text/plain; charset=utf-8"
_CACHE_SIZE = 64
_DECLARED = re.compile(rb'<\?xml[^>]*encoding="([^"]+)"')
_BATCH_FILE = re.compile(r"okrsky/vysledky_okrsky_(\d{5})\.xml")
NOT_PUBLISHED = "404 Not Found: not published yet\n"


class Reply(NamedTuple):
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Rendered:
    """A reply with the validators the HTTP layer needs."""

    status: int
    content_type: str
    body: bytes
    last_modified: datetime | None = None  #: when this document's content last changed (UTC, whole seconds)
    etag: str | None = None  #: strong, quoted

    @property
    def reply(self) -> Reply:
        return Reply(self.status, self.content_type, self.body)


@dataclass(frozen=True, eq=False)
class Round:
    """One round of counting: its election data, its own count, and when it starts (seconds after round 1's)."""

    number: int
    election: Election
    count: Count
    offset: float
    day: str  #: the first voting day, YYYYMMDD: the appdata date segment

    def published(self, at_elapsed: float) -> int:
        return self.count.published(at_elapsed - self.offset)


class Simulation:
    def __init__(
        self,
        election: str = "prez2023",
        duration: float = 600.0,
        batches: int = 40,
        seed: int | str = 0,
        start: datetime | None = None,
        repeats: int = 0,
        layout: str = "both",
        runoff_start: datetime | None = None,
    ) -> None:
        if election not in ELECTIONS:
            raise ValueError(f"unknown election {election!r}; known: {', '.join(ELECTIONS)}")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
        kind = ELECTIONS[election]
        if layout == "pls" and not isinstance(kind.rounds[0][0](), PrezElection | PsElection):
            raise ValueError(f"{election} is simulated on the appdata layout only (the /pls/ endpoints ended in 2024)")
        self.code = election
        self.kind = kind
        self.layout = layout
        self.seed = seed
        default_start = kind.rounds[0][1]
        start = default_start if start is None else start
        self.start = start.replace(tzinfo=PRAGUE) if start.tzinfo is None else start
        self.rounds: list[Round] = []
        for number, (load, real_start, day) in enumerate(kind.rounds, start=1):
            data = load()
            if number == 1:
                offset = 0.0
            elif runoff_start is not None:
                when = runoff_start.replace(tzinfo=PRAGUE) if runoff_start.tzinfo is None else runoff_start
                offset = (when - self.start).total_seconds()
            else:
                offset = (real_start - default_start).total_seconds()
            if number > 1 and offset < duration:
                raise ValueError("the run-off must start after the first round's count ends (start + duration)")
            # Round 1 keeps the seed as it was, so its documents do not change with a second round's addition.
            count_seed = seed if number == 1 else f"{seed}:round{number}"
            count = Count(data.precincts(seed), duration=duration, batches=batches, seed=count_seed, repeats=repeats)
            self.rounds.append(Round(number, data, count, offset, day))
        self.election: Election = self.rounds[0].election
        self.count = self.rounds[0].count
        self._cache: OrderedDict[tuple[object, ...], Rendered] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def duration(self) -> float:
        return self.count.duration

    @property
    def batches(self) -> int:
        return len(self.count.batches)

    def batch_at(self, at_elapsed: float) -> int:
        """Round 1's batches published by then (0 before the first; all of them from ``duration`` on)."""
        return self.count.published(at_elapsed)

    def generated_at(self, n: int, round_: Round | None = None) -> datetime:
        """The generation time stamped on documents of the state after batch ``n`` (of round 1 by default)."""
        r = round_ or self.rounds[0]
        return self.start + timedelta(seconds=r.offset + r.count.published_at(n))

    def publications(self) -> list[tuple[str, float]]:
        """(appdata path, elapsed seconds) of every numbered batch, when it is published."""
        return [
            (self.appdata_base(r) + f"okrsky/vysledky_okrsky_{b.number:05d}.xml", r.offset + b.published_at)
            for r in self.rounds
            for b in r.count.batches
        ]

    def appdata_base(self, round_: Round) -> str:
        day = f"/{round_.day}" if self.kind.dated else ""
        return f"/appdata/{self.code}{day}/odata/"

    def documents(self) -> list[tuple[str, str]]:
        """(what, path and query) of every document kind served."""
        kinds: list[tuple[str, str]] = []
        if self.layout in ("appdata", "both"):
            for r in self.rounds:
                label = f"round {r.number} " if len(self.rounds) > 1 else ""
                base = self.appdata_base(r)
                kinds.append((f"{label}national results", base + "vysledky.xml"))
                kinds.append((f"{label}precinct batch N", base + "okrsky/vysledky_okrsky_NNNNN.xml"))
                kinds.append((f"{label}newest precinct batch", base + "vysledky_okrsky.xml"))
                kinds += [(f"{label}{what}", base + file) for what, file in self._areas(r)]
        if self.layout in ("pls", "both"):
            base = f"/pls/{self.code}"
            if isinstance(self.election, PrezElection):
                kinds.append(("national results", f"{base}/vysledky"))
                for r in self.rounds:
                    label = f"round {r.number} " if len(self.rounds) > 1 else ""
                    kinds.append((f"{label}precinct batch N", f"{base}/vysledky_okrsky?kolo={r.number}&davka=N"))
                    kinds.append((f"{label}newest precinct batch", f"{base}/vysledky_okrsky?kolo={r.number}"))
            elif isinstance(self.election, PsElection):
                kinds.append(("national and regional results", f"{base}/vysledky"))
                kinds += [
                    (f"district {nuts} by municipality", f"{base}/vysledky_okres?nuts={nuts}")
                    for nuts in self.election.districts
                ]
        return kinds

    def _areas(self, r: Round) -> list[tuple[str, str]]:
        election = r.election
        if isinstance(election, PsElection):
            return [
                (f"district {nuts} by municipality", f"okresy/vysledky_okres_{nuts}.xml") for nuts in election.districts
            ]
        if isinstance(election, PrezElection):
            return []
        return election.areas(self.seed)

    def document(self, path: str, query: str | Mapping[str, str] = "", at_elapsed: float = 0.0) -> Reply:
        return self.resolve(path, query, at_elapsed).reply

    def resolve(self, path: str, query: str | Mapping[str, str] = "", at_elapsed: float = 0.0) -> Rendered:
        if path.startswith("/appdata/") and self.layout in ("appdata", "both"):
            if query.lstrip("?") if isinstance(query, str) else dict(query):
                return _text(404, "404 Not Found: a static file takes no query\n")
            return self._appdata(path, at_elapsed)
        base = f"/pls/{self.code}/"
        if path.startswith(base) and self.layout in ("pls", "both"):
            return self._pls(path[len(base) :], _params(query), at_elapsed)
        return _text(404, "404 Not Found: no such document\n")

    # -- the two layouts -------------------------------------------------------------------------------

    def _appdata(self, path: str, at: float) -> Rendered:
        rest = path.removeprefix(f"/appdata/{self.code}/")
        if rest == path:
            return _text(404, "404 Not Found: no such document\n")
        round_ = self.rounds[0]
        if self.kind.dated:
            day, _, rest = rest.partition("/")
            found = [r for r in self.rounds if r.day == day]
            if not found:
                return _text(404, "404 Not Found: no such election day\n")
            round_ = found[0]
        if not rest.startswith("odata/"):
            return _text(404, "404 Not Found: no such document\n")
        name = rest.removeprefix("odata/")
        n = round_.published(at)
        if name == "vysledky.xml":
            return self._national(round_, n)
        if name == "vysledky_okrsky.xml":
            return self._batch(round_, n) if n else _text(404, NOT_PUBLISHED)
        match = _BATCH_FILE.fullmatch(name)
        if match:
            number = int(match.group(1))
            if number > len(round_.count.batches) or number < 1:
                return _text(404, "404 Not Found: no such batch\n")
            return self._batch(round_, number) if number <= n else _text(404, NOT_PUBLISHED)
        for _what, file in self._areas(round_):
            if name == file:
                return self._area(round_, file, n)
        return _text(404, "404 Not Found: no such document\n")

    def _pls(self, name: str, params: Mapping[str, str], at: float) -> Rendered:
        first = self.rounds[0]
        n = first.published(at)
        if isinstance(self.election, PrezElection):
            if name == "vysledky":
                later = [r for r in self.rounds[1:] if at >= r.offset]
                return self._national(later[-1], later[-1].published(at)) if later else self._national(first, n)
            if name == "vysledky_okrsky":
                return self._pls_batch(params, at)
        elif isinstance(self.election, PsElection):
            if name == "vysledky":
                return self._national(first, n)
            if name == "vysledky_okres":
                nuts = params.get("nuts", "")
                if nuts not in self.election.districts:
                    return _text(404, f"404 Not Found: no district {nuts!r} in this simulation\n")
                return self._area(first, f"okresy/vysledky_okres_{nuts}.xml", n)
        return _text(404, "404 Not Found: no such document\n")

    def _pls_batch(self, params: Mapping[str, str], at: float) -> Rendered:
        try:
            kolo = int(params.get("kolo") or self.election.round)  # type: ignore[union-attr]
            round_ = self.rounds[kolo - 1] if 1 <= kolo <= len(self.rounds) else None
            n = round_.published(at) if round_ is not None else 0
            davka = int(params["davka"]) if params.get("davka") else n
        except ValueError:
            return _text(400, "400 Bad Request: kolo and davka are numbers\n")
        if round_ is None or not 1 <= davka <= n:
            generated = self.generated_at(self.batch_at(at))
            return self._cached(("chyba", generated), lambda: _xml(render_prez.no_batch(generated), generated))
        return self._batch(round_, davka)

    # -- documents -------------------------------------------------------------------------------------

    def _national(self, r: Round, n: int) -> Rendered:
        return self._cached(("vysledky", r.number, n), lambda: self._render_national(r, n))

    def _render_national(self, r: Round, n: int) -> Rendered:
        election, count = r.election, r.count
        state = count.state(n)
        generated = self.generated_at(n, r)
        if isinstance(election, PrezElection):
            first = self.rounds[0]
            if r.number == 1:
                body = render_prez.national(election, state[NATIONAL], len(count.precincts), generated)
            else:
                assert isinstance(first.election, PrezElection)
                final = first.count.state(len(first.count.batches))[NATIONAL]
                runoff = (election, state[NATIONAL], len(count.precincts))
                body = render_prez.national(first.election, final, len(first.count.precincts), generated, runoff)
        elif isinstance(election, PsElection):
            seats = allocate(election, state, self.seed)
            body = render_ps.national(election, count, state, seats, generated)
        else:
            body = election.render_national(self.rounds, r, n, self.seed, generated)
        return _xml(body, generated)

    def _batch(self, r: Round, number: int) -> Rendered:
        return self._cached(("davka", r.number, number), lambda: self._render_batch(r, number))

    def _render_batch(self, r: Round, number: int) -> Rendered:
        election, count = r.election, r.count
        batch = count.batches[number - 1]
        generated = self.generated_at(number, r)
        start = self.start + timedelta(seconds=r.offset)
        if isinstance(election, PrezElection):
            body = render_prez.batch(election, count, batch, start)
        elif isinstance(election, PsElection):
            body = render_ps.batch(election, count, batch, start)
        else:
            body = election.render_batch(count, batch, start, self.seed)
        return _xml(body, generated)

    def _area(self, r: Round, file: str, n: int) -> Rendered:
        return self._cached(("area", r.number, file, n), lambda: self._render_area(r, file, n))

    def _render_area(self, r: Round, file: str, n: int) -> Rendered:
        election, count = r.election, r.count
        state = count.state(n)
        generated = self.generated_at(n, r)
        key = file.rpartition("_")[2].removesuffix(".xml")
        if isinstance(election, PsElection):
            body = render_ps.district(election, count, state, election.districts[key], generated)
        else:
            assert not isinstance(election, PrezElection)
            body = election.render_area(self.rounds, r, file, n, self.seed, generated)
        return _xml(body, generated)

    def _cached(self, key: tuple[object, ...], make: Callable[[], Rendered]) -> Rendered:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        rendered = make()
        with self._lock:
            self._cache[key] = rendered
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return rendered


def _params(query: str | Mapping[str, str]) -> dict[str, str]:
    if isinstance(query, str):
        return {key: values[0] for key, values in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    return dict(query)


def _xml(body: bytes, generated: datetime) -> Rendered:
    declared = _DECLARED.match(body)
    charset = declared.group(1).decode("ascii") if declared else "utf-8"
    last_modified = generated.astimezone(UTC).replace(microsecond=0)
    return Rendered(200, f"text/xml; charset={charset}", body, last_modified, etag_of(body))


def etag_of(body: bytes) -> str:
    """A strong entity tag: a digest of the bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _text(status: int, text: str) -> Rendered:
    return Rendered(status, TEXT, text.encode("utf-8"))
