"""Integer apportionment: splitting a whole into parts (votes, voters, precincts per batch) and D'Hondt seats."""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, summing exactly to ``total``; a zero weight gets zero.

    Ties in the remainders go to the earlier index, so the result is a pure function of the arguments.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    weight_sum = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    quotas = [total * w / weight_sum for w in weights]
    parts = [int(q) for q in quotas]
    left = total - sum(parts)
    by_remainder = sorted((i for i, w in enumerate(weights) if w > 0), key=lambda i: (parts[i] - quotas[i], i))
    for i in by_remainder[:left]:
        parts[i] += 1
    if sum(parts) != total:  # float rounding in the quotas; settle on the largest part
        parts[max(range(len(parts)), key=lambda i: (weights[i], -i))] += total - sum(parts)
    return parts


def dhondt(seats: int, votes: Sequence[int]) -> list[int]:
    """Seats per party by the D'Hondt divisors 1, 2, 3, ...; ties go to more votes, then the earlier index."""
    won = [0] * len(votes)
    if not any(v > 0 for v in votes):
        return won
    for _ in range(seats):
        # Compare votes[i] / (won[i] + 1) exactly, by cross-multiplication.
        best = None
        for i, v in enumerate(votes):
            if v <= 0:
                continue
            if best is None:
                best = i
                continue
            left, right = v * (won[best] + 1), votes[best] * (won[i] + 1)
            if left > right or (left == right and v > votes[best]):
                best = i
        assert best is not None
        won[best] += 1
    return won
