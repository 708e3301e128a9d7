"""Who reads /metrics, /stats.json and /healthz, and which election the proxy serves (run for real).

Clients connect from loopback addresses: 127.0.0.9 is the metrics collector named in
``--metrics-allow``, 127.0.0.5 a trusted reverse proxy, 127.0.0.1 and 127.0.0.2 others.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedproxy.testsnapshot import signed_snapshot
from tests.feedproxy.fakes import FakeUpstream, Proxy, wait_until

COLLECTOR, TRUSTED_PROXY, OTHER, OUTLET = "127.0.0.9", "127.0.0.5", "127.0.0.1", "127.0.0.2"
ROWS = [(OUTLET, "production", 3, "Deník Test"), (COLLECTOR, "production", 4, "Sběrna")]
TOKEN = "metrics-s3cret"


@pytest.fixture(scope="module")
def proxy(
    upstream: FakeUpstream,
    signing_key: Ed25519PrivateKey,
    public_key_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Proxy, Path]]:
    directory = tmp_path_factory.mktemp("operations")
    snapshot = directory / "snapshot.json"
    snapshot.write_bytes(signed_snapshot(signing_key, ROWS, election="kv2026", version=2))
    token = directory / "metrics-token"
    token.write_text(TOKEN + "\n")
    running = Proxy(
        [
            "--upstream", upstream.url,
            "--snapshot", str(snapshot),
            "--public-key", str(public_key_file),
            "--allow-loopback-clients",
            "--workers", "1",
            "--snapshot-poll", "0.1",
            "--trusted-proxy", TRUSTED_PROXY,
            "--metrics-allow", COLLECTOR,
            "--metrics-token-file", str(token),
        ],
        directory / "proxy.log",
    )  # fmt: skip
    yield running, snapshot
    running.stop()


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("path", ["/metrics", "/stats.json", "/healthz"])
def test_operations_refused_for_unlisted_peers_whatever_they_forward(proxy: tuple[Proxy, Path], path: str) -> None:
    running, _snapshot = proxy
    for source in (OTHER, OUTLET, TRUSTED_PROXY):  # loopback is not special once a list is given
        status, _headers, body = running.request(path, source=source, headers=BEARER)
        assert status == 403, source
        assert f"Address {source} may not read operational data" in body.decode()
    forwarded = {**BEARER, "X-Forwarded-For": COLLECTOR}
    assert running.request(path, source=TRUSTED_PROXY, headers=forwarded)[0] == 403
    assert running.request(path, source=OTHER, headers=forwarded)[0] == 403


@pytest.mark.parametrize("path", ["/metrics", "/stats.json"])
def test_operations_need_the_bearer_token(proxy: tuple[Proxy, Path], path: str) -> None:
    running, _snapshot = proxy
    assert running.request(path, source=COLLECTOR)[0] == 401
    status, headers, _body = running.request(path, source=COLLECTOR, headers={"Authorization": "Bearer wrong"})
    assert (status, headers["www-authenticate"]) == (401, "Bearer")
    assert running.request(path, source=COLLECTOR, headers={"Authorization": TOKEN})[0] == 401
    assert running.request(path, source=COLLECTOR, headers=BEARER)[0] == 200
    assert running.request("/healthz", source=COLLECTOR)[0] == 200  # liveness needs the address only


def test_a_snapshot_of_another_election_is_refused(proxy: tuple[Proxy, Path], signing_key: Ed25519PrivateKey) -> None:
    running, snapshot = proxy

    def health() -> dict:
        return json.loads(running.request("/healthz", source=COLLECTOR)[2])["snapshot"]

    before = health()["checked_at"]
    other = signed_snapshot(signing_key, [(OTHER, "production", 9, "Jinde")], election="ps2025", version=50)
    temporary = snapshot.with_suffix(".tmp")
    temporary.write_bytes(other)
    os.replace(temporary, snapshot)
    assert wait_until(lambda: health()["refused"].get("other_election") == 1, timeout=5)
    state = health()
    assert (state["election"], state["version"]) == ("kv2026", 2)
    assert state["checked_at"] > before
    assert running.request("/pls/kv2026/vysledky", source=OTHER)[0] == 403  # the other election's entry: not loaded


def test_election_flag_refuses_a_first_snapshot_of_another_election(
    upstream: FakeUpstream, signing_key: Ed25519PrivateKey, public_key_file: Path, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_bytes(signed_snapshot(signing_key, ROWS, election="ps2025"))
    log = tmp_path / "proxy.log"
    with pytest.raises(AssertionError, match="did not start"):
        Proxy(
            ["--upstream", upstream.url, "--snapshot", str(snapshot), "--public-key", str(public_key_file),
             "--allow-loopback-clients", "--workers", "1", "--election", "kv2026"],
            log,
        )  # fmt: skip
    assert "refused: a snapshot of ps2025, this proxy serves kv2026" in log.read_text()
