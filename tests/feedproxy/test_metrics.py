from __future__ import annotations

import asyncio

from feedproxy.cache import Fetcher, FetcherSettings, Listener
from feedproxy.metrics import Accounting, render_metrics, stats_document
from feedproxy.snapshots import SnapshotStatus
from feedproxy.upstream import Upstream


def test_accounting_across_workers_and_the_prometheus_text() -> None:
    accounting = Accounting()
    accounting.add({"clients": [["198.51.100.7", 3, 300, 1, 0, 0, 50.0]], "responses": {"200": 2, "304": 1}})
    accounting.add(
        {"clients": [["198.51.100.7", 1, 100, 1, 2, 1, 60.0]], "unknown_refused": 4, "responses": {"200": 1}}
    )
    (row,) = accounting.organisations()
    assert (row["requests"], row["bytes"], row["not_modified"], row["refused"], row["rate_limited"]) == (
        4,
        400,
        2,
        2,
        1,
    )
    assert row["not_modified_share"] == 0.5
    assert row["addresses"][0]["last_seen"] == 60.0

    fetcher = Fetcher(Upstream("127.0.0.1", 1), FetcherSettings(), Listener())
    try:
        text = render_metrics(accounting, fetcher, SnapshotStatus(source="x"), 100.0, workers=2)
    finally:
        fetcher.close()
    assert 'feedproxy_requests_total{organisation_id="0",organisation=""} 4' in text
    assert 'feedproxy_refused_total{organisation_id="0",organisation="unknown"} 4' in text
    assert 'feedproxy_responses_total{status="200"} 3' in text
    assert "feedproxy_workers 2" in text
    for line in text.splitlines():
        assert line.startswith("#") or " " in line
    stats = stats_document(accounting, SnapshotStatus(source="x"), 100.0)
    assert stats["unknown"] == {"refused": 4, "rate_limited": 0}
    assert asyncio.iscoroutinefunction(fetcher.want)


def test_label_values_are_escaped() -> None:
    accounting = Accounting()
    accounting._owners = {"198.51.100.7": ("production", 9, 'Rádio "Quote" \\ Back\nslash')}
    accounting.add({"clients": [["198.51.100.7", 1, 1, 0, 0, 0, 1.0]]})
    fetcher = Fetcher(Upstream("127.0.0.1", 1), FetcherSettings(), Listener())
    try:
        text = render_metrics(accounting, fetcher, SnapshotStatus(source="x"), 2.0, workers=1)
    finally:
        fetcher.close()
    assert 'organisation="Rádio \\"Quote\\" \\\\ Back\\nslash"' in text
