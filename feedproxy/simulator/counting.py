"""The count: which precinct reports in which batch, and the running totals after every batch.

Everything is fixed when a ``Count`` is built, from the precincts and a seed; documents are then read
off the state after batch ``n``. Batch ``k`` (1..B) is published at ``duration * k / B`` seconds after the
start, so at ``duration`` every precinct is in and the totals are final.

A repeated precinct (``OPAKOVANE="1"``) corrects an earlier record of the same precinct. Its first
record is short of a few valid votes for one option; the repeat brings the true figures, so totals
still never decrease.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from feedproxy.simulator.apportion import largest_remainder

#: An area documents report on: ("CR", 0), ("KRAJ", 13), ("OKRES", "CZ0722"), ("OBEC", 550736).
AreaKey = tuple[str, int | str]
NATIONAL: AreaKey = ("CR", 0)
#: The most batches a count may have: every state is kept in memory.
MAX_BATCHES = 1000


def rng(*label: object) -> random.Random:
    """A generator for one purpose; a string seed is hashed the same way on every run and platform."""
    return random.Random(":".join(str(part) for part in label))  # noqa: S311 - simulation, not secrets


@dataclass(frozen=True, slots=True)
class Counts:
    """One precinct's figures: registered voters, envelopes issued and returned, valid votes, votes per option."""

    voters: int
    issued: int
    returned: int
    valid: int
    votes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Precinct:
    obec: int  #: CIS_OBEC (0 when the documents never name it)
    okrsek: int  #: CIS_OKRSEK
    areas: tuple[AreaKey, ...]  #: every area whose totals include this precinct
    counts: Counts  #: the final, true figures
    delay: float = 0.0  #: pushes the precinct towards the end of the count (abroad, the big cities)


@dataclass(frozen=True, slots=True)
class Record:
    """A precinct as it appears in a batch."""

    precinct: int  #: index into ``Count.precincts``
    order: int  #: PORADI_ZPRAC, over the whole count
    processed_at: float  #: seconds after the start (DATUM_CAS_ZPRAC)
    repeated: bool  #: OPAKOVANE
    counts: Counts


@dataclass(frozen=True, slots=True)
class Batch:
    number: int  #: PORADI_DAVKY
    published_at: float  #: seconds after the start
    records: tuple[Record, ...]
    processed: int  #: OKRSKY_ZPRAC: distinct precincts counted after this batch


@dataclass(frozen=True, slots=True)
class Tally:
    """An area's running totals."""

    precincts: int
    voters: int
    issued: int
    returned: int
    valid: int
    votes: tuple[int, ...]


class Count:
    def __init__(
        self,
        precincts: Sequence[Precinct],
        *,
        duration: float,
        batches: int,
        seed: int | str,
        repeats: int = 0,
    ) -> None:
        if duration <= 0:
            raise ValueError("duration must be positive")
        if not 1 <= batches <= min(MAX_BATCHES, len(precincts)):
            raise ValueError(f"batches must be between 1 and {min(MAX_BATCHES, len(precincts))}")
        if repeats < 0:
            raise ValueError("repeats must not be negative")
        self.precincts = tuple(precincts)
        self.duration = float(duration)
        self.options = len(self.precincts[0].counts.votes)
        #: OKRSKY_CELKEM of every area.
        self.totals: dict[AreaKey, int] = {}
        for precinct in self.precincts:
            for area in precinct.areas:
                self.totals[area] = self.totals.get(area, 0) + 1
        self.batches: tuple[Batch, ...] = self._schedule(batches, rng(seed, "schedule"), repeats)
        self._states = self._accumulate()

    def published(self, at_elapsed: float) -> int:
        """How many batches are out ``at_elapsed`` seconds after the start (0 before the first)."""
        if at_elapsed <= 0:
            return 0
        count = len(self.batches)
        n = min(count, math.floor(at_elapsed * count / self.duration + 1e-9))
        while n < count and self.batches[n].published_at <= at_elapsed:
            n += 1
        while n > 0 and self.batches[n - 1].published_at > at_elapsed:
            n -= 1
        return n

    def published_at(self, n: int) -> float:
        """When the state after batch ``n`` began: 0.0 for the empty state."""
        return 0.0 if n <= 0 else self.batches[n - 1].published_at

    def state(self, n: int) -> Mapping[AreaKey, Tally]:
        """Totals of every area after batches 1..n."""
        return self._states[max(0, min(n, len(self.batches)))]

    def _schedule(self, batches: int, random_: random.Random, repeats: int) -> tuple[Batch, ...]:
        # Small precincts report first, big ones and those abroad last, with plenty of randomness.
        mean_voters = sum(p.counts.voters for p in self.precincts) / len(self.precincts) or 1.0
        keys = [random_.random() + 0.6 * p.counts.voters / mean_voters + p.delay for p in self.precincts]
        order = sorted(range(len(self.precincts)), key=lambda i: (keys[i], i))
        bounds = [0, *itertools.accumulate(batch_sizes(len(order), batches))]
        firsts = [order[a:b] for a, b in itertools.pairwise(bounds)]
        short, again = self._plan_repeats(firsts, random_, repeats)
        result = []
        order_number = 0
        processed = 0
        for k in range(batches):
            opened = self.duration * k / batches
            published = self.duration * (k + 1) / batches
            entries = [(index, False) for index in firsts[k]]
            for index in again[k]:
                entries.insert(random_.randrange(len(entries) + 1), (index, True))
            records = []
            for position, (index, repeated) in enumerate(entries, start=1):
                order_number += 1
                counts = self.precincts[index].counts if repeated else short.get(index, self.precincts[index].counts)
                at = opened + (published - opened) * position / len(entries)
                records.append(Record(index, order_number, at, repeated, counts))
            processed += len(firsts[k])
            result.append(Batch(k + 1, published, tuple(records), processed))
        return tuple(result)

    def _plan_repeats(
        self, firsts: list[list[int]], random_: random.Random, repeats: int
    ) -> tuple[dict[int, Counts], list[list[int]]]:
        """Precincts whose first record falls short by a few votes, and the later batch each is sent again in."""
        batches = len(firsts)
        short: dict[int, Counts] = {}
        again: list[list[int]] = [[] for _ in range(batches)]
        batch_of = {i: k for k in range(batches - 1) for i in firsts[k]}
        for index in random_.sample(sorted(batch_of), min(repeats, len(batch_of))):
            counts = self.precincts[index].counts
            option = max(range(self.options), key=lambda j: (counts.votes[j], -j))
            missing = min(counts.votes[option], 1 + random_.randrange(3))
            if missing == 0:
                continue
            votes = list(counts.votes)
            votes[option] -= missing
            short[index] = replace(counts, valid=counts.valid - missing, votes=tuple(votes))
            again[random_.randrange(batch_of[index] + 1, batches)].append(index)
        return short, again

    def _accumulate(self) -> list[dict[AreaKey, Tally]]:
        width = 5 + self.options  # precincts, voters, issued, returned, valid, votes...
        sums = {area: [0] * width for area in self.totals}
        states = [self._freeze(sums)]
        seen: dict[int, Counts] = {}
        for batch in self.batches:
            for record in batch.records:
                before = seen.get(record.precinct)
                delta = _vector(record.counts)
                if before is None:
                    delta[0] = 1
                else:
                    delta = [now - then for now, then in zip(delta, _vector(before), strict=True)]
                seen[record.precinct] = record.counts
                for area in self.precincts[record.precinct].areas:
                    row = sums[area]
                    for i, value in enumerate(delta):
                        row[i] += value
            states.append(self._freeze(sums))
        return states

    @staticmethod
    def _freeze(sums: Mapping[AreaKey, list[int]]) -> dict[AreaKey, Tally]:
        return {area: Tally(r[0], r[1], r[2], r[3], r[4], tuple(r[5:])) for area, r in sums.items()}


def _vector(counts: Counts) -> list[int]:
    return [0, counts.voters, counts.issued, counts.returned, counts.valid, *counts.votes]


def batch_sizes(precincts: int, batches: int) -> list[int]:
    """Precincts per batch: a quick rise, a peak about a fifth of the way in, a long tail (as on election night).

    Every batch has at least one precinct.
    """
    weights = [x**1.2 * (1 - x) ** 3 + 0.01 for x in ((k + 0.5) / batches for k in range(batches))]
    return [1 + extra for extra in largest_remainder(precincts - batches, weights)]
