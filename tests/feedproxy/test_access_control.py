"""Who gets documents, end to end: phases, snapshot reloads, forwarded-for, /whoami, the rate limit.

Clients connect from loopback addresses 127.0.0.x (the proxy runs with the test-only
``--allow-loopback-clients``): .2 is a production address, .3 a test address, .4 unknown; .5 is a
trusted reverse proxy, .6 an untrusted one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedproxy.testsnapshot import signed_snapshot
from tests.feedproxy.fakes import FakeUpstream, Proxy, wait_until
from tests.realdata import volby

PRODUCTION, TEST, UNKNOWN, TRUSTED_PROXY, UNTRUSTED_PROXY = (f"127.0.0.{n}" for n in (2, 3, 4, 5, 6))
ROWS = [(PRODUCTION, "production", 11, "Český rozhlas"), (TEST, "test", 11, "Český rozhlas")]
DOCUMENT = "/pls/prez2023/vysledky_okrsky?davka=1"
BODY = volby("prez2023/testrun-2023-01-06/vysledky_okrsky_davka_1.xml")


def snapshot_testing(key: Ed25519PrivateKey, version: int) -> bytes:
    now = datetime.now(UTC)
    return signed_snapshot(
        key, ROWS, version=version, live_windows=[(now + timedelta(hours=1), now + timedelta(hours=5))]
    )


def snapshot_live(key: Ed25519PrivateKey, version: int) -> bytes:
    now = datetime.now(UTC)
    return signed_snapshot(
        key, ROWS, version=version, live_windows=[(now - timedelta(hours=1), now + timedelta(hours=1))]
    )


def snapshot_closed(key: Ed25519PrivateKey, version: int) -> bytes:
    now = datetime.now(UTC)
    window = [(now - timedelta(hours=5), now - timedelta(hours=2))]
    return signed_snapshot(key, ROWS, version=version, live_windows=window, closes_at=now - timedelta(minutes=1))


class Setup:
    def __init__(self, proxy: Proxy, snapshot: Path, key: Ed25519PrivateKey) -> None:
        self.proxy, self.snapshot, self.key = proxy, snapshot, key
        self.version = 1

    def install(self, data: bytes) -> None:
        """Replace the snapshot file atomically (as an agent would) and wait until the proxy checked it."""
        before = self.health()["snapshot"]["checked_at"]
        temporary = self.snapshot.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, self.snapshot)
        assert wait_until(lambda: self.health()["snapshot"]["checked_at"] > before + 0.01, timeout=5)
        assert wait_until(lambda: self.health()["snapshot"]["checked_at"] > before + 0.25, timeout=5)

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def health(self) -> dict:
        return json.loads(self.proxy.request("/healthz")[2])

    def status(self, source: str) -> int:
        return self.proxy.request(DOCUMENT, source=source)[0]


@pytest.fixture(scope="module")
def setup(
    upstream: FakeUpstream,
    signing_key: Ed25519PrivateKey,
    public_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Setup]:
    directory = tmp_path_factory.mktemp("access")
    snapshot = directory / "snapshot.json"
    snapshot.write_bytes(snapshot_testing(signing_key, 1))
    upstream.put(DOCUMENT, BODY)
    proxy = Proxy(
        [
            "--upstream", upstream.url,
            "--snapshot", str(snapshot),
            "--public-key", str(public_key_file),
            "--allow-loopback-clients",
            "--workers", "1",
            "--snapshot-poll", "0.1",
            "--trusted-proxy", TRUSTED_PROXY,
            "--rate", "1000",
            "--burst", "1000",
        ],
        directory / "proxy.log",
    )  # fmt: skip
    yield Setup(proxy, snapshot, signing_key)
    proxy.stop()


def test_testing_phase_admits_production_and_test_addresses(setup: Setup) -> None:
    setup.install(snapshot_testing(setup.key, setup.next_version()))
    assert setup.status(PRODUCTION) == 200
    assert setup.status(TEST) == 200
    status, headers, body = setup.proxy.request(DOCUMENT, source=UNKNOWN)
    assert status == 403
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body.decode() == (
        f"Adresa {UNKNOWN} není na seznamu povolených adres.\nAddress {UNKNOWN} is not on the allowlist.\n"
    )


def test_live_phase_cuts_test_addresses(setup: Setup) -> None:
    setup.install(snapshot_live(setup.key, setup.next_version()))
    assert setup.status(PRODUCTION) == 200
    status, _headers, body = setup.proxy.request(DOCUMENT, source=TEST)
    assert status == 403
    czech, english = body.decode().splitlines()
    assert "testovací" in czech and "test address" in english
    assert setup.status(UNKNOWN) == 403


def test_after_close_nobody(setup: Setup) -> None:
    setup.install(snapshot_closed(setup.key, setup.next_version()))
    for source in (PRODUCTION, TEST, UNKNOWN):
        assert setup.status(source) == 403
    body = setup.proxy.request(DOCUMENT, source=PRODUCTION)[2].decode()
    assert "ukončen" in body and "has ended" in body
    setup.install(snapshot_testing(setup.key, setup.next_version()))  # back to testing for the tests below
    assert setup.status(PRODUCTION) == 200


def test_a_snapshot_with_a_bad_signature_is_not_loaded(setup: Setup) -> None:
    version = setup.health()["snapshot"]["version"]
    other_key = Ed25519PrivateKey.generate()
    everyone_closed = snapshot_closed(other_key, version + 10)
    setup.install(everyone_closed)
    health = setup.health()["snapshot"]
    assert health["version"] == version
    assert health["refused"]["signature"] >= 1
    assert setup.status(PRODUCTION) == 200
    metrics = setup.proxy.request("/metrics")[2].decode()
    assert 'feedproxy_snapshot_refused_total{code="signature"}' in metrics
    assert f'feedproxy_snapshot_version{{election="prez2028"}} {version}' in metrics


def test_a_malformed_snapshot_is_not_loaded(setup: Setup) -> None:
    version = setup.health()["snapshot"]["version"]
    setup.install(b'{"schema": "csu-allowlist/1", "entries": [')
    health = setup.health()["snapshot"]
    assert (health["version"], health["refused"]["malformed"] >= 1) == (version, True)
    assert setup.status(PRODUCTION) == 200
    setup.install(snapshot_testing(setup.key, setup.next_version()))


def test_an_older_version_is_not_loaded(setup: Setup) -> None:
    version = setup.health()["snapshot"]["version"]
    setup.install(snapshot_closed(setup.key, 1))
    assert setup.health()["snapshot"]["version"] == version
    assert setup.status(PRODUCTION) == 200


def test_forwarded_for_is_honoured_only_from_trusted_proxies(setup: Setup) -> None:
    setup.install(snapshot_testing(setup.key, setup.next_version()))
    via = {"X-Forwarded-For": f"203.0.113.9, {PRODUCTION}"}
    status, _headers, _body = setup.proxy.request(DOCUMENT, source=TRUSTED_PROXY, headers=via)
    assert status == 200
    whoami = json.loads(setup.proxy.request("/whoami", source=TRUSTED_PROXY, headers=via)[2])
    assert (whoami["address"], whoami["via_proxy"], whoami["organisation_id"]) == (PRODUCTION, TRUSTED_PROXY, 11)
    assert setup.status(TRUSTED_PROXY) == 403  # the proxy itself is not an outlet
    status, _headers, body = setup.proxy.request(DOCUMENT, source=UNTRUSTED_PROXY, headers=via)
    assert status == 403
    assert UNTRUSTED_PROXY in body.decode()
    chained = {"X-Forwarded-For": f"{PRODUCTION}, {TRUSTED_PROXY}"}  # a trusted hop behind a trusted hop
    assert setup.proxy.request(DOCUMENT, source=TRUSTED_PROXY, headers=chained)[0] == 200
    spoofed = {"X-Forwarded-For": f"{PRODUCTION}, {UNKNOWN}"}  # the client itself claimed to be .2
    assert setup.proxy.request(DOCUMENT, source=TRUSTED_PROXY, headers=spoofed)[0] == 403


def test_whoami_in_json_and_plain_text(setup: Setup) -> None:
    now = datetime.now(UTC)
    windows = [(now + timedelta(hours=1), now + timedelta(hours=5))]
    setup.install(signed_snapshot(setup.key, ROWS, version=setup.next_version(), live_windows=windows))
    status, headers, body = setup.proxy.request("/whoami", source=TEST)
    assert (status, headers["content-type"]) == (200, "application/json")
    info = json.loads(body)
    assert info["address"] == TEST
    assert info["on_allowlist"] is True
    assert (info["organisation"], info["organisation_id"], info["kind"]) == ("Český rozhlas", 11, "test")
    assert (info["phase"], info["allowed_now"]) == ("testing", True)
    assert info["next_phase"]["phase"] == "live"
    assert info["next_phase"]["allowed"] is False
    starts = datetime.fromisoformat(info["next_phase"]["starts_at"].replace("Z", "+00:00"))
    assert abs((starts - windows[0][0]).total_seconds()) < 1

    production = json.loads(setup.proxy.request("/whoami", source=PRODUCTION)[2])
    assert production["next_phase"]["allowed"] is True

    unknown = json.loads(setup.proxy.request("/whoami", source=UNKNOWN)[2])
    assert (unknown["on_allowlist"], unknown["allowed_now"], unknown["organisation"]) == (False, False, None)
    assert "not on the allowlist" in unknown["reason"]

    status, headers, body = setup.proxy.request("/whoami", source=TEST, headers={"Accept": "text/plain"})
    assert headers["content-type"] == "text/plain; charset=utf-8"
    text = body.decode()
    assert f"Adresa / Address: {TEST}" in text
    assert "Český rozhlas (id 11)" in text
    assert "Další fáze / Next phase: live" in text


def test_phase_changes_on_time_without_a_new_snapshot(setup: Setup) -> None:
    now = datetime.now(UTC)
    windows = [(now + timedelta(seconds=2), now + timedelta(hours=1))]
    setup.install(signed_snapshot(setup.key, ROWS, version=setup.next_version(), live_windows=windows))
    assert setup.status(TEST) == 200
    assert wait_until(lambda: setup.status(TEST) == 403, timeout=6)
    assert setup.status(PRODUCTION) == 200


def test_the_appdata_layout_follows_the_same_phases(setup: Setup, upstream: FakeUpstream) -> None:
    path = "/appdata/prez2028/20280113/odata/okrsky/vysledky_okrsky_00001.xml"
    upstream.put(path, BODY)
    setup.install(snapshot_testing(setup.key, setup.next_version()))
    statuses = {source: setup.proxy.request(path, source=source)[0] for source in (PRODUCTION, TEST, UNKNOWN)}
    assert statuses == {PRODUCTION: 200, TEST: 200, UNKNOWN: 403}
    setup.install(snapshot_live(setup.key, setup.next_version()))
    statuses = {source: setup.proxy.request(path, source=source)[0] for source in (PRODUCTION, TEST, UNKNOWN)}
    assert statuses == {PRODUCTION: 200, TEST: 403, UNKNOWN: 403}
    setup.install(snapshot_closed(setup.key, setup.next_version()))
    assert {setup.proxy.request(path, source=source)[0] for source in (PRODUCTION, TEST, UNKNOWN)} == {403}
    assert upstream.hit_count(path) == 1  # refused requests never reach the upstream
    setup.install(snapshot_testing(setup.key, setup.next_version()))


@pytest.fixture(scope="module")
def limited(
    upstream: FakeUpstream,
    signing_key: Ed25519PrivateKey,
    public_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Proxy]:
    directory = tmp_path_factory.mktemp("limited")
    snapshot = directory / "snapshot.json"
    snapshot.write_bytes(snapshot_testing(signing_key, 1))
    upstream.put(DOCUMENT, BODY)
    proxy = Proxy(
        [
            "--upstream", upstream.url,
            "--snapshot", str(snapshot),
            "--public-key", str(public_key_file),
            "--allow-loopback-clients",
            "--workers", "1",
            "--rate", "0.5",
            "--burst", "3",
        ],
        directory / "proxy.log",
    )  # fmt: skip
    yield proxy
    proxy.stop()


def test_rate_limit_answers_429_with_retry_after(limited: Proxy) -> None:
    statuses = [limited.request(DOCUMENT, source=PRODUCTION)[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, headers, body = limited.request(DOCUMENT, source=PRODUCTION)
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 2
    assert "Too many requests" in body.decode()
    assert limited.request(DOCUMENT, source=TEST)[0] == 200  # another address has its own bucket
    metrics = limited.request("/metrics")[2].decode()
    assert 'feedproxy_rate_limited_total{organisation_id="11",organisation="Český rozhlas"} 1' in metrics


def test_a_dual_stack_listener_names_ipv4_clients_by_their_ipv4_address(
    upstream: FakeUpstream, signing_key: Ed25519PrivateKey, public_key_file: Path, tmp_path: Path
) -> None:
    """On ``[::]`` an IPv4 client arrives as ``::ffff:a.b.c.d``: it is admitted, refused, counted and told
    its address as the IPv4 address the allowlist and the outlet know."""
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_bytes(snapshot_testing(signing_key, 1))
    upstream.put(DOCUMENT, BODY)
    proxy = Proxy(
        ["--upstream", upstream.url, "--snapshot", str(snapshot), "--public-key", str(public_key_file),
         "--allow-loopback-clients", "--workers", "1", "--listen", "[::]:0"],
        tmp_path / "proxy.log",
    )  # fmt: skip
    try:
        assert proxy.request(DOCUMENT, source=PRODUCTION)[0] == 200
        status, _headers, body = proxy.request(DOCUMENT, source=UNKNOWN)
        assert status == 403 and UNKNOWN in body.decode() and "::ffff:" not in body.decode()
        assert json.loads(proxy.request("/whoami", source=TEST)[2])["address"] == TEST
    finally:
        proxy.stop()
