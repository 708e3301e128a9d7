"""The drill's network and client programs in real namespaces: the simulator in the root namespace, the feed
proxy in the server namespace, ``python -m drill.clients`` in the client namespace.

Needs root, ``nft`` and ``ip`` (outside CI a machine without them skips; under CI=true these fail). The checks
of a body are tested without any network in ``test_clients.py``.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drill.clients import read_observations
from drill.network import PRIVATE_RANGES, UPLINK_SPACE, Topology
from drill.plan import SERVER_ADDRESSES, make_plan
from feedproxy.testsnapshot import signed_snapshot
from tests.firewall.netns import require_nft_and_netns

pytestmark = pytest.mark.netns

ELECTION = "prez2023"
PATHS = [f"/appdata/{ELECTION}/20230113/odata/vysledky.xml", f"/pls/{ELECTION}/vysledky_okrsky?kolo=1"]
SIMULATE = (
    sys.executable,
    "-m",
    "feedproxy",
    "simulate",
    "--election",
    ELECTION,
    "--duration",
    "60",
    "--layout",
    "both",
)
SERVE = (sys.executable, "-m", "feedproxy", "serve", "--no-verify", "--allow-documentation-ranges")
SERVE += ("--listen", "[::]:80", "--workers", "1", "--refresh", "2")
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<VYSLEDKY xmlns="http://www.volby.cz/prezident/"><CR/></VYSLEDKY>\n'


# --- the real thing ---------------------------------------------------------------------------------------


@dataclass
class Stack:
    topology: Topology
    workdir: Path
    allowed: list[str]
    refused: list[str]

    def clients(self, mode: str, config: dict[str, Any], *, timeout: float = 30) -> list[dict[str, Any]]:
        path = self.workdir / f"{mode}-{time.monotonic_ns()}.json"
        path.write_text(json.dumps({"paths": PATHS, **config}), encoding="utf-8")
        out = path.with_suffix(".out")
        done = self.topology.run(
            self.topology.client_ns,
            [sys.executable, "-m", "drill.clients", mode, "--config", str(path), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr
        return read_observations(out)

    def sweep(self, addresses: list[str], **config: Any) -> dict[str, dict[str, Any]]:
        observations = self.clients("sweep", {"clients": [{"address": a} for a in addresses], **config})
        return {o["a"]: o for o in observations}

    def nft(self, script: str) -> None:
        self.topology.run(self.topology.server_ns, ["nft", "-f", "-"], input=script, text=True, check=True)


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no {text!r} in {path.name}: {path.read_text(errors='replace')}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_nft_and_netns()
    workdir = tmp_path_factory.mktemp("drill-network")
    rows = make_plan(datetime.now(UTC)).clients()
    v4 = [address for address, _, _ in rows if ":" not in address][:14]
    v6 = [address for address, _, _ in rows if ":" in address][:6]
    allowed, refused = v4[:8] + v6[:3], v4[8:] + v6[3:]
    snapshot = workdir / "snapshot.json"
    entries = [(a, "test" if i % 3 == 0 else "production", i + 1, f"Drill {i}") for i, a in enumerate(allowed)]
    snapshot.write_bytes(signed_snapshot(Ed25519PrivateKey.generate(), entries, election=ELECTION))
    processes: list[subprocess.Popen[bytes]] = []
    # prefix "drt": the drill itself cleans up "drill-*" leftovers and must not take the test's namespaces
    with Topology(v4 + v6, prefix="drt") as topology:
        try:
            with socket.socket() as probe:
                probe.bind((topology.host_address, 0))
                port = probe.getsockname()[1]
            simulator_log, proxy_log = workdir / "simulator.log", workdir / "proxy.log"
            with simulator_log.open("wb") as out:
                simulator = subprocess.Popen(
                    [*SIMULATE, "--listen", f"{topology.host_address}:{port}"],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.append(simulator)
            _wait_for(simulator_log, "national results", simulator)  # before the proxy's first fetch
            with proxy_log.open("wb") as out:
                proxy = topology.popen(
                    topology.server_ns,
                    [*SERVE, "--upstream", f"http://{topology.host_address}:{port}", "--snapshot", str(snapshot)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.append(proxy)
            _wait_for(proxy_log, "listening on", proxy)
            yield Stack(topology, workdir, allowed, refused)
        finally:
            for process in reversed(processes):
                _stop(process)


def test_topology_addresses_and_names(stack: Stack) -> None:
    topology = stack.topology
    assert topology.server_ns.startswith("drt-srv-") and topology.client_ns.startswith("drt-cli-")
    listed = topology.run(
        topology.client_ns,
        ["ip", "-j", "address", "show", "dev", topology.lan_device],
        text=True,
        capture_output=True,
        check=True,
    )
    held = {info["local"] for row in json.loads(listed.stdout) for info in row["addr_info"]}
    assert set(stack.allowed + stack.refused) <= held
    listed = topology.run(
        topology.server_ns, ["ip", "-j", "address", "show"], text=True, capture_output=True, check=True
    )
    held = {info["local"] for row in json.loads(listed.stdout) for info in row["addr_info"]}
    assert {*SERVER_ADDRESSES, topology.server_uplink} <= held
    # The uplink is in the benchmarking range, never a private one.
    for address in (topology.host_address, topology.server_uplink):
        assert ip_address(address) in UPLINK_SPACE
        assert not any(ip_address(address) in network for network in PRIVATE_RANGES)


def test_sweep_allowed_fetch_xml_others_are_refused(stack: Stack) -> None:
    everyone = stack.allowed + stack.refused
    result = stack.sweep(everyone, gzip=True)
    assert set(result) == set(everyone)
    for address in stack.allowed:
        observation = result[address]
        assert (observation["o"], observation["s"], observation["m"]) == ("ok", 200, False), observation
        assert observation["b"] > 0
    for address in stack.refused:
        observation = result[address]
        assert (observation["o"], observation["s"]) == ("refused", 403), observation
        assert "allowlist" in observation["r"]
    assert any(":" in a for a in stack.allowed) and any(":" in a for a in stack.refused)
    assert any(result[a].get("g") for a in stack.allowed)  # gzip was asked by every other client


def test_firewall_drop_is_a_timeout_and_probe_times_it(stack: Stack) -> None:
    dropped_v4 = next(a for a in stack.allowed if ":" not in a)
    dropped_v6 = next(a for a in stack.allowed if ":" in a)
    bystander = next(a for a in stack.allowed if a not in (dropped_v4, dropped_v6))
    config_path = stack.workdir / "probe.json"
    start = time.time() + 0.8  # the interpreter starts meanwhile
    config = {"clients": [{"address": a} for a in (dropped_v4, bystander)], "paths": PATHS[:1]}
    config_path.write_text(json.dumps({**config, "from": start, "until": start + 2.0, "every": 0.1}))
    out = stack.workdir / "probe.out"
    topology = stack.topology
    probe = topology.popen(
        topology.client_ns,
        [sys.executable, "-m", "drill.clients", "probe", "--config", str(config_path), "--out", str(out)],
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(max(0.0, start + 0.9 - time.time()))
        before = time.time()
        stack.nft(
            "table inet drill_test {\n chain input {\n  type filter hook input priority -10; policy accept;\n"
            f"  ip saddr {dropped_v4} tcp dport 80 drop\n  ip6 saddr {dropped_v6} tcp dport 80 drop\n }}\n}}\n"
        )
        after = time.time()
        _, errors = probe.communicate(timeout=15)
        assert probe.returncode == 0, errors

        timeline = [o for o in read_observations(out) if o["a"] == dropped_v4]
        assert {o["o"] for o in timeline if o["t"] < before - 0.05} == {"ok"}
        assert {o["o"] for o in timeline if o["t"] > after} == {"timeout"}
        last_ok = max(o["t"] for o in timeline if o["o"] == "ok")
        first_timeout = min(o["t"] for o in timeline if o["o"] == "timeout")
        assert last_ok < first_timeout and before - 0.15 < first_timeout < after + 0.15
        assert all(0.25 < o["d"] < 0.6 for o in timeline if o["o"] == "timeout")  # probe's 0.3 s connect timeout
        assert {o["o"] for o in read_observations(out) if o["a"] == bystander} == {"ok"}

        result = stack.sweep([dropped_v4, dropped_v6, bystander, stack.refused[0]])
        assert [result[a]["o"] for a in (dropped_v4, dropped_v6, bystander)] == ["timeout", "timeout", "ok"]
        assert result[stack.refused[0]]["o"] == "refused"
    finally:
        if probe.poll() is None:
            probe.kill()
        stack.topology.run(stack.topology.server_ns, ["nft", "delete", "table", "inet", "drill_test"], check=False)
    assert stack.sweep([dropped_v4, dropped_v6])[dropped_v4]["o"] == "ok"


def test_poll_observes_without_malformed_and_stops_on_sigterm(stack: Stack) -> None:
    clients = stack.allowed[:7] + stack.refused[:3]
    config = {
        "clients": [{"address": a} for a in clients],
        "interval": 1.0,
        "until": time.time() + 60,  # SIGTERM ends it first
        "conditional": True,
        "gzip": True,
    }
    config_path, out = stack.workdir / "poll.json", stack.workdir / "poll.out"
    config_path.write_text(json.dumps({"paths": PATHS, **config}))
    topology = stack.topology
    poller = topology.popen(
        topology.client_ns,
        [sys.executable, "-m", "drill.clients", "poll", "--config", str(config_path), "--out", str(out)],
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(5)
        assert poller.poll() is None
        poller.send_signal(signal.SIGTERM)
        _, errors = poller.communicate(timeout=10)
    finally:
        if poller.poll() is None:
            poller.kill()
    assert poller.returncode == 0, errors
    assert b"requests" in errors  # the summary
    observations = read_observations(out)
    assert len(observations) >= 25  # 10 clients, about 4 rounds each
    assert not [o for o in observations if o["m"]]
    by_address = {a: {o["o"] for o in observations if o["a"] == a} for a in clients}
    for address in stack.allowed[:7]:
        assert by_address[address] and by_address[address] <= {"ok", "not_modified"}, address
    for address in stack.refused[:3]:
        assert by_address[address] == {"refused"}, address
    assert {o["p"] for o in observations} == set(PATHS)
    assert any(o.get("c") for o in observations) and any(o.get("g") for o in observations)
