from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedproxy.cli import main
from feedproxy.testsnapshot import signed_snapshot, write_public_key


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["serve"]) == 2
    assert main(["serve", "--upstream", "http://127.0.0.1:1", "--snapshot", "x.json"]) == 2
    assert "--public-key FILE, or --no-verify" in capsys.readouterr().err
    assert main(["serve", "--upstream", "ftp://x", "--snapshot", "x", "--no-verify"]) == 2
    assert main(["serve", "--upstream", "http://x", "--snapshot", "x", "--no-verify", "--listen", "nowhere"]) == 2
    assert main(["serve", "--upstream", "http://x", "--snapshot", "x", "--no-verify", "--rate", "0"]) == 2


def test_refused_inputs_exit_1_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "--upstream", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"]
    assert main([*base, "--snapshot", "x", "--public-key", str(tmp_path / "missing.pem")]) == 1
    assert "cannot read" in capsys.readouterr().err
    forged = tmp_path / "snapshot.json"
    forged.write_bytes(signed_snapshot(Ed25519PrivateKey.generate(), [("198.51.100.7", "production", 1, "X")]))
    key = tmp_path / "public.pem"
    write_public_key(Ed25519PrivateKey.generate(), key)
    assert main([*base, "--snapshot", str(forged), "--public-key", str(key)]) == 1
    error = capsys.readouterr().err
    assert "no snapshot loaded" in error and "signature" in error
    assert main([*base, "--snapshot", str(forged), "--no-verify"]) == 1  # documentation range without the switch
    assert "bad_entry" in capsys.readouterr().err


def test_simulate_is_dispatched_with_the_rest_of_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    fake = types.ModuleType("feedproxy.simulator.cli")
    fake.main = lambda argv: seen.append(list(argv)) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "feedproxy.simulator.cli", fake)
    assert main(["simulate", "--port", "0", "--election", "prez2023"]) == 0
    assert seen == [["--port", "0", "--election", "prez2023"]]


def test_new_serve_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "--upstream", "http://127.0.0.1:1", "--snapshot", "x", "--no-verify"]
    assert main([*base, "--election", "KV 2026"]) == 2
    assert "not an election code" in capsys.readouterr().err
    assert main([*base, "--connection-limit", "-1"]) == 2
    assert main([*base, "--header-timeout", "0"]) == 2
    assert main([*base, "--metrics-allow", "everyone"]) == 2
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert main([*base, "--metrics-token-file", str(empty)]) == 1
    assert "holds no token" in capsys.readouterr().err
    assert main([*base, "--metrics-token-file", str(tmp_path / "missing")]) == 1
    assert "cannot read" in capsys.readouterr().err
