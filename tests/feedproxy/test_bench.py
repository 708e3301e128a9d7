"""The benchmark's own logic (the benchmark itself runs with ``feedproxy bench``, not in the suite)."""

from __future__ import annotations

import pytest

from feedproxy.bench import case_headers, parse_wrk

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8080/small.xml
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.41ms    1.02ms  21.02ms   88.51%
    Req/Sec    23.32k     2.11k   28.20k    71.00%
  Latency Distribution
     50%    1.15ms
     75%    1.62ms
     90%    2.41ms
     99%  850.00us
  464187 requests in 10.00s, 1.09GB read
  Non-2xx or 3xx responses: 12
Requests/sec:  46413.29
Transfer/sec:    111.73MB
"""


def test_wrk_output_is_read() -> None:
    run = parse_wrk(WRK_OUTPUT)
    assert run.requests_per_second == pytest.approx(46413.29)
    assert run.p99_ms == pytest.approx(0.85)
    assert run.errors == "Non-2xx or 3xx responses: 12"
    with pytest.raises(RuntimeError):
        parse_wrk("wrk: connection refused")


def test_case_headers() -> None:
    assert case_headers("plain", '"x"') == []
    assert case_headers("gzip", '"x"') == ["Accept-Encoding: gzip"]
    assert case_headers("304", '"x"') == ['If-None-Match: "x"']


def test_the_bench_documents_and_paths() -> None:
    from urllib.parse import urlsplit

    from feedproxy.bench import DOCUMENTS, PROXY_PATHS
    from feedproxy.paths import document_key

    assert len(DOCUMENTS["310B"].read_bytes()) == 310  # the in-band error document of a batch not there yet
    assert b"<CHYBA" in DOCUMENTS["310B"].read_bytes()
    for size, path in PROXY_PATHS.items():
        parts = urlsplit(path)
        assert document_key(parts.path, parts.query), size
