"""What the drill's clients poll: round 1 on the old endpoints, the run-off's static files with every batch."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta

from drill.run import polled_paths
from feedproxy.simulator import Simulation, SimulatorServer
from feedproxy.simulator.xmlwriter import PRAGUE

START = datetime(2026, 12, 5, 14, 0, tzinfo=PRAGUE)


def test_round_one_on_pls_the_runoff_on_appdata_with_each_batchs_publication() -> None:
    sim = Simulation("prez2023", 55, 20, seed=1, start=START, layout="both", runoff_start=START + timedelta(seconds=90))
    with SimulatorServer(sim) as server, urllib.request.urlopen(server.url + "/_control/", timeout=5) as answer:
        index = json.load(answer)
    paths, publications = polled_paths(index)
    assert paths[0] == "/pls/prez2023/vysledky"  # the truncated-document fault's target
    assert paths[1:5] == [
        "/pls/prez2023/vysledky_okrsky?kolo=1&davka=1",
        "/pls/prez2023/vysledky_okrsky?kolo=1&davka=2",
        "/pls/prez2023/vysledky_okrsky?kolo=1&davka=3",
        "/pls/prez2023/vysledky_okrsky?kolo=1",
    ]
    base = "/appdata/prez2023/20230127/odata/"
    assert paths[5:7] == [base + "vysledky.xml", base + "vysledky_okrsky.xml"]
    assert paths[7:] == [f"{base}okrsky/vysledky_okrsky_{n:05d}.xml" for n in range(1, 21)]
    assert not any("kolo=2" in p or "/20230113/" in p for p in paths)
    # Batch N of the run-off is published N/20 of the count after its start.
    assert set(publications) == set(paths[7:])
    for n, path in enumerate(paths[7:], start=1):
        expected = (START + timedelta(seconds=90 + 55 * n / 20)).timestamp()
        assert abs(publications[path] - expected) < 1e-6
