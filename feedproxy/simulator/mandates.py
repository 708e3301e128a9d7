"""Provisional seats and elected deputies from the votes counted so far (Chamber of Deputies).

A simplification of the law, enough for documents that look and add up right: lists above their national
threshold share each region's fixed seats by D'Hondt (2021 used an Imperiali quota and a national second
scrutiny, and set the regions' seats from the turnout). Within a list, candidates with at least 5 % of the
list's regional votes as preferential votes come first, by those votes; the rest follow in list order.
Seats are recomputed from scratch at every state, so unlike the counts they may go down as well as up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from feedproxy.simulator.apportion import dhondt
from feedproxy.simulator.counting import NATIONAL, AreaKey, Tally
from feedproxy.simulator.ps import PREFERENCE_QUOTA, Candidate, PsElection


@dataclass(frozen=True, slots=True)
class Deputy:
    candidate: Candidate
    preferential_votes: int  #: PREDNOSTNI_HLASY
    list_votes: int  #: the list's votes in the candidate's region: the base of PREDNOSTNI_HLASY_PROC


@dataclass(frozen=True)
class Seats:
    #: (CIS_KRAJ, KSTRANA) -> seats won; only lists with seats.
    won: dict[tuple[int, int], int]
    #: (CIS_KRAJ, KSTRANA) -> elected deputies, by list number.
    deputies: dict[tuple[int, int], tuple[Deputy, ...]]

    def national(self, party: int) -> int:
        return sum(n for (_, p), n in self.won.items() if p == party)


def allocate(election: PsElection, state: Mapping[AreaKey, Tally], seed: int | str) -> Seats:
    national = state[NATIONAL]
    eligible = {
        p.number
        for i, p in enumerate(election.parties)
        if national.valid > 0 and national.votes[i] * 100 >= p.threshold * national.valid
    }
    won: dict[tuple[int, int], int] = {}
    deputies: dict[tuple[int, int], tuple[Deputy, ...]] = {}
    for region in election.regions:
        tally = state[("KRAJ", region.number)]
        lists = [p for p in region.parties if p in eligible]
        votes = [tally.votes[election.party_index(p)] for p in lists]
        for party, seats, party_votes in zip(lists, dhondt(region.seats, votes), votes, strict=True):
            if seats:
                won[(region.number, party)] = seats
                chosen = _elect(election.candidates(seed, party, region.number), party_votes, seats)
                deputies[(region.number, party)] = chosen
    return Seats(won, deputies)


def _elect(candidates: tuple[Candidate, ...], party_votes: int, seats: int) -> tuple[Deputy, ...]:
    scored = [Deputy(c, c.preferential_votes(party_votes), party_votes) for c in candidates]
    preferred = sorted(
        (d for d in scored if d.preferential_votes * 100 >= PREFERENCE_QUOTA * party_votes > 0),
        key=lambda d: (-d.preferential_votes, d.candidate.number),
    )
    rest = [d for d in scored if d not in preferred]
    chosen = [*preferred, *rest][:seats]
    return tuple(sorted(chosen, key=lambda d: d.candidate.number))
