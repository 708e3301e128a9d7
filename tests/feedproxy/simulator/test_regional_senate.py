"""The autumn 2028 elections: the regional councils and one third of the Senate with its run-off, parsed back."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import pytest

from feedproxy.simulator import Simulation
from tests.feedproxy.simulator.conftest import child, children, parse

DURATION = 60.0
BATCHES = 12
KZ = "/appdata/kz2028/20281006/odata/"
SENATE_1 = "/appdata/senat2028/20281006/odata/"
SENATE_2 = "/appdata/senat2028/20281013/odata/"


@pytest.fixture(scope="module")
def kz() -> Simulation:
    return Simulation("kz2028", DURATION, BATCHES, seed=5, layout="appdata", repeats=4)


@pytest.fixture(scope="module")
def senate() -> Simulation:
    return Simulation("senat2028", DURATION, BATCHES, seed=5, layout="appdata", repeats=4)


def latest_records(sim: Simulation, base: str, at: float, option: str) -> dict[tuple[str, ...], dict[str, int]]:
    """Each precinct's newest record (highest PORADI_ZPRAC) over every batch: its votes per option."""
    latest: dict[tuple[str, ...], tuple[int, dict[str, int]]] = {}
    for n in range(1, BATCHES + 1):
        answer = sim.document(f"{base}okrsky/vysledky_okrsky_{n:05d}.xml", "", at)
        assert answer.status == 200
        for okrsek in children(parse(answer.body), "OKRSEK"):
            key = (okrsek.get("CIS_OBEC", ""), okrsek.get("CIS_OKRSEK", ""), okrsek.get("CIS_OBVODU", ""))
            order = int(okrsek.get("PORADI_ZPRAC", ""))
            votes = {h.get(option, ""): int(h.get("HLASY", "")) for h in children(okrsek, "HLASY_OKRSEK")}
            votes["_valid"] = int(child(okrsek, "UCAST_OKRSEK").get("PLATNE_HLASY", ""))
            if key not in latest or latest[key][0] < order:
                latest[key] = (order, votes)
    return {key: votes for key, (_, votes) in latest.items()}


# -- regional councils ---------------------------------------------------------------------------------


def check_region(kraj: Element) -> None:
    valid = int(child(kraj, "UCAST").get("PLATNE_HLASY", ""))
    values = [child(strana, "HODNOTY_STRANA") for strana in children(kraj, "STRANA")]
    assert sum(int(v.get("HLASY", "")) for v in values) == valid
    seats = sum(int(v.get("MANDATY", "0")) for v in values)
    assert seats == (int(kraj.get("POCMANDATU", "")) if valid else 0)
    for v in values:  # only lists at or above 5 % of the region's valid votes hold seats
        if v.get("MANDATY"):
            assert int(v.get("HLASY", "")) * 100 >= 5 * valid


def test_regional_documents_parse_and_add_up_at_every_stage(kz: Simulation) -> None:
    for at in (0.0, DURATION / 4, DURATION / 2, DURATION):
        root = parse(kz.document(KZ + "vysledky.xml", "", at).body)
        regions = list(children(root, "KRAJ"))
        assert [int(k.get("CIS_KRAJ", "")) for k in regions] == list(range(2, 15))  # no council for Prague
        for kraj in regions:
            check_region(kraj)
            own = parse(kz.document(f"{KZ}kraje/vysledky_kraj_{kraj.get('CIS_KRAJ')}.xml", "", at).body)
            assert child(own, "KRAJ").attrib == kraj.attrib
            assert child(child(own, "KRAJ"), "UCAST").attrib == child(kraj, "UCAST").attrib
    assert kz.document(KZ + "kraje/vysledky_kraj_1.xml", "", DURATION).status == 404


def test_regional_batches_add_up_to_each_regions_totals(kz: Simulation) -> None:
    records = latest_records(kz, KZ, DURATION, "KSTRANA")
    assert len(records) == len(kz.count.precincts)
    root = parse(kz.document(KZ + "vysledky.xml", "", DURATION).body)
    total_valid = sum(int(child(k, "UCAST").get("PLATNE_HLASY", "")) for k in children(root, "KRAJ"))
    assert sum(v["_valid"] for v in records.values()) == total_valid
    by_party: dict[str, int] = {}
    for kraj in children(root, "KRAJ"):
        for strana in children(kraj, "STRANA"):
            number = strana.get("KSTRANA", "")
            by_party[number] = by_party.get(number, 0) + int(child(strana, "HODNOTY_STRANA").get("HLASY", ""))
    for number, votes in by_party.items():
        assert sum(v.get(number, 0) for v in records.values()) == votes


# -- the Senate ----------------------------------------------------------------------------------------


def test_senate_round_one_documents_parse_and_add_up(senate: Simulation) -> None:
    for at in (DURATION / 3, DURATION):
        root = parse(senate.document(SENATE_1 + "vysledky.xml", "", at).body)
        districts = list(children(root, "OBVOD"))
        assert [int(o.get("CISLO", "")) for o in districts] == list(range(2, 81, 3))  # the 2028 third
        for obvod in districts:
            ucast = [u for u in children(obvod, "UCAST")]
            assert [u.get("KOLO") for u in ucast] == ["1"]
            candidates = list(children(obvod, "KANDIDAT"))
            assert 4 <= len(candidates) <= 8
            assert sum(int(k.get("HLASY_1KOLO", "")) for k in candidates) == int(ucast[0].get("PLATNE_HLASY", ""))
            assert all(k.get("HLASY_2KOLO") is None for k in candidates)
            own = parse(senate.document(f"{SENATE_1}obvody/vysledky_obvod_{obvod.get('CISLO')}.xml", "", at).body)
            assert [c.attrib for c in child(own, "OBVOD")] == [c.attrib for c in obvod]
    final = parse(senate.document(SENATE_1 + "vysledky.xml", "", DURATION).body)
    for obvod in children(final, "OBVOD"):
        verdicts = sorted(k.get("ZVOLEN_1KOLO", "") for k in children(obvod, "KANDIDAT"))
        assert verdicts.count("ZVOLEN") == 1 or verdicts.count("2.KOLO") == 2


def test_senate_runoff_counts_its_own_two_candidates_in_the_undecided_districts(senate: Simulation) -> None:
    runoff = senate.rounds[1]
    assert runoff.offset == 7 * 24 * 3600
    first_final = {
        o.get("CISLO"): o
        for o in children(parse(senate.document(SENATE_1 + "vysledky.xml", "", DURATION).body), "OBVOD")
    }
    undecided = {number for number, o in first_final.items() if any(k.get("ZVOLEN_1KOLO") == "2.KOLO" for k in o)}
    assert 0 < len(undecided) < len(first_final)  # some districts decided in round 1, most go to a run-off
    for at in (runoff.offset + DURATION / 2, runoff.offset + DURATION):
        root = parse(senate.document(SENATE_2 + "vysledky.xml", "", at).body)
        for obvod in children(root, "OBVOD"):
            number = obvod.get("CISLO", "")
            finalists = [k for k in children(obvod, "KANDIDAT") if k.get("HLASY_2KOLO") is not None]
            kola = [u.get("KOLO") for u in children(obvod, "UCAST")]
            # Round 1 as it ended, in every district.
            assert [k.attrib.get("HLASY_1KOLO") for k in children(obvod, "KANDIDAT")] == [
                k.get("HLASY_1KOLO") for k in children(first_final[number], "KANDIDAT")
            ]
            if number not in undecided:
                assert not finalists and kola == ["1"]
                assert senate.document(f"{SENATE_2}obvody/vysledky_obvod_{number}.xml", "", at).status == 404
                continue
            assert kola == ["1", "2"]
            assert [k.get("ZVOLEN_1KOLO") for k in finalists] == ["2.KOLO", "2.KOLO"]
            second = next(u for u in children(obvod, "UCAST") if u.get("KOLO") == "2")
            valid = int(second.get("PLATNE_HLASY", ""))
            assert sum(int(k.get("HLASY_2KOLO", "")) for k in finalists) == valid
            elected = [k for k in finalists if k.get("ZVOLEN_2KOLO") == "ZVOLEN"]
            assert len(elected) == (1 if valid else 0)
    # The run-off's own batches: two candidates a precinct, adding up to the final run-off figures.
    records = latest_records(senate, SENATE_2, runoff.offset + DURATION, "PORADOVE_CISLO")
    assert len(records) == len(runoff.count.precincts)
    final = parse(senate.document(SENATE_2 + "vysledky.xml", "", runoff.offset + DURATION).body)
    for obvod in children(final, "OBVOD"):
        number = obvod.get("CISLO", "")
        if number not in undecided:
            assert not any(key[2] == number for key in records)
            continue
        own = [v for key, v in records.items() if key[2] == number]
        finalists = [k for k in children(obvod, "KANDIDAT") if k.get("HLASY_2KOLO") is not None]
        assert all(set(v) - {"_valid"} == {k.get("PORADOVE_CISLO") for k in finalists} for v in own)
        for k in finalists:
            assert sum(v[k.get("PORADOVE_CISLO", "")] for v in own) == int(k.get("HLASY_2KOLO", ""))


def test_senate_round_two_batches_are_404_until_published(senate: Simulation) -> None:
    runoff = senate.rounds[1]
    path = f"{SENATE_2}okrsky/vysledky_okrsky_00001.xml"
    assert senate.document(path, "", runoff.offset + runoff.count.published_at(1) - 0.01).status == 404
    body = senate.document(path, "", runoff.offset + runoff.count.published_at(1)).body
    assert child(parse(body), "DAVKA").get("KOLO") == "2"
    assert (
        senate.document(SENATE_2 + "vysledky_okrsky.xml", "", runoff.offset + DURATION).body
        == senate.document(f"{SENATE_2}okrsky/vysledky_okrsky_{BATCHES:05d}.xml", "", runoff.offset + DURATION).body
    )


@pytest.mark.parametrize("election", ["kz2028", "senat2028"])
def test_the_2028_elections_have_no_old_layout(election: str) -> None:
    with pytest.raises(ValueError, match="appdata layout only"):
        Simulation(election, DURATION, BATCHES, layout="pls")
