"""The Chamber of Deputies elections (ps2021, ps2017): parties, regions, candidate lists, invented precincts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from feedproxy.simulator.counting import NATIONAL, Precinct, rng
from feedproxy.simulator.data import PsTables, ps_tables
from feedproxy.simulator.synth import Rates, ballot, precinct_sizes

NAMESPACE = "http://www.volby.cz/ps/"
#: Seats in the Chamber.
SEATS = 200
#: Share of preferential votes (percent of the party's votes in the region) that moves a candidate up the list.
PREFERENCE_QUOTA = 5


@dataclass(frozen=True, slots=True)
class Party:
    number: int  #: KSTRANA
    name: str  #: NAZ_STR
    code: int | None  #: VSTRANA (the office's party code; absent before 2021)
    threshold: int  #: percent of the national valid votes a list needs for seats (5, or 8/11 for coalitions)


@dataclass(frozen=True, slots=True)
class Region:
    number: int  #: CIS_KRAJ
    name: str  #: NAZ_KRAJ
    seats: int  #: POCMANDATU
    precincts: int  #: OKRSKY_CELKEM
    voters: int  #: ZAPSANI_VOLICI at 100 %
    parties: tuple[int, ...]  #: KSTRANA on this region's ballot, in the document's order
    rates: Rates


@dataclass(frozen=True, slots=True)
class Candidate:
    party: int  #: KSTRANA
    region: int  #: CIS_KRAJ
    number: int  #: PORADOVE_CISLO on the list
    first_name: str
    surname: str
    title_before: str
    title_after: str
    #: Preferential votes as a fraction of the party's votes in the region (numerator, denominator).
    preference: tuple[int, int]

    def preferential_votes(self, party_votes: int) -> int:
        return party_votes * self.preference[0] // self.preference[1]


@dataclass(frozen=True, slots=True)
class Municipality:
    code: int  #: CIS_OBEC
    name: str  #: NAZ_OBEC
    kind: str  #: TYP_OBEC
    precincts: int
    voters: int  #: at 100 %


@dataclass(frozen=True, slots=True)
class District:
    nuts: str  #: NUTS_OKRES
    name: str  #: NAZ_OKRES
    region: int  #: CIS_KRAJ
    municipalities: tuple[Municipality, ...]


@dataclass(frozen=True, eq=False)  # compared by identity: cheap to hash for the caches
class PsElection:
    code: str
    encoding: str  #: as the real document declares it
    parties: tuple[Party, ...]
    regions: tuple[Region, ...]
    elected: tuple[Candidate, ...]  #: the real elected deputies: the head of each simulated list
    districts: dict[str, District]

    kind = "ps"

    @cache  # noqa: B019 - elections are module-level singletons
    def precincts(self, seed: int | str) -> tuple[Precinct, ...]:
        random_ = rng(seed, self.code, "precincts")
        result: list[Precinct] = []
        unnamed = 0
        for region in self.regions:
            region_area = ("KRAJ", region.number)
            named = [(d, m) for d in self.districts.values() if d.region == region.number for m in d.municipalities]
            for district, municipality in named:
                sizes = precinct_sizes(random_, municipality.voters, municipality.precincts)
                areas = (NATIONAL, region_area, ("OKRES", district.nuts), ("OBEC", municipality.code))
                for okrsek, voters in enumerate(sizes, start=1):
                    result.append(Precinct(municipality.code, okrsek, areas, ballot(random_, voters, region.rates)))
            rest = region.precincts - sum(m.precincts for _, m in named)
            rest_voters = region.voters - sum(m.voters for _, m in named)
            # Precincts of municipalities the data does not name: CIS_OBEC 0, numbered on through the country
            # so that (CIS_OBEC, CIS_OKRSEK) stays unique in the batches.
            for voters in precinct_sizes(random_, rest_voters, rest):
                unnamed += 1
                result.append(Precinct(0, unnamed, (NATIONAL, region_area), ballot(random_, voters, region.rates)))
        return tuple(result)

    @cache  # noqa: B019 - elections are module-level singletons
    def candidates(self, seed: int | str, party: int, region: int) -> tuple[Candidate, ...]:
        """A list long enough for every seat of the region: the real elected deputies, then invented ones."""
        seats = next(r.seats for r in self.regions if r.number == region)
        real = sorted((c for c in self.elected if c.party == party and c.region == region), key=lambda c: c.number)
        taken = {c.number for c in real}
        random_ = rng(seed, self.code, "candidates", party, region)
        names = _name_pool(self)
        invented = []
        number = 0
        while len(real) + len(invented) < seats:
            number += 1
            if number in taken:
                continue
            female = random_.random() < 0.35
            invented.append(
                Candidate(
                    party,
                    region,
                    number,
                    random_.choice(names.first[female]),
                    random_.choice(names.surnames[female]),
                    random_.choice(names.titles),
                    "",
                    (random_.randint(3, 30), 1000),
                )
            )
        return tuple(sorted([*real, *invented], key=lambda c: c.number))

    def party_index(self, number: int) -> int:
        return next(i for i, p in enumerate(self.parties) if p.number == number)


@dataclass(frozen=True)
class _Names:
    first: dict[bool, tuple[str, ...]]
    surnames: dict[bool, tuple[str, ...]]
    titles: tuple[str, ...]


@cache
def _name_pool(election: PsElection) -> _Names:
    """First names, surnames and titles of the real deputies, split by the Czech feminine surname ending."""
    first: dict[bool, set[str]] = {True: set(), False: set()}
    surnames: dict[bool, set[str]] = {True: set(), False: set()}
    for c in election.elected:
        female = c.surname.endswith("á")
        first[female].add(c.first_name)
        surnames[female].add(c.surname)
    titles = sorted({c.title_before for c in election.elected})
    return _Names(
        {k: tuple(sorted(v)) for k, v in first.items()},
        {k: tuple(sorted(v)) for k, v in surnames.items()},
        tuple(titles),
    )


def _build(code: str, coalition_thresholds: dict[int, int]) -> PsElection:
    data: PsTables = ps_tables(code)
    parties = tuple(Party(n, name, vstrana, coalition_thresholds.get(n, 5)) for n, name, vstrana in data.parties)
    order = [p.number for p in parties]
    regions = []
    party_votes: dict[tuple[int, int], int] = {}
    for number, name, seats, precincts, voters, issued, returned, valid, votes in data.kraje:
        by_party = dict(votes)
        party_votes.update({(party, number): v for party, v in votes})
        rates = Rates.of(voters, issued, returned, valid, [by_party.get(p, 0) for p in order])
        regions.append(Region(number, name, seats, precincts, voters, tuple(p for p, _ in votes), rates))
    elected = tuple(
        Candidate(party, region, number, first, surname, before, after, (pref, party_votes[(party, region)]))
        for party, region, number, first, surname, before, after, pref in data.poslanci
    )
    districts = {
        nuts: District(nuts, name, region, tuple(Municipality(*m) for m in municipalities))
        for nuts, (name, region, municipalities) in data.okresy.items()
    }
    return PsElection(code, data.encoding, parties, tuple(regions), elected, districts)


@cache
def ps2021_election() -> PsElection:
    # Coalitions: SPOLU (three parties) needed 11 %, PIRÁTI a STAROSTOVÉ (two) 8 %.
    return _build("ps2021", {13: 11, 17: 8})


@cache
def ps2017_election() -> PsElection:
    return _build("ps2017", {})
