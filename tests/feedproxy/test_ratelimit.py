from __future__ import annotations

import pytest

from feedproxy.ratelimit import TokenBuckets, retry_after


def test_burst_then_rate() -> None:
    buckets = TokenBuckets(rate=10, burst=50)
    assert all(buckets.take("a", 100.0) == 0.0 for _ in range(50))
    wait = buckets.take("a", 100.0)
    assert wait == pytest.approx(0.1)
    assert retry_after(wait) == "1"
    assert buckets.take("a", 100.15) == 0.0  # a token came back
    assert buckets.take("a", 100.15) > 0
    assert buckets.take("b", 100.15) == 0.0  # every address has its own bucket


def test_idle_buckets_are_pruned() -> None:
    buckets = TokenBuckets(rate=1, burst=2, max_clients=3)
    for name in "abc":
        buckets.take(name, 0.0)
    buckets.take("d", 10.0)  # the table is full: the refilled buckets go
    assert len(buckets) == 1
    with pytest.raises(ValueError, match="rate"):
        TokenBuckets(rate=0, burst=1)
