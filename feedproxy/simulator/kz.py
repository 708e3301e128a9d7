"""The regional councils (kz2028): 13 regions, their lists, seats by D'Hondt above a 5 % threshold.

No regional results document is on record, so the documents follow the office's other national documents
(``KRAJ`` / ``UCAST`` / ``STRANA`` / ``HODNOTY_STRANA``, namespace ``http://www.volby.cz/kz/``, the schema names
of ``kz_vysledky.xsd``) and each region's behaviour is its 2021 Chamber result (see ``data/kz2028.json``):

- ``vysledky.xml``: root VYSLEDKY, one ``KRAJ`` per region (``CIS_KRAJ``, ``NAZ_KRAJ``, ``POCMANDATU``) with
  ``UCAST`` and a ``STRANA`` per list on its ballot (``HODNOTY_STRANA`` with ``MANDATY``/``PROC_MANDATU`` for a
  list with seats).
- ``kraje/vysledky_kraj_<CIS_KRAJ>.xml``: root VYSLEDKY_KRAJ, the one region's ``KRAJ``.
- precinct batches: ``HLASY_OKRSEK KSTRANA``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from feedproxy.simulator import percent, render_batch
from feedproxy.simulator.apportion import dhondt
from feedproxy.simulator.counting import NATIONAL, AreaKey, Batch, Count, Precinct, Tally, rng
from feedproxy.simulator.data import load_json
from feedproxy.simulator.ps import Party, Region, ps2021_election
from feedproxy.simulator.synth import ballot, precinct_sizes
from feedproxy.simulator.ucast import turnout
from feedproxy.simulator.xmlwriter import document, empty, root, start, timestamp

NAMESPACE = "http://www.volby.cz/kz/"
ENCODING = "UTF-8"


@dataclass(frozen=True, eq=False)
class KzElection:
    code: str
    parties: tuple[Party, ...]
    regions: tuple[Region, ...]  #: ``seats`` is the council's size
    threshold: int  #: percent of the region's valid votes a list needs for seats

    round = 1
    kind = "kz"

    @cache  # noqa: B019 - elections are module-level singletons
    def precincts(self, seed: int | str) -> tuple[Precinct, ...]:
        random_ = rng(seed, self.code, "precincts")
        result: list[Precinct] = []
        for region in self.regions:
            areas: tuple[AreaKey, ...] = (NATIONAL, ("KRAJ", region.number))
            for voters in precinct_sizes(random_, region.voters, region.precincts):
                # The simulation names no municipality: CIS_OBEC 0, precincts numbered through the country.
                result.append(Precinct(0, len(result) + 1, areas, ballot(random_, voters, region.rates)))
        return tuple(result)

    def index(self, party: int) -> int:
        return next(i for i, p in enumerate(self.parties) if p.number == party)

    def seats(self, region: Region, tally: Tally) -> dict[int, int]:
        """KSTRANA -> seats on the votes so far: D'Hondt among the lists at or above the threshold."""
        votes = [tally.votes[self.index(p)] for p in region.parties]
        eligible = [v if tally.valid > 0 and v * 100 >= self.threshold * tally.valid else 0 for v in votes]
        return {p: s for p, s in zip(region.parties, dhondt(region.seats, eligible), strict=True) if s}

    # -- the simulation's hooks --------------------------------------------------------------------------

    def areas(self, seed: int | str) -> list[tuple[str, str]]:
        return [(f"region {r.number} ({r.name})", f"kraje/vysledky_kraj_{r.number}.xml") for r in self.regions]

    def render_national(self, rounds: Sequence[Any], round_: Any, n: int, seed: int | str, at: datetime) -> bytes:
        state = round_.count.state(n)
        lines = [root("VYSLEDKY", NAMESPACE, "kz_vysledky.xsd", [("DATUM_CAS_GENEROVANI", timestamp(at))], True)]
        for region in self.regions:
            lines += self._region(region, state, round_.count)
        lines.append("</VYSLEDKY>")
        return document(ENCODING, lines)

    def render_area(
        self, rounds: Sequence[Any], round_: Any, file: str, n: int, seed: int | str, at: datetime
    ) -> bytes:
        number = int(file.rpartition("_")[2].removesuffix(".xml"))
        region = next(r for r in self.regions if r.number == number)
        stamp = [("DATUM_CAS_GENEROVANI", timestamp(at))]
        lines = [root("VYSLEDKY_KRAJ", NAMESPACE, "kz_vysledky_kraj.xsd", stamp, False)]
        lines += self._region(region, round_.count.state(n), round_.count)
        lines.append("</VYSLEDKY_KRAJ>")
        return document(ENCODING, lines)

    def render_batch(self, count: Count, batch: Batch, start_time: datetime, seed: int | str) -> bytes:
        ballots = {r.number: [self.index(p) for p in r.parties] for r in self.regions}

        def on_ballot(precinct: Precinct) -> list[int]:
            return ballots[int(next(key for kind, key in precinct.areas if kind == "KRAJ"))]

        options = [p.number for p in self.parties]
        return render_batch.batch(
            NAMESPACE, "kz_vysledky_okrsky.xsd", count, batch, start_time, "KSTRANA", options, ballot=on_ballot
        )

    def _region(self, region: Region, state: Mapping[AreaKey, Tally], count: Count) -> list[str]:
        area: AreaKey = ("KRAJ", region.number)
        tally = state[area]
        head = [("CIS_KRAJ", region.number), ("NAZ_KRAJ", region.name), ("POCMANDATU", region.seats)]
        lines = [start("KRAJ", head), empty("UCAST", turnout(tally, count.totals[area]))]
        won = self.seats(region, tally)
        for number in region.parties:
            party = self.parties[self.index(number)]
            votes = tally.votes[self.index(number)]
            head = [("KSTRANA", party.number), ("NAZ_STR", party.name)]
            if party.code is not None:
                head.append(("VSTRANA", party.code))
            values: list[tuple[str, object]] = [("HLASY", votes), ("PROC_HLASU", percent.share(votes, tally.valid))]
            if won.get(number):
                values += [("MANDATY", won[number]), ("PROC_MANDATU", percent.rate(won[number], region.seats))]
            lines += [start("STRANA", head), empty("HODNOTY_STRANA", values), "</STRANA>"]
        lines.append("</KRAJ>")
        return lines


@cache
def kz2028_election() -> KzElection:
    data = load_json("kz2028.json")
    chamber = ps2021_election()
    by_number = {r.number: r for r in chamber.regions}
    regions = []
    for row in data["regions"]:
        base = by_number[int(row["number"])]
        regions.append(
            Region(
                base.number, str(row["name"]), int(row["seats"]), base.precincts, base.voters, base.parties, base.rates
            )
        )
    parties = tuple(Party(p.number, p.name, p.code, int(data["threshold_percent"])) for p in chamber.parties)
    return KzElection("kz2028", parties, tuple(regions), int(data["threshold_percent"]))
