"""Invented precinct figures around real totals: sizes, turnout, spoilt ballots and votes per option.

Each precinct varies around its region's real rates, so the national result at 100 % lands close to the
real one without copying any real precinct.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from feedproxy.simulator.apportion import largest_remainder
from feedproxy.simulator.counting import Counts


@dataclass(frozen=True, slots=True)
class Rates:
    """A region's real behaviour at 100 %."""

    turnout: float  #: envelopes issued / registered voters
    returned: float  #: envelopes returned / issued
    valid: float  #: valid votes / envelopes returned
    shares: tuple[float, ...]  #: votes per option / valid votes (0 for an option not on the region's ballot)

    @classmethod
    def of(cls, voters: int, issued: int, returned: int, valid: int, votes: Sequence[int]) -> Rates:
        return cls(issued / voters, returned / issued, valid / returned, tuple(v / valid for v in votes))


def precinct_sizes(
    random_: random.Random, voters: int, precincts: int, scale: Sequence[float] | None = None
) -> list[int]:
    """``voters`` spread over ``precincts`` with a realistic spread of sizes; sums exactly to ``voters``."""
    weights = [math.exp(random_.gauss(0.0, 0.55)) for _ in range(precincts)]
    if scale is not None:
        weights = [w * s for w, s in zip(weights, scale, strict=True)]
    return largest_remainder(voters, weights)


def ballot(random_: random.Random, voters: int, rates: Rates, spread: float = 0.45) -> Counts:
    """One precinct's figures for ``voters`` registered voters; each option's share varies by up to ``spread``."""
    turnout = min(0.98, max(0.15, rates.turnout * math.exp(random_.gauss(0.0, 0.08))))
    issued = round(voters * turnout)
    returned = issued - _few(random_, issued, 1.0 - rates.returned)
    valid = returned - _few(random_, returned, 1.0 - rates.valid)
    uniform = random_.random  # cheaper than a normal draw, and there are hundreds of thousands
    weights = [s * (1.0 + spread * (2.0 * uniform() - 1.0)) for s in rates.shares]
    return Counts(voters, issued, returned, valid, tuple(largest_remainder(valid, weights)))


def _few(random_: random.Random, n: int, rate: float) -> int:
    """About ``n * rate`` (a small count: spoilt ballots, envelopes not returned), never more than ``n``."""
    if n <= 0 or rate <= 0:
        return 0
    return min(n, int(n * rate * math.exp(random_.gauss(0.0, 0.5)) + random_.random()))
