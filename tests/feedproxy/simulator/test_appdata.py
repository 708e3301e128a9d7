"""The office's 2025+ layout (static files under /appdata/) and the presidential run-off with its own count."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from feedproxy.simulator import Clock, Simulation, SimulatorServer
from tests.feedproxy.simulator.conftest import BATCHES, DURATION, START, child, children, local, parse

ROUND1 = "/appdata/prez2023/20230113/odata/"
ROUND2 = "/appdata/prez2023/20230127/odata/"


def batch_path(base: str, number: int) -> str:
    return f"{base}okrsky/vysledky_okrsky_{number:05d}.xml"


def test_numbered_batches_are_404_until_published_then_fixed(prez: Simulation) -> None:
    for n in (1, 2, 17, BATCHES):
        published = prez.count.published_at(n)
        assert prez.document(batch_path(ROUND1, n), "", published - 0.01).status == 404
        answer = prez.document(batch_path(ROUND1, n), "", published)
        assert answer.status == 200
        davka = child(parse(answer.body), "DAVKA")
        assert davka.get("PORADI_DAVKY") == str(n) and davka.get("KOLO") == "1"
        # The same bytes ever after: a published batch never changes.
        assert prez.document(batch_path(ROUND1, n), "", DURATION * 3).body == answer.body
    assert prez.document(batch_path(ROUND1, BATCHES + 1), "", DURATION * 3).status == 404


def test_the_alias_names_the_newest_batch_and_is_404_before_the_first(prez: Simulation) -> None:
    alias = ROUND1 + "vysledky_okrsky.xml"
    assert prez.document(alias, "", prez.count.published_at(1) - 0.01).status == 404
    for at in (prez.count.published_at(1), 123.4, 300.0, DURATION, DURATION * 2):
        n = prez.batch_at(at)
        newest = prez.document(alias, "", at)
        assert newest.status == 200
        assert newest.body == prez.document(batch_path(ROUND1, n), "", at).body


def test_repeated_precincts_come_again_with_a_higher_order(prez: Simulation) -> None:
    first_order: dict[tuple[str, str], int] = {}
    repeats = 0
    for n in range(1, BATCHES + 1):
        root = parse(prez.document(batch_path(ROUND1, n), "", DURATION).body)
        for okrsek in children(root, "OKRSEK"):
            key = (okrsek.get("CIS_OBEC", ""), okrsek.get("CIS_OKRSEK", ""))
            order = int(okrsek.get("PORADI_ZPRAC", "0"))
            if okrsek.get("OPAKOVANE") == "1":
                repeats += 1
                assert key in first_order and order > first_order[key]
            else:
                assert key not in first_order
                first_order[key] = order
    assert repeats == 6  # the fixture's repeats
    assert len(first_order) == len(prez.count.precincts)


def test_national_document_is_the_same_as_on_the_old_path(prez: Simulation) -> None:
    for at in (0.0, 250.0, DURATION):
        assert (
            prez.document(ROUND1 + "vysledky.xml", "", at).body == prez.document("/pls/prez2023/vysledky", "", at).body
        )


@pytest.mark.parametrize(
    "path",
    [
        "/appdata/prez2023/20230114/odata/vysledky.xml",  # not a voting day of this election
        "/appdata/prez2023/odata/vysledky.xml",  # the president's paths carry the day
        "/appdata/ps2021/odata/vysledky.xml",
        ROUND1 + "okrsky/vysledky_okrsky_1.xml",  # five digits
        ROUND1 + "okrsky/vysledky_okrsky_00000.xml",
        ROUND1 + "vysledky",
        ROUND1 + "okresy/vysledky_okres_CZ0722.xml",
    ],
)
def test_unknown_appdata_paths_are_404(prez: Simulation, path: str) -> None:
    assert prez.document(path, "", DURATION).status == 404


def test_a_static_file_takes_no_query(prez: Simulation) -> None:
    assert prez.document(ROUND1 + "vysledky.xml", "x=1", DURATION).status == 404


def test_layouts_serve_only_their_paths() -> None:
    appdata = Simulation("ps2021", 60, 6, seed=1, layout="appdata")
    pls = Simulation("ps2021", 60, 6, seed=1, layout="pls")
    assert appdata.document("/appdata/ps2021/odata/vysledky.xml", "", 60).status == 200
    assert appdata.document("/pls/ps2021/vysledky", "", 60).status == 404
    assert pls.document("/pls/ps2021/vysledky", "", 60).status == 200
    assert pls.document("/appdata/ps2021/odata/vysledky.xml", "", 60).status == 404
    assert all(path.startswith("/appdata/") for _, path in appdata.documents())
    assert all(path.startswith("/pls/") for _, path in pls.documents())
    district = appdata.document("/appdata/ps2021/odata/okresy/vysledky_okres_CZ0722.xml", "", 60)
    assert district.body == pls.document("/pls/ps2021/vysledky_okres", "nuts=CZ0722", 60).body
    with pytest.raises(ValueError, match="layout"):
        Simulation("ps2021", 60, 6, layout="static")


def test_chamber_batches_add_up_to_the_national_totals() -> None:
    sim = Simulation("ps2021", 60, 6, seed=2, layout="appdata", repeats=3)
    latest: dict[tuple[str, str], tuple[int, dict[str, int], int]] = {}
    for n in range(1, 7):
        for okrsek in children(
            parse(sim.document(f"/appdata/ps2021/odata/okrsky/vysledky_okrsky_{n:05d}.xml", "", 60).body), "OKRSEK"
        ):
            key = (okrsek.get("CIS_OBEC", ""), okrsek.get("CIS_OKRSEK", ""))
            order = int(okrsek.get("PORADI_ZPRAC", "0"))
            votes = {h.get("KSTRANA", ""): int(h.get("HLASY", "0")) for h in children(okrsek, "HLASY_OKRSEK")}
            valid = int(child(okrsek, "UCAST_OKRSEK").get("PLATNE_HLASY", "0"))
            if key not in latest or latest[key][0] < order:
                latest[key] = (order, votes, valid)
    assert len(latest) == len(sim.count.precincts)
    cr = child(parse(sim.document("/appdata/ps2021/odata/vysledky.xml", "", 60).body), "CR")
    assert sum(valid for _, _, valid in latest.values()) == int(child(cr, "UCAST").get("PLATNE_HLASY", ""))
    for strana in children(cr, "STRANA"):
        number = strana.get("KSTRANA", "")
        total = sum(votes.get(number, 0) for _, votes, _ in latest.values())
        assert total == int(child(strana, "HODNOTY_STRANA").get("HLASY", ""))


# -- the run-off ------------------------------------------------------------------------------------------


def test_runoff_has_two_candidates_whose_totals_add_up(prez: Simulation) -> None:
    runoff = prez.rounds[1]
    assert runoff.offset == 14 * 24 * 3600  # 28 January 2023, 14:00
    seen_counted = False
    for at in [runoff.offset + DURATION * i / 20 for i in range(21)]:
        root = parse(prez.document(ROUND2 + "vysledky.xml", "", at).body)
        cr = child(root, "CR")
        finalists = [k for k in children(cr, "KANDIDAT") if k.get("HLASY_2KOLO") is not None]
        assert [k.get("PRIJMENI") for k in finalists] == ["Pavel", "Babiš"]
        assert all(k.get("ZVOLEN_1KOLO") == "2.KOLO" for k in finalists)
        ucast = {u.get("KOLO"): u for u in children(cr, "UCAST")}
        assert set(ucast) == {"1", "2"}
        second = ucast["2"]
        valid = int(second.get("PLATNE_HLASY", ""))
        assert sum(int(k.get("HLASY_2KOLO", "")) for k in finalists) == valid
        assert (
            int(second.get("OKRSKY_ZPRAC", "")) == runoff.count.state(prez.rounds[1].published(at))[("CR", 0)].precincts
        )
        # Round 1 stays at its final figures.
        assert ucast["1"].get("OKRSKY_ZPRAC_PROC") == "100.00"
        seen_counted = seen_counted or valid > 0
        if valid:
            elected = [k.get("PRIJMENI") for k in finalists if k.get("ZVOLEN_2KOLO") == "ZVOLEN"]
            leader = max(finalists, key=lambda k: int(k.get("HLASY_2KOLO", "")))
            assert elected == [leader.get("PRIJMENI")]
    assert seen_counted
    final = child(parse(prez.document(ROUND2 + "vysledky.xml", "", runoff.offset + DURATION).body), "CR")
    shares = {
        k.get("PRIJMENI"): float(k.get("HLASY_PROC_2KOLO", ""))
        for k in children(final, "KANDIDAT")
        if k.get("HLASY_2KOLO")
    }
    assert 55 < shares["Pavel"] < 62 and 38 < shares["Babiš"] < 45  # around the real 58.32 : 41.67


def test_runoff_batches_are_its_own_not_round_one_replayed(prez: Simulation) -> None:
    runoff = prez.rounds[1]
    assert prez.document(batch_path(ROUND2, 1), "", runoff.offset - 1).status == 404
    latest: dict[tuple[str, str], tuple[int, dict[str, int]]] = {}
    for n in range(1, BATCHES + 1):
        body = prez.document(batch_path(ROUND2, n), "", runoff.offset + DURATION).body
        assert body != prez.document(batch_path(ROUND1, n), "", DURATION).body
        root = parse(body)
        assert child(root, "DAVKA").get("KOLO") == "2"
        for okrsek in children(root, "OKRSEK"):
            votes = {h.get("PORADOVE_CISLO", ""): int(h.get("HLASY", "")) for h in children(okrsek, "HLASY_OKRSEK")}
            assert set(votes) == {"4", "7"}
            key = (okrsek.get("CIS_OBEC", ""), okrsek.get("CIS_OKRSEK", ""))
            order = int(okrsek.get("PORADI_ZPRAC", ""))
            if key not in latest or latest[key][0] < order:
                latest[key] = (order, votes)
    final = child(parse(prez.document(ROUND2 + "vysledky.xml", "", runoff.offset + DURATION).body), "CR")
    for kandidat in children(final, "KANDIDAT"):
        if kandidat.get("HLASY_2KOLO") is not None:
            number = kandidat.get("PORADOVE_CISLO", "")
            assert sum(v[number] for _, v in latest.values()) == int(kandidat.get("HLASY_2KOLO", ""))
    # The old layout: kolo=2 is the same batch; the national document holds both rounds once the run-off counts.
    old = prez.document("/pls/prez2023/vysledky_okrsky", "kolo=2&davka=3", runoff.offset + DURATION)
    assert old.body == prez.document(batch_path(ROUND2, 3), "", runoff.offset + DURATION).body
    assert (
        local(child(parse(prez.document("/pls/prez2023/vysledky_okrsky", "kolo=2&davka=3", 0).body), "CHYBA"))
        == "CHYBA"
    )
    assert b"HLASY_2KOLO" not in prez.document("/pls/prez2023/vysledky", "", DURATION).body
    assert b"HLASY_2KOLO" in prez.document("/pls/prez2023/vysledky", "", runoff.offset + 1).body


def test_runoff_start_can_be_set() -> None:
    sim = Simulation("prez2023", 60, 5, seed=1, start=START, runoff_start=START.replace(hour=15))
    assert sim.rounds[1].offset == 3600
    with pytest.raises(ValueError, match="run-off"):
        Simulation("prez2023", 60, 5, seed=1, start=START, runoff_start=START.replace(minute=0, second=30))


def test_over_http_an_unpublished_batch_is_404_then_200(prez: Simulation) -> None:
    path = batch_path(ROUND1, 5)
    with SimulatorServer(prez, clock=Clock(prez.count.published_at(5) - 1, frozen=True)) as server:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url + path, timeout=5)
        assert missing.value.code == 404
        server.clock.set(prez.count.published_at(5))
        with urllib.request.urlopen(server.url + path, timeout=5) as answer:
            assert answer.status == 200 and answer.headers["ETag"]
