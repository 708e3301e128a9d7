"""The presidential election (prez2023): candidates, the precinct register, and invented precinct results."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from feedproxy.simulator.counting import NATIONAL, Precinct, rng
from feedproxy.simulator.data import load_json, prez2023, prez2023_register_rows
from feedproxy.simulator.synth import Rates, ballot, precinct_sizes

NAMESPACE = "http://www.volby.cz/prezident/"


@dataclass(frozen=True, slots=True)
class Candidate:
    number: int  #: PORADOVE_CISLO
    first_name: str
    surname: str
    title_before: str
    title_after: str


@dataclass(frozen=True, eq=False)  # compared by identity: cheap to hash for the cache
class PrezElection:
    code: str
    round: int
    candidates: tuple[Candidate, ...]
    #: (CIS_OBEC, CIS_OKRSEK) of every precinct, in register order.
    register: tuple[tuple[int, int], ...]
    rates: Rates
    voters: int  #: ZAPSANI_VOLICI at 100 %
    abroad: int  #: CIS_OBEC of the precincts abroad

    kind = "prez"

    @cache  # noqa: B019 - elections are module-level singletons
    def precincts(self, seed: int | str) -> tuple[Precinct, ...]:
        # Round 1 keeps its historical label, so its documents do not change with the run-off's addition.
        label = ("precincts",) if self.round == 1 else (self.round, "precincts")
        random_ = rng(seed, self.code, *label)
        scale = [0.3 if obec == self.abroad else 1.0 for obec, _ in self.register]
        sizes = precinct_sizes(random_, self.voters, len(self.register), scale)
        return tuple(
            Precinct(
                obec, okrsek, (NATIONAL,), ballot(random_, voters, self.rates), 1.0 if obec == self.abroad else 0.0
            )
            for (obec, okrsek), voters in zip(self.register, sizes, strict=True)
        )


@cache
def prez2023_election() -> PrezElection:
    register = []
    for obec, first, count in prez2023_register_rows():
        register.extend((obec, okrsek) for okrsek in range(first, first + count))
    if len(register) != prez2023.OKRSKY_CELKEM:
        raise ValueError("the precinct register does not match OKRSKY_CELKEM")
    d = prez2023
    return PrezElection(
        code="prez2023",
        round=1,
        candidates=tuple(Candidate(*row[:5]) for row in d.CANDIDATES),
        register=tuple(register),
        rates=Rates.of(
            d.ZAPSANI_VOLICI, d.VYDANE_OBALKY, d.ODEVZDANE_OBALKY, d.PLATNE_HLASY, [row[5] for row in d.CANDIDATES]
        ),
        voters=d.ZAPSANI_VOLICI,
        abroad=d.CIS_OBEC_ZAHRANICI,
    )


@cache
def prez2023_runoff() -> PrezElection:
    """Round 2: the two candidates of the real run-off over the same precinct register, its own results."""
    first = prez2023_election()
    data = load_json("prez2023_round2.json")
    candidates = tuple(
        Candidate(c["number"], c["first_name"], c["surname"], c["title_before"], c["title_after"])
        for c in data["candidates"]
    )
    rates = Rates.of(
        data["registered"], data["issued"], data["returned"], data["valid"], [c["votes"] for c in data["candidates"]]
    )
    return PrezElection(
        code=first.code,
        round=int(data["round"]),
        candidates=candidates,
        register=first.register,
        rates=rates,
        voters=int(data["registered"]),
        abroad=first.abroad,
    )
