"""Fair use: a token bucket per client address (``rate`` per second, ``burst`` at most)."""

from __future__ import annotations

import math


class TokenBuckets:
    """``take`` costs one dict lookup and a little arithmetic; idle buckets are dropped by ``prune``."""

    def __init__(self, rate: float, burst: float, *, max_clients: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str, now: float) -> float:
        """0.0 if ``key`` may make a request now (a token is taken), else the seconds until it may."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self.prune(now)
            self._buckets[key] = [self.burst - 1.0, now]
            return 0.0
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return (1.0 - tokens) / self.rate
        bucket[0] = tokens - 1.0
        return 0.0

    def prune(self, now: float) -> None:
        """Forget buckets that have filled up again (they behave exactly like new ones)."""
        full = [key for key, (tokens, at) in self._buckets.items() if tokens + (now - at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:  # a flood of distinct addresses: start afresh
            self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(seconds: float) -> str:
    """The Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
