"""The rendered ruleset in a real kernel: two network namespaces joined by a veth pair.

``csu-srv-<random>`` runs HTTP servers on port 80 (protected) and 8080 (not protected) and gets the
ruleset through the real ``nft -f``; ``csu-cli-<random>`` holds production, test and unknown addresses
(IPv4 and IPv6, documentation ranges) and connects from each one. Needs root, ``nft`` and ``ip``:
outside CI a machine without them skips, under CI=true these tests fail instead.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allowlist.addresses import AddressPolicy
from allowlist.phase import LiveWindow
from allowlist.snapshot import Entry, Snapshot, sign_document, snapshot_document
from firewall.render import render
from tests.firewall.netns import require_nft_and_netns, run

pytestmark = pytest.mark.netns

DOCS = AddressPolicy(allow_documentation=True)
SERVER = ("192.0.2.1", "2001:db8::1")
PRODUCTION = ("192.0.2.10", "2001:db8::10")
TEST = ("192.0.2.20", "2001:db8::20")
UNKNOWN = ("192.0.2.30", "2001:db8::30")
CLIENTS = PRODUCTION + TEST + UNKNOWN
PROTECTED, OPEN = 80, 8080
#: A dropped SYN shows as a connect timeout; an accepted one answers within milliseconds.
TIMEOUT = 1.5

#: Runs inside the client namespace: each probe binds its source address, connects, optionally holds the
#: connection open for a while, then sends one HTTP request; all probes at once, in threads.
PROBE = r"""
import concurrent.futures, json, socket, sys, time

def probe(source, destination, port, hold):
    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as connection:
        connection.settimeout(TIMEOUT)
        connection.bind((source, 0))
        try:
            connection.connect((destination, port))
            time.sleep(hold)
            connection.sendall(b"GET /probe.txt HTTP/1.0\r\nHost: test\r\n\r\n")
            answer = b""
            while b"\r\n" not in answer:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            return "blocked"
        except ConnectionRefusedError:
            return "refused"
        except OSError as error:
            return f"error: {error}"
    return "ok" if answer.startswith(b"HTTP/1.0 200") else f"unexpected: {answer[:40]!r}"

probes = json.loads(sys.argv[1])
with concurrent.futures.ThreadPoolExecutor(len(probes)) as pool:
    print(json.dumps(list(pool.map(lambda p: probe(*p), probes))))
""".replace("TIMEOUT", str(TIMEOUT))


@dataclass
class Lab:
    server: str
    client: str
    workdir: Path

    def nft(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.server, "nft", *args, input=input)

    def apply(self, script: str) -> None:
        """One ``nft -f FILE`` inside the server namespace, as an operator would run it."""
        path = self.workdir / f"ruleset-{secrets.token_hex(3)}.nft"
        path.write_text(script, encoding="utf-8")
        self.nft("-f", str(path))

    def probe(self, probes: Sequence[tuple[str, int] | tuple[str, int, float]]) -> dict[tuple[str, int], str]:
        """``{(source, port): "ok" | "blocked" | ...}`` for connections from each source to the server."""
        return self.start_probe(probes)()

    def start_probe(self, probes: Sequence[tuple[str, int] | tuple[str, int, float]]):
        """The probes, started in the background; call the result to wait for them."""
        rows = [(p[0], SERVER[1] if ":" in p[0] else SERVER[0], p[1], p[2] if len(p) > 2 else 0.0) for p in probes]
        command = ["ip", "netns", "exec", self.client, sys.executable, "-c", PROBE, json.dumps(rows)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

        def results() -> dict[tuple[str, int], str]:
            out, _ = process.communicate(timeout=60)
            assert process.returncode == 0, out
            return dict(zip([(p[0], p[1]) for p in probes], json.loads(out), strict=True))

        return results

    def everyone(self, port: int, sources: Sequence[str] = CLIENTS) -> dict[tuple[str, int], str]:
        return self.probe([(source, port) for source in sources])

    def fetch(self, client_address: str) -> bool:
        """Whether the server itself can fetch a page from the client's port 80 (an outgoing connection)."""
        host = f"[{client_address}]" if ":" in client_address else client_address
        code = f"import urllib.request; print(urllib.request.urlopen('http://{host}/probe.txt', timeout=3).status)"
        fetched = run("ip", "netns", "exec", self.server, sys.executable, "-c", code, check=False)
        return fetched.stdout.strip() == "200"

    def table_state(self) -> str:
        """The table as nft lists it, without the expiry countdown of the test elements."""
        listing = self.nft("-j", "list", "table", "inet", "csu_results").stdout
        for item in (listing := json.loads(listing))["nftables"]:
            for element in item.get("set", {}).get("elem", []):
                if isinstance(element, dict):
                    element["elem"].pop("expires", None)
        return json.dumps(listing)

    def elements(self, set_name: str) -> list[str]:
        listing = json.loads(self.nft("-j", "list", "set", "inet", "csu_results", set_name).stdout)
        spec = next(item["set"] for item in listing["nftables"] if "set" in item)
        return [e["elem"]["val"] if isinstance(e, dict) else e for e in spec.get("elem", [])]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_nft_and_netns()
    suffix = secrets.token_hex(3)
    server, client = f"csu-srv-{suffix}", f"csu-cli-{suffix}"
    workdir = tmp_path_factory.mktemp("firewall-netns")
    (workdir / "probe.txt").write_text("results\n")
    created: list[str] = []
    servers: list[subprocess.Popen[bytes]] = []
    log = None
    try:
        for name in (server, client):
            run("ip", "netns", "add", name)
            created.append(name)
            run("ip", "-n", name, "link", "set", "lo", "up")
        run(
            "ip",
            "link",
            "add",
            f"vs{suffix}",
            "netns",
            server,
            "type",
            "veth",
            "peer",
            "name",
            f"vc{suffix}",
            "netns",
            client,
        )
        for name, device, addresses in ((server, f"vs{suffix}", SERVER), (client, f"vc{suffix}", CLIENTS)):
            for address in addresses:
                if ":" in address:
                    run("ip", "-n", name, "address", "add", f"{address}/64", "dev", device, "nodad")
                else:
                    run("ip", "-n", name, "address", "add", f"{address}/24", "dev", device)
            run("ip", "-n", name, "link", "set", device, "up")
        log = open(workdir / "http.log", "wb")  # noqa: SIM115 - closed in the finally below
        # ports 80 and 8080 on the server; port 80 on the client too, for the server's own connections
        for name, port in ((server, PROTECTED), (server, OPEN), (client, PROTECTED)):
            command = ["ip", "netns", "exec", name, sys.executable, "-m", "http.server", str(port)]
            servers.append(
                subprocess.Popen([*command, "--bind", "::", "--directory", str(workdir)], stdout=log, stderr=log)
            )
        lab = Lab(server, client, workdir)
        deadline = time.monotonic() + 15
        while set(lab.probe([(PRODUCTION[0], PROTECTED), (PRODUCTION[1], OPEN)]).values()) != {"ok"} or not lab.fetch(
            UNKNOWN[0]
        ):
            if time.monotonic() > deadline or any(s.poll() is not None for s in servers):
                pytest.fail(f"the HTTP servers in {server} did not come up: {(workdir / 'http.log').read_text()}")
            time.sleep(0.2)
        yield lab
    finally:
        for process in servers:
            process.terminate()
        for process in servers:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        if log is not None:
            log.close()
        for name in created:
            run("ip", "netns", "del", name, check=False)


def election(*, window_starts: datetime, version: int = 1) -> Snapshot:
    return Snapshot(
        election="prez2028",
        version=version,
        generated_at=datetime.now(UTC),
        live_windows=(LiveWindow(1, window_starts, window_starts + timedelta(hours=24)),),
        closes_at=window_starts + timedelta(days=20),
        entries=tuple(
            [Entry(a, "production", "ČTK", 7) for a in PRODUCTION] + [Entry(a, "test", "Deník N", 8) for a in TEST]
        ),
    )


def outcome(results: dict[tuple[str, int], str], sources: Sequence[str], port: int) -> set[str]:
    return {results[source, port] for source in sources}


def test_without_a_ruleset_everyone_connects(lab: Lab) -> None:
    if "csu_results" in lab.nft("list", "tables").stdout:
        lab.nft("delete", "table", "inet", "csu_results")
    results = lab.everyone(PROTECTED)
    assert set(results.values()) == {"ok"}, results


def test_testing_production_and_test_addresses_connect_others_do_not(lab: Lab) -> None:
    now = datetime.now(UTC)
    lab.apply(render(election(window_starts=now + timedelta(hours=1)), now, policy=DOCS))
    results = {**lab.everyone(PROTECTED), **lab.everyone(OPEN)}
    assert outcome(results, PRODUCTION + TEST, PROTECTED) == {"ok"}, results
    assert outcome(results, UNKNOWN, PROTECTED) == {"blocked"}, results
    assert outcome(results, CLIENTS, OPEN) == {"ok"}, results


def test_live_only_production_addresses_connect(lab: Lab) -> None:
    starts = datetime.now(UTC) - timedelta(minutes=5)
    lab.apply(render(election(window_starts=starts), starts + timedelta(minutes=5), policy=DOCS))
    results = {**lab.everyone(PROTECTED), **lab.everyone(OPEN)}
    assert outcome(results, PRODUCTION, PROTECTED) == {"ok"}, results
    assert outcome(results, TEST + UNKNOWN, PROTECTED) == {"blocked"}, results
    assert outcome(results, CLIENTS, OPEN) == {"ok"}, results


def test_closed_nobody_connects_to_the_protected_port(lab: Lab) -> None:
    snapshot = election(window_starts=datetime.now(UTC) - timedelta(days=30))
    lab.apply(render(snapshot, snapshot.closes_at + timedelta(seconds=1), policy=DOCS))
    results = {**lab.everyone(PROTECTED), **lab.everyone(OPEN)}
    assert outcome(results, CLIENTS, PROTECTED) == {"blocked"}, results
    assert outcome(results, CLIENTS, OPEN) == {"ok"}, results


def test_other_protected_ports_and_loopback(lab: Lab) -> None:
    """--ports 8080 protects 8080 instead; the server's own loopback traffic is never filtered."""
    now = datetime.now(UTC)
    lab.apply(render(election(window_starts=now + timedelta(hours=1)), now, ports=(8080,), policy=DOCS))
    results = {**lab.everyone(PROTECTED), **lab.everyone(OPEN)}
    assert outcome(results, CLIENTS, PROTECTED) == {"ok"}, results
    assert outcome(results, UNKNOWN, OPEN) == {"blocked"}, results
    assert outcome(results, PRODUCTION + TEST, OPEN) == {"ok"}, results
    fetch = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/probe.txt', timeout=3).status)"
    local = run("ip", "netns", "exec", lab.server, sys.executable, "-c", fetch, check=False)
    assert local.stdout.strip() == "200", local


def test_a_test_address_is_cut_at_the_window_start_by_the_element_timeout_alone(lab: Lab) -> None:
    """One apply in testing with the window ~4 s ahead; nothing runs at the start, yet the kernel cuts."""
    now = datetime.now(UTC)
    starts = now + timedelta(seconds=4)
    lab.apply(render(election(window_starts=starts), now, policy=DOCS))
    before = lab.probe([(TEST[0], PROTECTED), (TEST[1], PROTECTED), (PRODUCTION[0], PROTECTED)])
    assert datetime.now(UTC) < starts, "too slow to probe before the window start"
    assert set(before.values()) == {"ok"}, before
    assert sorted(lab.elements("test4") + lab.elements("test6")) == sorted(TEST)

    # Connections opened before the start and used after it: the production one goes on, the test one
    # stalls at its next packet (no "ct state established accept": every packet's source is checked).
    hold = (starts - datetime.now(UTC)).total_seconds() + 1.5
    held = lab.probe([(TEST[0], PROTECTED, hold), (TEST[1], PROTECTED, hold), (PRODUCTION[1], PROTECTED, hold)])
    assert datetime.now(UTC) > starts + timedelta(seconds=1)
    assert held == {(TEST[0], PROTECTED): "blocked", (TEST[1], PROTECTED): "blocked", (PRODUCTION[1], PROTECTED): "ok"}

    after = {**lab.everyone(PROTECTED), **lab.everyone(OPEN)}
    assert outcome(after, TEST + UNKNOWN, PROTECTED) == {"blocked"}, after
    assert outcome(after, PRODUCTION, PROTECTED) == {"ok"}, after
    assert outcome(after, CLIENTS, OPEN) == {"ok"}, after
    assert lab.elements("test4") == [] and lab.elements("test6") == []
    assert sorted(lab.elements("prod4") + lab.elements("prod6")) == sorted(PRODUCTION)


def test_open_production_connections_survive_a_replacement_of_the_table(lab: Lab) -> None:
    """The table is replaced in one transaction: no gap, no reset for connections of allowed sources."""
    now = datetime.now(UTC)
    lab.apply(render(election(window_starts=now + timedelta(hours=1)), now, policy=DOCS))
    waiting = lab.start_probe([(PRODUCTION[0], PROTECTED, 2.0), (PRODUCTION[1], PROTECTED, 2.0)])
    time.sleep(0.8)  # connected, the request not sent yet
    lab.apply(render(election(window_starts=now - timedelta(minutes=1), version=2), now, policy=DOCS))  # live now
    assert set(waiting().values()) == {"ok"}


def test_the_servers_own_connections_to_remote_port_80_are_untouched(lab: Lab) -> None:
    """Replies to the host's outgoing connections come from port 80, not to it: even closed they flow."""
    snapshot = election(window_starts=datetime.now(UTC) - timedelta(days=30))
    lab.apply(render(snapshot, snapshot.closes_at + timedelta(seconds=1), policy=DOCS))
    assert lab.fetch(UNKNOWN[0]) and lab.fetch(UNKNOWN[1])
    assert outcome(lab.everyone(PROTECTED), CLIENTS, PROTECTED) == {"blocked"}


def test_the_cli_applies_a_signed_snapshot_and_refuses_a_tampered_one(lab: Lab) -> None:
    key = Ed25519PrivateKey.generate()
    public = lab.workdir / "allowlist.pub"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    snapshot = election(window_starts=datetime.now(UTC) + timedelta(hours=1), version=5)
    signed = sign_document(snapshot_document(snapshot), key)
    good, bad = lab.workdir / "good.json", lab.workdir / "bad.json"
    good.write_text(json.dumps(signed))
    bad.write_text(
        json.dumps({**signed, "entries": [*signed["entries"], {**signed["entries"][0], "address": UNKNOWN[0]}]})
    )
    state = lab.workdir / f"state-{secrets.token_hex(3)}"

    def cli(snapshot_file: Path) -> subprocess.CompletedProcess[str]:
        command = ["firewall.cli", "apply", "--snapshot", str(snapshot_file), "--public-key", str(public)]
        command += ["--allow-documentation-ranges", "--state-dir", str(state)]
        return run("ip", "netns", "exec", lab.server, sys.executable, "-m", *command, check=False)

    applied = cli(good)
    assert applied.returncode == 0, applied.stderr
    assert "applied prez2028 version 5 (phase testing)" in applied.stdout
    listing = lab.table_state()
    refused = cli(bad)
    assert refused.returncode == 1
    assert "signature" in refused.stderr
    assert lab.table_state() == listing  # nothing changed
    results = lab.everyone(PROTECTED)
    assert outcome(results, PRODUCTION + TEST, PROTECTED) == {"ok"}, results
    assert outcome(results, UNKNOWN, PROTECTED) == {"blocked"}, results
