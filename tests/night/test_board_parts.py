"""The board's pure parts: reading a proxy's statistics, rates from cumulative counters, the chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from portal.night.board import Sample, increments, rate_series
from portal.night.chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, line_chart, nice_top
from portal.night.stats import StatsRefused, parse_stats

T0 = datetime(2028, 1, 15, 13, 0, tzinfo=UTC)


def stats_document(**changes: object) -> dict[str, object]:
    document: dict[str, object] = {
        "generated_at": T0.timestamp(),
        "election": "prez2028",
        "snapshot_version": 4,
        "organisations": [
            {
                "organisation_id": 7,
                "organisation": "ČTK",
                "requests": 120,
                "bytes": 4096,
                "not_modified": 100,
                "refused": 0,
                "rate_limited": 1,
                "last_seen": T0.timestamp(),
                "not_modified_share": 0.83,
                "addresses": [
                    {
                        "address": "192.0.2.10",
                        "kind": "production",
                        "requests": 120,
                        "bytes": 4096,
                        "not_modified": 100,
                        "refused": 0,
                        "rate_limited": 1,
                        "last_seen": T0.timestamp(),
                    },
                    {
                        "address": "2001:DB8::5",
                        "kind": "test",
                        "requests": 0,
                        "bytes": 0,
                        "not_modified": 0,
                        "refused": 3,
                        "rate_limited": 0,
                        "last_seen": 0,
                    },
                ],
            }
        ],
        "unknown": {"refused": 2, "rate_limited": 0},
        "responses": {"200": 20, "304": 100},
    }
    document.update(changes)
    return document


def test_a_proxys_statistics_are_read_with_canonical_addresses_and_times():
    stats = parse_stats(json.dumps(stats_document()).encode())
    assert stats.election == "prez2028" and stats.snapshot_version == 4 and stats.generated_at == T0
    (outlet,) = stats.organisations
    assert (outlet.organisation_id, outlet.organisation, outlet.requests, outlet.not_modified) == (7, "ČTK", 120, 100)
    production, test = outlet.addresses
    assert (production.address, production.last_seen) == ("192.0.2.10", T0)
    assert (test.address, test.last_seen, test.refused) == ("2001:db8::5", None, 3)


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[]",
        json.dumps(stats_document(organisations="many")).encode(),
        json.dumps(stats_document(generated_at="now")).encode(),
        json.dumps(stats_document(generated_at=float("inf"))).encode(),
        json.dumps(stats_document(organisations=[{"organisation_id": -1}])).encode(),
        json.dumps(stats_document(snapshot_version=True)).encode(),
    ],
)
def test_a_document_of_the_wrong_shape_is_refused_whole(document):
    with pytest.raises(StatsRefused):
        parse_stats(document)


@pytest.mark.parametrize(
    ("field", "value"),
    [("address", "<script>"), ("address", "1.2.3.4; drop"), ("kind", "vip"), ("requests", -1), ("last_seen", "x")],
)
def test_a_bad_address_row_refuses_the_document(field, value):
    document = stats_document()
    document["organisations"][0]["addresses"][0][field] = value  # type: ignore[index]
    with pytest.raises(StatsRefused):
        parse_stats(json.dumps(document).encode())


def sample(seconds: int, requests: int, proxy: str = "p1", organisation: int = 7) -> Sample:
    return Sample(proxy, organisation, T0 + timedelta(seconds=seconds), requests)


def test_increments_are_differences_per_proxy_and_outlet_and_survive_a_proxy_restart():
    samples = [
        sample(0, 100),
        sample(0, 50, proxy="p2"),
        sample(15, 130),
        sample(15, 60, proxy="p2"),
        sample(30, 5),  # p1 restarted: 5 served since
        sample(45, 25),
    ]
    deltas = increments(reversed(samples))
    assert sorted((int((t - T0).total_seconds()), n) for t, _o, n in deltas) == [(15, 10), (15, 30), (30, 5), (45, 20)]


def test_the_rate_series_is_requests_per_second_per_bucket():
    deltas = [(T0 + timedelta(seconds=s), 7, n) for s, n in [(10, 60), (50, 60), (70, 120), (200, 999)]]
    series = rate_series(deltas, start=T0, end=T0 + timedelta(minutes=3), bucket=timedelta(minutes=1))
    assert [value for _, value in series] == [2.0, 2.0, 0.0]
    assert series[0][0] == T0


def test_the_chart_scales_to_a_round_top_and_labels_its_scale_and_times():
    series = [(T0 + timedelta(minutes=i), value) for i, value in enumerate([0.0, 5.0, 8.0])]
    chart = line_chart(series, tick_every=timedelta(minutes=1))
    ys = [float(point.split(",")[1]) for point in chart.points.split()]
    xs = [float(point.split(",")[0]) for point in chart.points.split()]
    assert chart.peak == 8.0
    assert (
        ys[0] == HEIGHT - BOTTOM
        and ys[2] == TOP
        and ys[1] == pytest.approx(TOP + (HEIGHT - TOP - BOTTOM) * 3 / 8, abs=0.05)
    )
    assert xs[0] == LEFT and xs[2] == WIDTH - RIGHT
    assert [t.label for t in chart.y_ticks] == ["0", "2", "4", "6", "8"]
    assert [t.label for t in chart.x_ticks] == [(T0 + timedelta(minutes=i)).strftime("%H:%M") for i in range(3)]
    empty = line_chart([])
    assert empty.points == "" and empty.peak == 1.0 and [t.label for t in empty.y_ticks] == ["0", "1"]


@pytest.mark.parametrize(
    ("value", "top", "step"),
    [(0.3, 1.0, 0.2), (3.7, 4.0, 1.0), (13, 15.0, 5.0), (48, 50.0, 10.0), (101, 150.0, 50.0), (640, 800.0, 200.0)],
)
def test_the_scale_ends_on_a_round_number_in_at_most_five_steps(value, top, step):
    assert nice_top(value) == (top, step)
