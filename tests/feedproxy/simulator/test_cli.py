"""``feedproxy simulate`` / ``python -m feedproxy.simulator``: usage errors, start-up, signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from feedproxy.simulator.cli import main

ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize(
    "argv",
    [
        ["--listen", "localhost"],
        ["--listen", "127.0.0.1:99999"],
        ["--election", "kv2022"],
        ["--batches", "0"],
        ["--duration", "-1"],
        ["--start-at", "yesterday"],
        ["--fault", "explode"],
        ["--fault", "slow:x"],
        ["--layout", "static"],
        ["--runoff-at", "next week"],
        ["--election", "prez2023", "--start-at", "2023-01-14T14:00", "--runoff-at", "2023-01-14T14:05"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "feedproxy simulate" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "usage: feedproxy simulate" in capsys.readouterr().out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prints_urls_serves_and_stops_on_a_signal(sig: signal.Signals) -> None:
    argv = [sys.executable, "-m", "feedproxy.simulator", "--election", "ps2021", "--listen", "127.0.0.1:0"]
    argv += ["--duration", "60", "--batches", "6", "--start-at", "2021-10-09T14:00:00", "--fault", "status500:1"]
    argv += ["--layout", "pls"]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert lines[0].startswith("feedproxy simulate: ps2021, seed 0, 6 batches over 60 s from 2021-10-09 14:00:00")
        national = lines[1].split()[-1]
        assert "national" in lines[1] and national.endswith("/pls/ps2021/vysledky")
        assert lines[2].split()[-1].endswith("/pls/ps2021/vysledky_okres?nuts=CZ0722")
        assert lines[3].split()[-1].endswith("/_control/")
        with pytest.raises(urllib.request.HTTPError) as spoilt:  # --fault: the first answer is a 500
            urllib.request.urlopen(national, timeout=5)
        assert spoilt.value.code == 500
        with urllib.request.urlopen(national, timeout=5) as response:
            assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
            assert b'OKRSKY_ZPRAC_PROC="100.00"' in response.read()  # started in 2021: long over
        process.send_signal(sig)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out.strip().endswith("feedproxy simulate: stopped")


def test_default_layout_announces_and_serves_the_appdata_paths() -> None:
    argv = [sys.executable, "-m", "feedproxy.simulator", "--election", "ps2021", "--listen", "127.0.0.1:0"]
    argv += ["--duration", "60", "--batches", "6", "--start-at", "2021-10-09T14:00:00"]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        urls = [line.split()[-1] for line in lines[1:]]
        assert urls[0].endswith("/appdata/ps2021/odata/vysledky.xml")
        assert urls[1].endswith("/appdata/ps2021/odata/okrsky/vysledky_okrsky_NNNNN.xml")
        assert urls[2].endswith("/appdata/ps2021/odata/vysledky_okrsky.xml")
        assert urls[3].endswith("/appdata/ps2021/odata/okresy/vysledky_okres_CZ0722.xml")
        assert urls[4].endswith("/_control/")
        assert not any("/pls/" in line for line in lines)
        with urllib.request.urlopen(urls[1].replace("NNNNN", "00006"), timeout=5) as response:
            assert b'PORADI_DAVKY="6"' in response.read()
        with pytest.raises(urllib.request.HTTPError) as old:  # the old paths are not served in this layout
            urllib.request.urlopen(urls[0].replace("/appdata/ps2021/odata/vysledky.xml", "/pls/ps2021/vysledky"))
        assert old.value.code == 404
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
