"""Stepping through a whole night: the totals add up at every instant and nothing counted ever goes back."""

from __future__ import annotations

import functools
import itertools
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element

from feedproxy.simulator import Simulation, percent
from feedproxy.simulator.data import prez2023
from feedproxy.simulator.xmlwriter import timestamp
from tests.feedproxy.simulator.conftest import DURATION, START, child, children, instants, parse

COUNTS = ("OKRSKY_ZPRAC", "ZAPSANI_VOLICI", "VYDANE_OBALKY", "ODEVZDANE_OBALKY", "PLATNE_HLASY")


def ucast(area: Element) -> dict[str, int]:
    attrib = child(area, "UCAST").attrib
    return {k: int(v) for k, v in attrib.items() if "PROC" not in k}


def assert_turnout_consistent(area: Element) -> dict[str, int]:
    u = ucast(area)
    attrib = child(area, "UCAST").attrib
    assert attrib["OKRSKY_ZPRAC_PROC"] == percent.rate(u["OKRSKY_ZPRAC"], u["OKRSKY_CELKEM"])
    assert attrib["UCAST_PROC"] == percent.rate(u["VYDANE_OBALKY"], u["ZAPSANI_VOLICI"])
    assert attrib["PLATNE_HLASY_PROC"] == percent.rate(u["PLATNE_HLASY"], u["ODEVZDANE_OBALKY"])
    assert 0 <= u["PLATNE_HLASY"] <= u["ODEVZDANE_OBALKY"] <= u["VYDANE_OBALKY"] <= u["ZAPSANI_VOLICI"]
    assert 0 <= u["OKRSKY_ZPRAC"] <= u["OKRSKY_CELKEM"]
    return u


def assert_not_decreasing(before: dict[object, int], after: dict[object, int]) -> None:
    assert set(before) <= set(after)
    dropped = {key: (value, after[key]) for key, value in before.items() if after[key] < value}
    assert not dropped


def stamp_of(root: Element) -> datetime:
    return datetime.fromisoformat(root.get("DATUM_CAS_GENEROVANI"))


# -- presidential -----------------------------------------------------------------------------------------


def prez_counts(root: Element) -> dict[object, int]:
    cr = child(root, "CR")
    counts: dict[object, int] = {k: v for k, v in ucast(cr).items() if k in COUNTS}
    counts.update({("HLASY", k.get("PORADOVE_CISLO")): int(k.get("HLASY_1KOLO")) for k in children(cr, "KANDIDAT")})
    return counts


def test_prez_national_adds_up_and_only_grows(prez: Simulation) -> None:
    previous: dict[object, int] = {}
    previous_stamp = None
    for at in instants(DURATION):
        n = prez.batch_at(at)
        root = parse(prez.document("/pls/prez2023/vysledky", "", at).body)
        cr = child(root, "CR")
        u = assert_turnout_consistent(cr)
        candidates = list(children(cr, "KANDIDAT"))
        votes = [int(k.get("HLASY_1KOLO")) for k in candidates]
        assert sum(votes) == u["PLATNE_HLASY"]
        for k, v in zip(candidates, votes, strict=True):
            assert k.get("HLASY_PROC_1KOLO") == percent.share(v, u["PLATNE_HLASY"])
        verdicts = sorted(k.get("ZVOLEN_1KOLO") for k in candidates)
        assert verdicts.count("NEZVOLEN") in (len(votes), len(votes) - 1, len(votes) - 2)
        assert u["OKRSKY_ZPRAC"] == (prez.count.batches[n - 1].processed if n else 0)
        stamp = stamp_of(root)
        assert stamp == datetime.fromisoformat(timestamp(prez.generated_at(n)))
        if previous_stamp is not None:
            assert stamp >= previous_stamp
        counts = prez_counts(root)
        assert_not_decreasing(previous, counts)
        previous, previous_stamp = counts, stamp
        if at == 0:
            assert u["OKRSKY_ZPRAC"] == 0 and u["ZAPSANI_VOLICI"] == 0 and set(votes) == {0}
        if at >= DURATION:
            assert u["OKRSKY_ZPRAC"] == u["OKRSKY_CELKEM"] == prez2023.OKRSKY_CELKEM
            assert u["ZAPSANI_VOLICI"] == prez2023.ZAPSANI_VOLICI
            assert child(cr, "UCAST").get("OKRSKY_ZPRAC_PROC") == "100.00"


def test_prez_stamps_advance_with_every_batch(prez: Simulation) -> None:
    stamps = [
        stamp_of(parse(prez.document("/pls/prez2023/vysledky", "", prez.count.published_at(n)).body)) for n in range(41)
    ]
    assert stamps[0] == START.replace(tzinfo=None)
    assert all(a < b for a, b in itertools.pairwise(stamps))
    assert stamps[-1] == (START + timedelta(seconds=DURATION)).replace(tzinfo=None)


def test_prez_batches_number_on_and_add_up_to_the_national_totals(prez: Simulation) -> None:
    """Applying batches 1..n (a repeat replacing its precinct's record) gives the national document at n."""
    records: dict[tuple[str, str], dict[str, int]] = {}
    last_order = 0
    last_time = START.replace(tzinfo=None)
    repeats = 0
    for n in range(1, prez.batches + 1):
        at = prez.count.published_at(n)
        root = parse(prez.document("/pls/prez2023/vysledky_okrsky", f"kolo=1&davka={n}", DURATION).body)
        newest = parse(prez.document("/pls/prez2023/vysledky_okrsky", "kolo=1", at).body)
        assert child(newest, "DAVKA").attrib == child(root, "DAVKA").attrib
        davka = {k: int(v) for k, v in child(root, "DAVKA").attrib.items()}
        okrsky = list(children(root, "OKRSEK"))
        assert davka["PORADI_DAVKY"] == n and davka["KOLO"] == 1
        assert davka["OKRSKY_DAVKA"] == len(okrsky) >= 1
        assert stamp_of(root) == datetime.fromisoformat(timestamp(prez.generated_at(n)))
        for okrsek in okrsky:
            order = int(okrsek.get("PORADI_ZPRAC"))
            assert order == last_order + 1
            last_order = order
            processed = datetime.fromisoformat(okrsek.get("DATUM_CAS_ZPRAC"))
            assert last_time <= processed <= stamp_of(root)
            last_time = processed
            key = (okrsek.get("CIS_OBEC"), okrsek.get("CIS_OKRSEK"))
            assert (key in records) == (okrsek.get("OPAKOVANE") == "1")
            repeats += okrsek.get("OPAKOVANE") == "1"
            figures = {k: int(v) for k, v in child(okrsek, "UCAST_OKRSEK").attrib.items()}
            votes = {h.get("PORADOVE_CISLO"): int(h.get("HLASY")) for h in children(okrsek, "HLASY_OKRSEK")}
            assert sum(votes.values()) == figures["PLATNE_HLASY"]
            if key in records:
                assert_not_decreasing(records[key], {**figures, **votes})
            records[key] = {**figures, **votes}
        assert davka["OKRSKY_ZPRAC"] == len(records)
        assert davka["OKRSKY_CELKEM"] == prez2023.OKRSKY_CELKEM
        national = prez_counts(parse(prez.document("/pls/prez2023/vysledky", "", at).body))
        summed = {
            field: sum(r[name] for r in records.values())
            for field, name in [
                ("ZAPSANI_VOLICI", "ZAPSANI_VOLICI"),
                ("VYDANE_OBALKY", "VYDANE_OBALKY"),
                ("ODEVZDANE_OBALKY", "ODEVZDANE_OBALKY"),
                ("PLATNE_HLASY", "PLATNE_HLASY"),
            ]
        }
        summed.update({("HLASY", c): sum(r[c] for r in records.values()) for c in votes})
        summed["OKRSKY_ZPRAC"] = len(records)
        assert summed == national
    assert len(records) == prez2023.OKRSKY_CELKEM
    assert repeats == 6


def test_prez_asking_for_a_batch_not_yet_out_gets_the_error_document(prez: Simulation) -> None:
    at = prez.count.published_at(3)
    assert child(parse(prez.document("/pls/prez2023/vysledky_okrsky", "kolo=1&davka=4", at).body), "CHYBA") is not None
    assert child(parse(prez.document("/pls/prez2023/vysledky_okrsky", "kolo=2", DURATION).body), "CHYBA") is not None
    assert prez.document("/pls/prez2023/vysledky_okrsky", "davka=x", at).status == 400


def test_same_seed_same_bytes_other_seed_other_results() -> None:
    a = Simulation("prez2023", 60, 5, seed=11, start=START)
    b = Simulation("prez2023", 60, 5, seed=11, start=START)
    c = Simulation("prez2023", 60, 5, seed=12, start=START)
    for at in (0, 13, 30, 60):
        assert a.document("/pls/prez2023/vysledky", "", at) == b.document("/pls/prez2023/vysledky", "", at)
    assert a.document("/pls/prez2023/vysledky", "", 60) != c.document("/pls/prez2023/vysledky", "", 60)


# -- Chamber of Deputies ----------------------------------------------------------------------------------


def ps_counts(root: Element) -> dict[object, int]:
    counts: dict[object, int] = {}
    for area in [*children(root, "KRAJ"), child(root, "CR")]:
        name = area.get("CIS_KRAJ", "CR")
        counts.update({(name, k): v for k, v in ucast(area).items() if k in COUNTS})
        for strana in children(area, "STRANA"):
            counts[(name, strana.get("KSTRANA"))] = int(child(strana, "HODNOTY_STRANA").get("HLASY"))
    return counts


def assert_party_area(area: Element, seats: int) -> tuple[dict[str, int], dict[str, int], int]:
    """Votes and seats of one KRAJ or CR; deputies listed = seats won, preferential votes within the list's."""
    u = assert_turnout_consistent(area)
    votes, won, deputies = {}, {}, 0
    for strana in children(area, "STRANA"):
        values = child(strana, "HODNOTY_STRANA")
        number = strana.get("KSTRANA")
        votes[number] = int(values.get("HLASY"))
        assert values.get("PROC_HLASU") == percent.share(votes[number], u["PLATNE_HLASY"])
        won[number] = int(values.get("MANDATY", "0"))
        if "MANDATY" in values.attrib:
            assert won[number] > 0 and values.get("PROC_MANDATU") == percent.rate(won[number], seats)
        listed = list(children(strana, "POSLANEC"))
        assert len(listed) == won[number]
        deputies += len(listed)
        for poslanec in listed:
            if area.get("CIS_KRAJ") is not None:
                assert poslanec.get("CIS_KRAJ") == area.get("CIS_KRAJ")
                pref = int(poslanec.get("PREDNOSTNI_HLASY"))
                assert 0 <= pref <= votes[number]
                assert poslanec.get("PREDNOSTNI_HLASY_PROC") == percent.share(pref, votes[number])
    assert sum(votes.values()) == u["PLATNE_HLASY"]
    return votes, won, deputies


@functools.cache
def checked_ps_national(body: bytes) -> tuple[dict[object, int], datetime, int, dict[str, int]]:
    """All the sums of one national document (asserted); its counts, stamp, seats given and CR turnout.

    Between batches the same bytes come back, so each distinct document is checked once.
    """
    root = parse(body)
    totals: dict[str, int] = {}
    party_totals: dict[str, int] = {}
    seats_by_party: dict[str, int] = {}
    for kraj in children(root, "KRAJ"):
        seats = int(kraj.get("POCMANDATU"))
        votes, won, _ = assert_party_area(kraj, seats)
        assert sum(won.values()) in (0, seats)
        for key, value in ucast(kraj).items():
            totals[key] = totals.get(key, 0) + value
        for number, value in votes.items():
            party_totals[number] = party_totals.get(number, 0) + value
            seats_by_party[number] = seats_by_party.get(number, 0) + won[number]
    cr = child(root, "CR")
    votes, won, deputies = assert_party_area(cr, 200)
    assert ucast(cr) == totals
    assert votes == {k: party_totals.get(k, 0) for k in votes}
    assert won == {k: seats_by_party.get(k, 0) for k in won}
    assert deputies == sum(won.values()) <= 200
    return ps_counts(root), stamp_of(root), sum(won.values()), ucast(cr)


def test_ps_national_adds_up_and_only_grows(ps2021: Simulation) -> None:
    previous: dict[object, int] = {}
    previous_stamp = None
    for at in instants(DURATION):
        counts, stamp, seats, cr = checked_ps_national(ps2021.document("/pls/ps2021/vysledky", "", at).body)
        if previous_stamp is not None:
            assert stamp >= previous_stamp
        assert_not_decreasing(previous, counts)
        previous, previous_stamp = counts, stamp
        if at >= DURATION:
            assert seats == 200
            assert cr["OKRSKY_ZPRAC"] == cr["OKRSKY_CELKEM"] == 14886


def test_ps_district_adds_up_within_its_region(ps2021: Simulation) -> None:
    previous: dict[object, int] = {}
    for at in instants(DURATION, 60):
        root = parse(ps2021.document("/pls/ps2021/vysledky_okres", "nuts=CZ0722", at).body)
        okres = child(root, "OKRES")
        total = assert_turnout_consistent(okres)
        sums: dict[str, int] = {}
        party_sums: dict[str, int] = {}
        counts: dict[object, int] = {}
        for area in [okres, *children(root, "OBEC")]:
            u = assert_turnout_consistent(area)
            votes = {h.get("KSTRANA"): int(h.get("HLASY")) for h in children(area, "HLASY_STRANA")}
            assert all(v > 0 for v in votes.values()) and sum(votes.values()) == u["PLATNE_HLASY"]
            for h in children(area, "HLASY_STRANA"):
                assert h.get("PROC_HLASU") == percent.share(int(h.get("HLASY")), u["PLATNE_HLASY"])
            name = area.get("CIS_OBEC", "OKRES")
            counts.update({(name, k): v for k, v in u.items()})
            counts.update({(name, k): v for k, v in votes.items()})
            if area is not okres:
                for key, value in u.items():
                    sums[key] = sums.get(key, 0) + value
                for key, value in votes.items():
                    party_sums[key] = party_sums.get(key, 0) + value
        assert sums == total
        assert party_sums == {h.get("KSTRANA"): int(h.get("HLASY")) for h in children(okres, "HLASY_STRANA")}
        national = parse(ps2021.document("/pls/ps2021/vysledky", "", at).body)
        region = ucast(next(k for k in children(national, "KRAJ") if k.get("CIS_KRAJ") == "13"))
        assert all(total[k] <= region[k] for k in COUNTS)
        assert_not_decreasing(previous, counts)
        previous = counts
    assert total["OKRSKY_ZPRAC"] == total["OKRSKY_CELKEM"] == 151


def test_ps2017_is_served_in_its_real_encoding(ps2017: Simulation) -> None:
    status, content_type, body = ps2017.document("/pls/ps2017/vysledky", "", DURATION)
    assert status == 200 and content_type == "text/xml; charset=iso-8859-2"
    assert "Česká pirátská strana".encode("iso-8859-2") in body
    assert_party_area(child(parse(body), "CR"), 200)
