"""One third of the Senate (senat2028): 27 districts, invented candidates, a run-off where nobody has a majority.

The districts are data (``data/senat2028.csv``: number, name, approximate voters and precincts); candidates
are invented from ``data/senat2028_candidates.json`` the same way on every run. Round 2 is its own count:
in each district where nobody won more than half of the valid votes, the two leaders of round 1's final
result, with their own figures and batches.

Documents, as the office's Senate files (``se_vysledky.xsd``; the 2014 files declare the namespace
``http://www.w3.org/namespace/``, kept here):

- ``vysledky.xml``: root VYSLEDKY, an ``OBVOD`` (``CISLO``, ``NAZEV``) per district with a ``KANDIDAT`` per
  candidate (``HLASY_1KOLO``, ``HLASY_PROC_1KOLO``, ``ZVOLEN_1KOLO``; in the run-off's documents the two
  finalists also ``HLASY_2KOLO``, ``HLASY_PROC_2KOLO``, ``ZVOLEN_2KOLO``) and ``UCAST KOLO="1"`` (and ``"2"``).
- ``obvody/vysledky_obvod_<CISLO>.xml``: the same root with the one district.
- precinct batches: ``OKRSEK`` with ``CIS_OBVODU`` and ``HLASY_OKRSEK PORADOVE_CISLO``; ``DAVKA`` with ``KOLO``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from feedproxy.simulator import percent, render_batch
from feedproxy.simulator.counting import NATIONAL, AreaKey, Batch, Count, Precinct, rng
from feedproxy.simulator.data import load_json, read_text
from feedproxy.simulator.synth import Rates, ballot, precinct_sizes
from feedproxy.simulator.ucast import turnout
from feedproxy.simulator.xmlwriter import document, empty, root, start, timestamp

NAMESPACE = "http://www.w3.org/namespace/"
SCHEMA = "se_vysledky.xsd"
ENCODING = "UTF-8"


@dataclass(frozen=True, slots=True)
class District:
    number: int  #: CISLO (the district's number, 1-81)
    name: str  #: NAZEV
    voters: int
    precincts: int


@dataclass(frozen=True, slots=True)
class Candidate:
    district: int
    number: int  #: PORADOVE_CISLO within the district
    first_name: str
    surname: str
    title_before: str
    title_after: str


@dataclass(frozen=True, eq=False)
class SenateElection:
    code: str
    round: int
    districts: tuple[District, ...]
    candidates: tuple[Candidate, ...]  #: every candidate of round 1, by district and number
    turnout: Mapping[int, float]  #: per district, round 1
    weights: Mapping[tuple[int, int], float]  #: (district, number) -> relative strength

    kind = "senat"

    # -- who stands in this round ------------------------------------------------------------------------

    def options(self, seed: int | str) -> tuple[Candidate, ...]:
        """The candidates this round's votes are counted for, in vote-vector order."""
        if self.round == 1:
            return self.candidates
        return tuple(c for pair in self.finalists(seed).values() for c in pair)

    @cache  # noqa: B019 - elections are module-level singletons
    def final_first_round(self, seed: int | str) -> dict[int, tuple[int, tuple[int, ...]]]:
        """Per district: round 1's valid votes and votes per candidate at 100 % (the count ends at the true figures)."""
        sums: dict[int, list[int]] = {}
        index = {c: i for i, c in enumerate(self.candidates)}
        for precinct in self._first().precincts(seed):
            district = _district_of(precinct)
            row = sums.setdefault(district, [0] * (1 + len(self.candidates)))
            row[0] += precinct.counts.valid
            for c in self.candidates:
                if c.district == district:
                    row[1 + index[c]] += precinct.counts.votes[index[c]]
        return {d: (row[0], tuple(row[1:])) for d, row in sums.items()}

    @cache  # noqa: B019
    def finalists(self, seed: int | str) -> dict[int, tuple[Candidate, Candidate]]:
        """Districts without a round-1 majority and their two leaders (by votes, then ballot number)."""
        result: dict[int, tuple[Candidate, Candidate]] = {}
        for district, (valid, votes) in sorted(self.final_first_round(seed).items()):
            own = [(votes[i], c) for i, c in enumerate(self.candidates) if c.district == district]
            own.sort(key=lambda vc: (-vc[0], vc[1].number))
            if own[0][0] * 2 <= valid:
                first, second = sorted((own[0][1], own[1][1]), key=lambda c: c.number)
                result[district] = (first, second)
        return result

    def _first(self) -> SenateElection:
        return self if self.round == 1 else senat2028_election()

    # -- precincts ---------------------------------------------------------------------------------------

    @cache  # noqa: B019
    def precincts(self, seed: int | str) -> tuple[Precinct, ...]:
        if self.round == 1:
            return self._first_round_precincts(seed)
        finalists = self.finalists(seed)
        options = self.options(seed)
        random_ = rng(seed, self.code, 2, "precincts")
        valid_votes = self.final_first_round(seed)
        rates: dict[int, Rates] = {}
        for district, pair in finalists.items():
            votes = valid_votes[district][1]
            strength = {c: votes[self.candidates.index(c)] * math.exp(random_.gauss(0.0, 0.25)) for c in pair}
            shares = tuple(strength[c] / sum(strength.values()) if c in pair else 0.0 for c in options)
            rates[district] = Rates(self.turnout[district] * 0.7, 0.997, 0.99, shares)
        result = []
        for precinct in self._first().precincts(seed):
            district = _district_of(precinct)
            if district in rates:
                counts = ballot(random_, precinct.counts.voters, rates[district], spread=0.3)
                result.append(Precinct(precinct.obec, precinct.okrsek, precinct.areas, counts, precinct.delay))
        return tuple(result)

    def _first_round_precincts(self, seed: int | str) -> tuple[Precinct, ...]:
        random_ = rng(seed, self.code, "precincts")
        result: list[Precinct] = []
        for district in self.districts:
            own = {(c.district, c.number) for c in self.candidates if c.district == district.number}
            total = sum(self.weights[key] for key in own)
            shares = tuple(
                self.weights[(c.district, c.number)] / total if (c.district, c.number) in own else 0.0
                for c in self.candidates
            )
            rates = Rates(self.turnout[district.number], 0.997, 0.985, shares)
            areas: tuple[AreaKey, ...] = (NATIONAL, ("OBVOD", district.number))
            for voters in precinct_sizes(random_, district.voters, district.precincts):
                # The simulation names no municipality: CIS_OBEC 0, precincts numbered through the country.
                result.append(Precinct(0, len(result) + 1, areas, ballot(random_, voters, rates)))
        return tuple(result)

    # -- the simulation's hooks --------------------------------------------------------------------------

    def areas(self, seed: int | str) -> list[tuple[str, str]]:
        standing = {d.number for d in self.districts} if self.round == 1 else set(self.finalists(seed))
        return [
            (f"Senate district {d.number} ({d.name})", f"obvody/vysledky_obvod_{d.number}.xml")
            for d in self.districts
            if d.number in standing
        ]

    def render_national(self, rounds: Sequence[Any], round_: Any, n: int, seed: int | str, at: datetime) -> bytes:
        return self._document(rounds, round_, n, seed, at, [d.number for d in self.districts])

    def render_area(
        self, rounds: Sequence[Any], round_: Any, file: str, n: int, seed: int | str, at: datetime
    ) -> bytes:
        return self._document(rounds, round_, n, seed, at, [int(file.rpartition("_")[2].removesuffix(".xml"))])

    def render_batch(self, count: Count, batch: Batch, start_time: datetime, seed: int | str) -> bytes:
        options = self.options(seed)
        by_district: dict[int, list[int]] = {}
        for i, c in enumerate(options):
            by_district.setdefault(c.district, []).append(i)
        return render_batch.batch(
            NAMESPACE,
            "se_vysledky_okrsky.xsd",
            count,
            batch,
            start_time,
            "PORADOVE_CISLO",
            [c.number for c in options],
            davka=[("KOLO", self.round)],
            precinct=lambda p: [("CIS_OBVODU", _district_of(p))],
            ballot=lambda p: by_district[_district_of(p)],
        )

    def _document(
        self, rounds: Sequence[Any], round_: Any, n: int, seed: int | str, at: datetime, districts: list[int]
    ) -> bytes:
        first = rounds[0]
        first_state = first.count.state(n if round_.number == 1 else len(first.count.batches))
        second = rounds[1] if round_.number == 2 else None
        second_state = second.count.state(n) if second is not None else None
        finalists = self.finalists(seed) if second is not None else {}
        second_options = self.options(seed) if second is not None else ()
        lines = [root("VYSLEDKY", NAMESPACE, SCHEMA, [("DATUM_CAS_GENEROVANI", timestamp(at))], True)]
        by_number = {d.number: d for d in self.districts}
        for number in districts:
            district = by_number[number]
            area: AreaKey = ("OBVOD", number)
            lines.append(start("OBVOD", [("CISLO", number), ("NAZEV", district.name)]))
            tally = first_state[area]
            own = [(i, c) for i, c in enumerate(self.candidates) if c.district == number]
            verdicts = _first_round_verdicts([tally.votes[i] for i, _ in own], tally.valid)
            runoff: dict[int, tuple[int, str, str]] = {}
            if second_state is not None and number in finalists:
                tally2 = second_state[area]
                pair = [(i, c) for i, c in enumerate(second_options) if c.district == number]
                votes2 = [tally2.votes[i] for i, _ in pair]
                leader = max(range(2), key=lambda k: (votes2[k], -k))
                decided = tally2.valid > 0 and votes2[0] != votes2[1]
                for k, (_, c) in enumerate(pair):
                    verdict = "ZVOLEN" if decided and k == leader else "NEZVOLEN"
                    runoff[c.number] = (votes2[k], percent.share(votes2[k], tally2.valid), verdict)
            for (i, c), verdict in zip(own, verdicts, strict=True):
                pairs: list[tuple[str, object]] = [
                    ("PORADOVE_CISLO", c.number),
                    ("JMENO", c.first_name),
                    ("PRIJMENI", c.surname),
                    ("TITULPRED", c.title_before),
                    ("TITULZA", c.title_after),
                    ("HLASY_1KOLO", tally.votes[i]),
                    ("HLASY_PROC_1KOLO", percent.share(tally.votes[i], tally.valid)),
                    ("ZVOLEN_1KOLO", verdict),
                ]
                if c.number in runoff:
                    votes, share, won = runoff[c.number]
                    pairs += [("HLASY_2KOLO", votes), ("HLASY_PROC_2KOLO", share), ("ZVOLEN_2KOLO", won)]
                lines.append(empty("KANDIDAT", pairs))
            lines.append(empty("UCAST", [("KOLO", 1), *turnout(tally, first.count.totals[area])]))
            if second_state is not None and number in finalists:
                tally2 = second_state[area]
                lines.append(empty("UCAST", [("KOLO", 2), *turnout(tally2, second.count.totals[area])]))
            lines.append("</OBVOD>")
        lines.append("</VYSLEDKY>")
        return document(ENCODING, lines)


def _first_round_verdicts(votes: list[int], valid: int) -> list[str]:
    """ZVOLEN_1KOLO on the votes so far: ZVOLEN for more than half, else the two leaders go to round 2."""
    verdicts = ["NEZVOLEN"] * len(votes)
    if valid <= 0:
        return verdicts
    ranked = sorted(range(len(votes)), key=lambda i: (-votes[i], i))
    if votes[ranked[0]] * 2 > valid:
        verdicts[ranked[0]] = "ZVOLEN"
    else:
        for i in ranked[:2]:
            verdicts[i] = "2.KOLO"
    return verdicts


def _district_of(precinct: Precinct) -> int:
    return int(next(key for kind, key in precinct.areas if kind == "OBVOD"))


@cache
def senat2028_election() -> SenateElection:
    rows = read_text("senat2028.csv")
    reader = csv.DictReader(io.StringIO("\n".join(line for line in rows.splitlines() if not line.startswith("#"))))
    districts = tuple(District(int(r["number"]), r["name"], int(r["voters"]), int(r["precincts"])) for r in reader)
    names = load_json("senat2028_candidates.json")
    random_ = rng("senat2028", "candidates")
    candidates: list[Candidate] = []
    weights: dict[tuple[int, int], float] = {}
    turnout_: dict[int, float] = {}
    for district in districts:
        turnout_[district.number] = 0.30 + 0.15 * random_.random()
        for number in range(1, random_.randint(4, 8) + 1):
            female = random_.random() < 0.35
            sex = "female" if female else "male"
            candidates.append(
                Candidate(
                    district.number,
                    number,
                    random_.choice(names["first_names"][sex]),
                    random_.choice(names["surnames"][sex]),
                    random_.choice(names["titles_before"]),
                    random_.choice(names["titles_after"]),
                )
            )
            weights[(district.number, number)] = math.exp(random_.gauss(0.0, 1.0))
    return SenateElection("senat2028", 1, districts, tuple(candidates), turnout_, weights)


@cache
def senat2028_runoff() -> SenateElection:
    first = senat2028_election()
    return SenateElection(first.code, 2, first.districts, first.candidates, first.turnout, first.weights)
