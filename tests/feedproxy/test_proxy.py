"""The proxy run for real (two workers, one fetcher) in front of a real upstream HTTP server."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedproxy.testsnapshot import signed_snapshot
from tests.feedproxy.fakes import FAULTS, FakeUpstream, Proxy, wait_until
from tests.realdata import volby, volby_documents

REFRESH = 1.0
DATA = Path(__file__).resolve().parents[1] / "data" / "feed"
REAL_DOCUMENTS = volby_documents()


def declared_content_type(body: bytes) -> str:
    found = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', body)
    return f"text/xml; charset={found.group(1).decode()}" if found else "text/xml"


@pytest.fixture(scope="module")
def proxy(
    upstream: FakeUpstream,
    signing_key: Ed25519PrivateKey,
    public_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Proxy]:
    directory = tmp_path_factory.mktemp("proxy")
    snapshot = directory / "snapshot.json"
    snapshot.write_bytes(signed_snapshot(signing_key, [("127.0.0.1", "production", 7, "Deník Test")]))
    running = Proxy(
        [
            "--upstream", upstream.url,
            "--snapshot", str(snapshot),
            "--public-key", str(public_key_file),
            "--allow-loopback-clients",
            "--workers", "2",
            "--refresh", str(REFRESH),
            "--timeout", "3",
            "--rate", "1000000",
            "--burst", "1000000",
        ],
        directory / "proxy.log",
    )  # fmt: skip
    yield running
    running.stop()


def healthz(proxy: Proxy) -> dict:
    status, _headers, body = proxy.request("/healthz")
    assert status == 200
    return json.loads(body)


def test_every_real_document_passes_through_byte_for_byte(proxy: Proxy, upstream: FakeUpstream) -> None:
    assert len(REAL_DOCUMENTS) == 47  # tests/data/volby/MANIFEST.md
    expected = {}
    for number, name in enumerate(REAL_DOCUMENTS):
        body = volby(name)
        key = f"/pls/realdata/vysledky_okrsky?davka={number}"
        upstream.put(key, body, declared_content_type(body))
        expected[key] = body

    def fetch(key: str) -> tuple[str, int, dict[str, str], bytes]:
        return (key, *proxy.request(key))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, expected))
    encodings = set()
    for key, status, headers, body in results:
        assert status == 200, key
        assert body == expected[key], key
        assert headers["content-type"] == declared_content_type(expected[key])
        encodings.add(headers["content-type"].rpartition("=")[2].lower())
    assert {"utf-8", "iso-8859-2", "windows-1250"} <= encodings


def test_single_flight_under_200_concurrent_clients(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/prez2023/vysledky"
    body = volby("prez2023/testrun-2023-01-06/vysledky_okrsky_davka_3.xml")
    upstream.put(key, body)
    upstream.delay = 0.3  # the first fetch takes a while: every client arrives while it is in flight
    try:
        with ThreadPoolExecutor(200) as pool:
            results = list(pool.map(lambda _: proxy.request(key), range(200)))
    finally:
        upstream.delay = 0.0
    assert {status for status, _h, _b in results} == {200}
    assert all(got == body for _s, _h, got in results)
    assert upstream.hit_count(key) == 1
    time.sleep(2.5 * REFRESH)  # then one conditional request per interval, however many clients
    with ThreadPoolExecutor(50) as pool:
        list(pool.map(lambda _: proxy.request(key), range(100)))
    hits = upstream.hits[key]
    gaps = [later - earlier for earlier, later in itertools.pairwise(hits)]
    assert 2 <= len(hits) <= 4
    assert min(gaps) >= REFRESH * 0.9


@pytest.fixture(scope="module")
def faulty_documents(proxy: Proxy, upstream: FakeUpstream) -> dict[str, bytes]:
    """One good document per fault, fetched once, then the upstream misbehaves on each."""
    body = volby("kv2018/batches/vysledky_okrsky_davka_002.xml")  # ISO-8859-2
    documents = {}
    for fault in FAULTS:
        key = f"/pls/faults/vysledky_okrsky?davka={FAULTS.index(fault)}"
        upstream.put(key, body, "text/xml; charset=iso-8859-2")
        assert proxy.request(key)[0] == 200
        documents[fault] = body
        upstream.faults[key] = fault
    time.sleep(2.5 * REFRESH)
    wait_until(
        lambda: all(upstream.hit_count(f"/pls/faults/vysledky_okrsky?davka={i}") >= 2 for i in range(len(FAULTS)))
    )
    time.sleep(3.2)  # the slowest fault (the timeout) resolves
    return documents


@pytest.mark.parametrize("fault", FAULTS)
def test_a_bad_answer_is_never_served_the_last_good_one_is(proxy: Proxy, faulty_documents: dict, fault: str) -> None:
    key = f"/pls/faults/vysledky_okrsky?davka={FAULTS.index(fault)}"
    status, headers, body = proxy.request(key)
    assert status == 200
    assert body == faulty_documents[fault]
    assert int(headers["age"]) >= 1
    document = healthz(proxy)["documents"][key]
    assert document["stale"] is True
    expected = {
        "truncated": "truncated",
        "short_length": "truncated",
        "chunked_cut": "truncated",
        "garbage": "malformed",
        "html": "html",
        "dtd": "dtd",
        "slow": "timeout",
        "status500": "status",
        "reset": "connection",
    }[fault]
    assert document["last_outcome"] == expected
    assert document["fetches"][expected] >= 1


def test_staleness_shows_in_healthz_and_metrics(proxy: Proxy, faulty_documents: dict) -> None:
    health = healthz(proxy)
    assert health["status"] == "stale"
    assert len([key for key in health["stale_documents"] if key.startswith("/pls/faults/")]) == len(FAULTS)
    status, headers, body = proxy.request("/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert (
        'feedproxy_upstream_fetches_total{document="/pls/faults/vysledky_okrsky?davka=3",outcome="garbage"}' not in text
    )
    assert (
        'feedproxy_upstream_fetches_total{document="/pls/faults/vysledky_okrsky?davka=3",outcome="malformed"}' in text
    )
    assert 'feedproxy_document_stale{document="/pls/faults/vysledky_okrsky?davka=4"} 1' in text
    stale = re.search(r"^feedproxy_stale_documents (\d+)$", text, re.MULTILINE)
    assert stale is not None and int(stale.group(1)) >= len(FAULTS)


def test_a_new_document_that_is_bad_is_not_served_at_all(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/faults/vysledky"
    upstream.put(key, b"<html><body>Maintenance</body></html>")
    status, _headers, body = proxy.request(key)
    assert status == 502
    assert b"<html>" not in body


def test_unknown_document_404_then_served_once_upstream_has_it(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/kv2022/vysledky_obec?cislo_obce=551082"
    assert proxy.request(key)[0] == 404
    assert proxy.request(key)[0] == 404
    assert upstream.hit_count(key) == 1  # the miss is remembered for an interval: no second upstream request
    body = volby("kv2022/vysledky_obec_551082_Brno-Bohunice.xml")
    upstream.put(key, body)
    assert wait_until(lambda: proxy.request(key)[0] == 200, timeout=3 * REFRESH)
    assert proxy.request(key)[2] == body


def test_query_order_is_one_document_and_unknown_parameters_are_refused(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/prez2023/vysledky_okrsky?davka=3&kolo=1"
    body = volby("prez2023/testrun-2023-01-06/vysledky_okrsky_davka_0.xml")
    upstream.put(key, body)
    assert proxy.request("/pls/prez2023/vysledky_okrsky?kolo=1&davka=3")[2] == body
    assert proxy.request("/pls/prez2023/vysledky_okrsky?davka=3&kolo=1")[2] == body
    assert upstream.hit_count(key) == 1
    assert proxy.request("/pls/prez2023/vysledky_okrsky?davka=3&evil=1")[0] == 404
    assert proxy.request("/etc/passwd")[0] == 404
    assert upstream.hit_count("/pls/prez2023/vysledky_okrsky?davka=3&evil=1") == 0


def test_conditional_requests_and_gzip(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/ps2021/vysledky"
    body = volby("ps2021/vysledky_2021-10-14.xml")
    upstream.put(key, body)
    status, plain, got = proxy.request(key)
    assert (status, got) == (200, body)
    assert re.fullmatch(r'"[0-9a-f]{32}"', plain["etag"])
    assert plain["vary"] == "Accept-Encoding"
    assert plain["cache-control"] == f"max-age={int(REFRESH)}"
    assert "content-encoding" not in plain

    status, zipped, compressed = proxy.request(key, headers={"Accept-Encoding": "gzip, deflate"})
    assert status == 200
    assert zipped["content-encoding"] == "gzip"
    assert gzip.decompress(compressed) == body
    assert zipped["etag"] != plain["etag"]
    assert zipped["vary"] == "Accept-Encoding"
    assert proxy.request(key, headers={"Accept-Encoding": "gzip;q=0"})[2] == body

    status, headers, empty = proxy.request(key, headers={"If-None-Match": plain["etag"]})
    assert (status, empty, headers["etag"]) == (304, b"", plain["etag"])
    status, headers, _ = proxy.request(key, headers={"If-None-Match": zipped["etag"], "Accept-Encoding": "gzip"})
    assert (status, headers["etag"]) == (304, zipped["etag"])
    assert proxy.request(key, headers={"If-None-Match": '"other", W/' + plain["etag"]})[0] == 304
    assert proxy.request(key, headers={"If-None-Match": '"other"'})[0] == 200
    assert proxy.request(key, headers={"If-Modified-Since": plain["last-modified"]})[0] == 304
    assert proxy.request(key, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200

    status, headers, empty = proxy.request(key, method="HEAD")
    assert (status, empty, int(headers["content-length"])) == (200, b"", len(body))


def test_a_changed_document_is_served_after_one_interval(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/ep2019/vysledky"
    first = volby("ep2019/vysledky_2019-05-27.xml")
    second = volby("ep2019/vysledky_2019-05-28_jkbnerad-kraje.xml")
    upstream.put(key, first)
    etag = proxy.request(key)[1]["etag"]
    upstream.put(key, second)
    assert wait_until(lambda: proxy.request(key)[2] == second, timeout=4 * REFRESH)
    assert proxy.request(key, headers={"If-None-Match": etag})[0] == 200


def test_a_different_root_element_does_not_replace_the_document(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/senat2014/vysledky"
    good = volby("senat2014/vysledky_testdata_2014-10-01.xml")
    upstream.put(key, good)
    assert proxy.request(key)[2] == good
    upstream.put(key, volby("ep2019/vysledky_okres_CZ0100.xml"))  # VYSLEDKY_OKRES, not VYSLEDKY
    assert wait_until(lambda: healthz(proxy)["documents"][key]["last_outcome"] == "root_changed", timeout=4 * REFRESH)
    assert proxy.request(key)[2] == good


def test_stats_json_accounts_per_organisation(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/pls/stats/vysledky"
    upstream.put(key, b'<?xml version="1.0" encoding="UTF-8"?><VYSLEDKY/>')
    etag = proxy.request(key)[1]["etag"]
    proxy.request(key, headers={"If-None-Match": etag})
    status, _headers, body = proxy.request("/stats.json")
    assert status == 200
    stats = json.loads(body)
    (organisation,) = stats["organisations"]
    assert organisation["organisation"] == "Deník Test"
    assert organisation["organisation_id"] == 7
    assert organisation["requests"] >= 2
    assert organisation["not_modified"] >= 1
    assert organisation["bytes"] > 0
    assert organisation["addresses"][0]["address"] == "127.0.0.1"
    assert organisation["addresses"][0]["last_seen"] > time.time() - 60


APPDATA = "/appdata/kv2026/20261009/odata"


def raw_request(proxy: Proxy, target: str) -> tuple[int, bytes]:
    """Send ``target`` as the request target byte for byte (http.client would refuse or re-encode some)."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_appdata_layout_served_with_single_flight_validation_304_and_gzip(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = f"{APPDATA}/okrsky/vysledky_okrsky_00001.xml"
    body = (DATA / "kv2026_vysledky_okrsky_00001.xml").read_bytes()
    upstream.put(key, body, declared_content_type(body))
    upstream.delay = 0.3
    try:
        with ThreadPoolExecutor(200) as pool:
            results = list(pool.map(lambda _: proxy.request(key), range(200)))
    finally:
        upstream.delay = 0.0
    assert {status for status, _h, _b in results} == {200}
    assert all(got == body for _s, _h, got in results)
    assert upstream.hit_count(key) == 1
    etag = results[0][1]["etag"]
    assert proxy.request(key, headers={"If-None-Match": etag})[0] == 304
    status, headers, compressed = proxy.request(key, headers={"Accept-Encoding": "gzip"})
    assert (status, headers["content-encoding"], gzip.decompress(compressed)) == (200, "gzip", body)
    upstream.faults[key] = "garbage"  # stale-if-error: the last good version stays
    assert wait_until(lambda: healthz(proxy)["documents"][key]["last_outcome"] == "malformed", timeout=4 * REFRESH)
    assert proxy.request(key)[2] == body
    del upstream.faults[key]


def test_appdata_national_document_without_a_date_segment(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = "/appdata/ps2025/odata/vysledky.xml"
    body = (DATA / "ps2025_vysledky.xml").read_bytes()
    upstream.put(key, body, declared_content_type(body))
    assert proxy.request(key)[2] == body
    assert proxy.request(key + "?davka=1")[0] == 404
    assert upstream.hit_count(key) == 1


@pytest.mark.parametrize(
    "target",
    [
        f"{APPDATA}/vysledky.xml?x=1",
        f"{APPDATA}/../odata/vysledky.xml",
        f"{APPDATA}/%2e%2e/odata/vysledky.xml",
        f"{APPDATA}/%2E%2E/odata/vysledky.xml",
        f"{APPDATA}/okrsky%5cvysledky_okrsky_00001.xml",
        f"{APPDATA}/okrsky%00vysledky_okrsky_00001.xml",
        f"{APPDATA}/okrsky%252fvysledky_okrsky_00001.xml",
        f"{APPDATA}//vysledky.xml",
        "/appdata/kv2026//odata/vysledky.xml",
        f"{APPDATA}/okrsky/",
        f"{APPDATA}/okrsky/2026/vysledky_okrsky_00001.xml",
        f"{APPDATA}/tajne/vysledky.xml",
        f"{APPDATA}/" + "a" * 300 + ".xml",
        f"{APPDATA}/vysledky.xsd",
    ],
)
def test_appdata_refused_forms_never_reach_the_upstream(proxy: Proxy, upstream: FakeUpstream, target: str) -> None:
    before = sum(len(hits) for hits in upstream.hits.values())
    status, body = raw_request(proxy, target)
    assert status == 404
    assert b"The path" in body
    assert sum(len(hits) for hits in upstream.hits.values()) == before


@pytest.mark.parametrize(("plain", "encoded"), [("okrsky/", "okrsky%2f"), ("okrsky/", "okrsky%2F"), (".xml", "%2exml")])
def test_an_encoded_slash_or_dot_never_names_a_new_upstream_path(
    proxy: Proxy, upstream: FakeUpstream, plain: str, encoded: str
) -> None:
    """granian hands the application the decoded path, so ``okrsky%2fx.xml`` arrives as ``okrsky/x.xml``.

    It then names the same document as the plain spelling: the upstream is asked for the one canonical
    key, never for a spelling with a percent sign, and anything outside the grammar stays refused.
    """
    key = f"{APPDATA}/okrsky/vysledky_okrsky_00002.xml"
    body = (DATA / "kv2026_vysledky_okrsky_00001.xml").read_bytes()
    upstream.put(key, body, declared_content_type(body))
    status, got = raw_request(proxy, key.replace(plain, encoded))
    assert (status, got) == (200, body)
    assert raw_request(proxy, f"{APPDATA}/tajne/vysledky.xml".replace(plain, encoded))[0] == 404
    assert raw_request(proxy, f"{APPDATA}/okrsky/{encoded}vysledky.xml")[0] == 404
    assert all("%" not in path for path in upstream.hits)


def test_a_batch_not_published_yet_is_404_with_one_upstream_request_per_interval(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    key = f"{APPDATA}/okrsky/vysledky_okrsky_00007.xml"
    upstream.delay = 0.2  # each upstream 404 takes a while: clients pile up on the one request in flight
    statuses: list[int] = []
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(200) as pool:
            while time.monotonic() - started < 3.2 * REFRESH:
                statuses += [status for status, _h, _b in pool.map(lambda _: proxy.request(key), range(200))]
    finally:
        upstream.delay = 0.0
    assert len(statuses) >= 400
    assert set(statuses) == {404}  # never a 502 or 504 for a batch that is simply not there yet
    hits = upstream.hits[key]
    gaps = [later - earlier for earlier, later in itertools.pairwise(hits)]
    assert 2 <= len(hits) <= 4, hits
    assert min(gaps) >= REFRESH * 0.95
    assert healthz(proxy)["documents"].get(key) is None  # a miss is not cached as a document

    body = (DATA / "kv2026_vysledky_okrsky_00001.xml").read_bytes()
    upstream.put(key, body, declared_content_type(body))
    published = time.monotonic()
    assert wait_until(lambda: proxy.request(key)[0] == 200, timeout=3 * REFRESH, step=0.02)
    assert time.monotonic() - published <= REFRESH + 0.3  # within one refresh interval of its publication
    assert proxy.request(key)[2] == body


def test_an_in_band_error_document_passes_through_as_it_is(proxy: Proxy, upstream: FakeUpstream) -> None:
    key = f"{APPDATA}/okrsky/vysledky_okrsky.xml"
    chyba = (DATA / "chyba_vysledky_okrsky.xml").read_bytes()
    assert b'<CHYBA KOD_CHYBY="30"/>' in chyba
    upstream.put(key, chyba, "text/xml; charset=UTF-8")
    status, headers, body = proxy.request(key)
    assert (status, body) == (200, chyba)
    assert proxy.request(key, headers={"If-None-Match": headers["etag"]})[0] == 304
    batch = (DATA / "kv2026_vysledky_okrsky_00001.xml").read_bytes()  # the same root element, VYSLEDKY_OKRSKY
    upstream.put(key, batch)
    assert wait_until(lambda: proxy.request(key)[2] == batch, timeout=4 * REFRESH)
