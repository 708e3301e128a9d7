"""Loading snapshots: the test-only loopback switch, the keeper's refusals, the portal URL with ETag."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allowlist.addresses import AddressPolicy
from allowlist.snapshot import SnapshotError
from feedproxy.snapshots import SnapshotKeeper, SnapshotSource, load, table
from feedproxy.testsnapshot import signed_snapshot

KEY = Ed25519PrivateKey.generate()
POLICY = AddressPolicy(allow_documentation=True)
ROWS = [("198.51.100.7", "production", 1, "Deník"), ("127.0.0.2", "test", 1, "Deník")]


def test_loopback_entries_need_the_test_switch() -> None:
    data = signed_snapshot(KEY, ROWS)
    with pytest.raises(SnapshotError) as refused:
        load(data, public_key=KEY.public_key(), policy=POLICY)
    assert refused.value.address_code == "loopback"
    snapshot = load(data, public_key=KEY.public_key(), policy=POLICY, allow_loopback=True)
    assert {(e.address, e.kind) for e in snapshot.entries} == {("198.51.100.7", "production"), ("127.0.0.2", "test")}
    assert table(snapshot)["entries"][1] == ["127.0.0.2", "test", 1, "Deník"]


def test_the_switch_does_not_skip_the_signature_or_other_checks() -> None:
    forged = signed_snapshot(Ed25519PrivateKey.generate(), ROWS)
    with pytest.raises(SnapshotError) as refused:
        load(forged, public_key=KEY.public_key(), policy=POLICY, allow_loopback=True)
    assert refused.value.code == "signature"
    private = signed_snapshot(KEY, [*ROWS, ("10.1.2.3", "production", 2, "Intranet")])
    with pytest.raises(SnapshotError) as refused:
        load(private, public_key=KEY.public_key(), policy=POLICY, allow_loopback=True)
    assert refused.value.address_code == "private"
    repeated = signed_snapshot(KEY, [*ROWS, ("127.0.0.2", "production", 2, "Jiný")])
    with pytest.raises(SnapshotError) as refused:
        load(repeated, public_key=KEY.public_key(), policy=POLICY, allow_loopback=True)
    assert refused.value.code == "duplicate_entry"


def keeper_for(location: str, *, token: str | None = None, election: str | None = None) -> SnapshotKeeper:
    return SnapshotKeeper(
        SnapshotSource(location, token=token),
        public_key=KEY.public_key(),
        policy=POLICY,
        allow_loopback=False,
        clock=lambda: 1000.0,
        election=election,
    )


def test_the_keeper_keeps_the_last_good_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    good = [("198.51.100.7", "production", 1, "Deník")]
    path.write_bytes(signed_snapshot(KEY, good, version=2))
    keeper = keeper_for(str(path))
    assert keeper.check() is not None
    assert keeper.check() is None  # unchanged file: not read again
    path.write_bytes(signed_snapshot(Ed25519PrivateKey.generate(), good, version=3))
    assert keeper.check() is None
    path.write_bytes(b"{not json")
    assert keeper.check() is None
    path.write_bytes(signed_snapshot(KEY, good, version=1))
    assert keeper.check() is None
    path.unlink()
    assert keeper.check() is None
    assert keeper.status.snapshot is not None and keeper.status.snapshot.version == 2
    assert dict(keeper.status.refused) == {"signature": 1, "malformed": 1, "older_version": 1, "unreachable": 1}
    path.write_bytes(signed_snapshot(KEY, good, version=4))
    assert keeper.check() is not None
    assert keeper.status.snapshot.version == 4
    assert keeper.status.last_error == ""


class FakePortal(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PortalHandler)
        self.document = b""
        self.requests: list[dict[str, str]] = []


class _PortalHandler(http.server.BaseHTTPRequestHandler):
    server: FakePortal

    def do_GET(self) -> None:
        self.server.requests.append(dict(self.headers))
        if self.headers.get("Authorization") != "Bearer s3cret":
            self.send_response(401)
            self.end_headers()
            return
        etag = f'"{len(self.server.document)}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(self.server.document)))
        self.end_headers()
        self.wfile.write(self.server.document)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    server = FakePortal()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_snapshot_url_with_token_and_etag(portal: FakePortal) -> None:
    url = f"http://127.0.0.1:{portal.server_address[1]}/api/v1/elections/prez2028/allowlist"
    portal.document = signed_snapshot(KEY, [("198.51.100.7", "production", 1, "Deník")], version=5)
    keeper = keeper_for(url, token="s3cret")
    assert keeper.check() is not None
    assert keeper.check() is None
    assert portal.requests[-1]["If-None-Match"] == f'"{len(portal.document)}"'
    assert keeper.status.refused == {}
    assert json.loads(portal.document)["version"] == 5
    wrong = keeper_for(url, token="wrong")
    assert wrong.check() is None
    assert wrong.status.refused["unreachable"] == 1
    assert "401" in wrong.status.last_error


def test_the_first_snapshot_fixes_the_election_another_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    good = [("198.51.100.7", "production", 1, "Deník")]
    path.write_bytes(signed_snapshot(KEY, good, version=3, election="kv2026"))
    keeper = keeper_for(str(path))
    assert keeper.check() is not None
    # Validly signed by the same portal, newer, admitting everyone else: still another election.
    path.write_bytes(signed_snapshot(KEY, [("203.0.113.9", "production", 2, "Jiný")], version=9, election="ps2025"))
    assert keeper.check() is None
    assert keeper.status.refused == {"other_election": 1}
    assert "ps2025" in keeper.status.last_error and "kv2026" in keeper.status.last_error
    assert keeper.status.snapshot is not None
    assert (keeper.status.snapshot.election, keeper.status.snapshot.version) == ("kv2026", 3)
    path.write_bytes(signed_snapshot(KEY, good, version=4, election="kv2026"))
    assert keeper.check() is not None and keeper.status.snapshot.version == 4


def test_the_election_given_refuses_even_the_first_snapshot_of_another(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_bytes(signed_snapshot(KEY, [("198.51.100.7", "production", 1, "Deník")], election="ps2025"))
    keeper = keeper_for(str(path), election="kv2026")
    assert keeper.check() is None
    assert keeper.status.snapshot is None
    assert keeper.status.refused == {"other_election": 1}


class Elsewhere(http.server.ThreadingHTTPServer):
    """Where a redirect points: records every request it gets (it must get none)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.2", 0), _ElsewhereHandler)
        self.requests: list[dict[str, str]] = []


class _ElsewhereHandler(http.server.BaseHTTPRequestHandler):
    server: Elsewhere

    def do_GET(self) -> None:
        self.server.requests.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


class Redirecting(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str, status: int) -> None:
        super().__init__(("127.0.0.1", 0), _RedirectHandler)
        self.target, self.status = target, status


class _RedirectHandler(http.server.BaseHTTPRequestHandler):
    server: Redirecting

    def do_GET(self) -> None:
        self.send_response(self.server.status)
        self.send_header("Location", self.server.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_the_token_goes_nowhere_else(status: int) -> None:
    elsewhere = Elsewhere()
    redirecting = Redirecting(f"http://127.0.0.2:{elsewhere.server_address[1]}/steal", status)
    servers = [elsewhere, redirecting]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        keeper = keeper_for(f"http://127.0.0.1:{redirecting.server_address[1]}/api/v1/elections/prez2028/allowlist",
                            token="s3cret")  # fmt: skip
        assert keeper.check() is None
        assert elsewhere.requests == []
        assert keeper.status.refused == {"unreachable": 1}
        assert f"HTTP {status}" in keeper.status.last_error and "not followed" in keeper.status.last_error
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
