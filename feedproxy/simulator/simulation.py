"""``Simulation``: every document of a simulated election night as a pure function of (path, query, elapsed).

    sim = Simulation("prez2023", duration=600, batches=40, seed=1)
    status, content_type, body = sim.document("/pls/prez2023/vysledky", "", at_elapsed=300)

Elapsed seconds count from ``start`` (the moment counting begins; documents carry Prague times from it).
Nothing depends on the wall clock, so tests step through a night without sleeping. The documents change
only when a batch is published; between batches the same bytes come back (same ETag, Last-Modified).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import parse_qs

from feedproxy.simulator import render_prez, render_ps
from feedproxy.simulator.counting import NATIONAL, Count
from feedproxy.simulator.mandates import allocate
from feedproxy.simulator.prez import PrezElection, prez2023_election
from feedproxy.simulator.ps import PsElection, ps2017_election, ps2021_election
from feedproxy.simulator.xmlwriter import PRAGUE

Election = PrezElection | PsElection

#: The elections that can be simulated, and when their counting really began (the default start).
ELECTIONS: dict[str, tuple[Callable[[], Election], datetime]] = {
    "prez2023": (prez2023_election, datetime(2023, 1, 14, 14, 0, tzinfo=PRAGUE)),
    "ps2021": (ps2021_election, datetime(2021, 10, 9, 14, 0, tzinfo=PRAGUE)),
    "ps2017": (ps2017_election, datetime(2017, 10, 21, 14, 0, tzinfo=PRAGUE)),
}
TEXT = "text/plain; charset=utf-8"
_CACHE_SIZE = 64
_DECLARED = re.compile(rb'<\?xml[^>]*encoding="([^"]+)"')


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


class Simulation:
    def __init__(
        self,
        election: str = "prez2023",
        duration: float = 600.0,
        batches: int = 40,
        seed: int | str = 0,
        start: datetime | None = None,
        repeats: int = 0,
    ) -> None:
        if election not in ELECTIONS:
            raise ValueError(f"unknown election {election!r}; known: {', '.join(ELECTIONS)}")
        load, default_start = ELECTIONS[election]
        self.code = election
        self.election: Election = load()
        self.seed = seed
        start = default_start if start is None else start
        self.start = start.replace(tzinfo=PRAGUE) if start.tzinfo is None else start
        self.count = Count(
            self.election.precincts(seed), duration=duration, batches=batches, seed=seed, repeats=repeats
        )
        self._cache: OrderedDict[tuple[object, ...], Rendered] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def duration(self) -> float:
        return self.count.duration

    @property
    def batches(self) -> int:
        return len(self.count.batches)

    def batch_at(self, at_elapsed: float) -> int:
        """Batches published by then (0 before the first; all of them from ``duration`` on)."""
        return self.count.published(at_elapsed)

    def generated_at(self, n: int) -> datetime:
        """The generation time stamped on documents of the state after batch ``n``."""
        return self.start + timedelta(seconds=self.count.published_at(n))

    def documents(self) -> list[tuple[str, str]]:
        """(what, path and query) of every document kind served."""
        base = f"/pls/{self.code}"
        if isinstance(self.election, PrezElection):
            kolo = self.election.round
            return [
                ("national results", f"{base}/vysledky"),
                ("precinct batch N", f"{base}/vysledky_okrsky?kolo={kolo}&davka=N"),
                ("newest precinct batch", f"{base}/vysledky_okrsky?kolo={kolo}"),
            ]
        kinds = [("national and regional results", f"{base}/vysledky")]
        kinds += [
            (f"district {nuts} by municipality", f"{base}/vysledky_okres?nuts={nuts}")
            for nuts in self.election.districts
        ]
        return kinds

    def document(self, path: str, query: str | Mapping[str, str] = "", at_elapsed: float = 0.0) -> Reply:
        return self.resolve(path, query, at_elapsed).reply

    def resolve(self, path: str, query: str | Mapping[str, str] = "", at_elapsed: float = 0.0) -> Rendered:
        params = _params(query)
        n = self.batch_at(at_elapsed)
        base = f"/pls/{self.code}/"
        name = path[len(base) :] if path.startswith(base) else None
        if isinstance(self.election, PrezElection):
            if name == "vysledky":
                return self._cached(("vysledky", n), lambda: self._prez_national(n))
            if name == "vysledky_okrsky":
                return self._prez_batch(params, n)
        else:
            if name == "vysledky":
                return self._cached(("vysledky", n), lambda: self._ps_national(n))
            if name == "vysledky_okres":
                return self._ps_district(params.get("nuts", ""), n)
        return _text(404, "404 Not Found: no such document\n")

    # -- documents -------------------------------------------------------------------------------------

    def _prez_national(self, n: int) -> Rendered:
        assert isinstance(self.election, PrezElection)
        state = self.count.state(n)
        generated = self.generated_at(n)
        body = render_prez.national(self.election, state[NATIONAL], len(self.count.precincts), generated)
        return _xml(body, generated)

    def _prez_batch(self, params: Mapping[str, str], n: int) -> Rendered:
        assert isinstance(self.election, PrezElection)
        try:
            kolo = int(params.get("kolo") or self.election.round)
            davka = int(params["davka"]) if params.get("davka") else n
        except ValueError:
            return _text(400, "400 Bad Request: kolo and davka are numbers\n")
        if kolo != self.election.round or not 1 <= davka <= n:
            return self._cached(
                ("chyba", n), lambda: _xml(render_prez.no_batch(self.generated_at(n)), self.generated_at(n))
            )
        batch = self.count.batches[davka - 1]
        generated = self.generated_at(davka)
        return self._cached(
            ("davka", davka), lambda: _xml(render_prez.batch(self.election, self.count, batch, self.start), generated)
        )

    def _ps_national(self, n: int) -> Rendered:
        assert isinstance(self.election, PsElection)
        state = self.count.state(n)
        seats = allocate(self.election, state, self.seed)
        generated = self.generated_at(n)
        return _xml(render_ps.national(self.election, self.count, state, seats, generated), generated)

    def _ps_district(self, nuts: str, n: int) -> Rendered:
        assert isinstance(self.election, PsElection)
        district = self.election.districts.get(nuts)
        if district is None:
            return _text(404, f"404 Not Found: no district {nuts!r} in this simulation\n")
        generated = self.generated_at(n)
        state = self.count.state(n)
        return self._cached(
            ("okres", nuts, n),
            lambda: _xml(render_ps.district(self.election, self.count, state, district, generated), generated),
        )

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
