"""The office's rounding, checked against every percentage of the real documents; apportionment helpers."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import pytest

from feedproxy.simulator import percent
from feedproxy.simulator.apportion import dhondt, largest_remainder
from feedproxy.simulator.counting import batch_sizes
from tests.feedproxy.simulator.conftest import child, children, local, parse
from tests.feedproxy.simulator.test_structure import REAL_PREZ_NATIONAL
from tests.realdata import volby

REAL = [
    "ps2021/vysledky_2021-10-14.xml",
    "ps2021/vysledky_okres_CZ0722.xml",
    "ps2017/vysledky_2017-10-22_iso-8859-2.xml",
    "ps2013/vysledky_testdata_2013-10-17.xml",
    "ps2013/vysledky_okres_CZ0312_partial_testdata_2013-10-18.xml",
]


def check_area(area: Element, seats: int) -> int:
    """Every percentage of one area against the office's rounding; returns how many were checked."""
    u = {k: int(v) if "PROC" not in k else v for k, v in child(area, "UCAST").attrib.items()}
    expected = {
        "OKRSKY_ZPRAC_PROC": percent.rate(u["OKRSKY_ZPRAC"], u["OKRSKY_CELKEM"]),
        "UCAST_PROC": percent.rate(u["VYDANE_OBALKY"], u["ZAPSANI_VOLICI"]),
        "PLATNE_HLASY_PROC": percent.rate(u["PLATNE_HLASY"], u["ODEVZDANE_OBALKY"]),
    }
    assert {k: u[k] for k in expected} == expected
    checked = 3
    for element in area:
        if local(element) == "HLASY_STRANA":
            assert element.get("PROC_HLASU") == percent.share(int(element.get("HLASY")), u["PLATNE_HLASY"])
            checked += 1
        if local(element) == "STRANA":
            values = child(element, "HODNOTY_STRANA")
            votes = int(values.get("HLASY"))
            assert values.get("PROC_HLASU") == percent.share(votes, u["PLATNE_HLASY"])
            if "MANDATY" in values.attrib:
                assert values.get("PROC_MANDATU") == percent.rate(int(values.get("MANDATY")), seats)
            checked += 2
            if local(area) == "KRAJ":  # at CR level the base is still the list's votes in the deputy's region
                for deputy in children(element, "POSLANEC"):
                    pref = int(deputy.get("PREDNOSTNI_HLASY"))
                    assert deputy.get("PREDNOSTNI_HLASY_PROC") == percent.share(pref, votes)
                    checked += 1
        if local(element) == "KANDIDAT":
            assert element.get("HLASY_PROC_1KOLO") == percent.share(int(element.get("HLASY_1KOLO")), u["PLATNE_HLASY"])
            checked += 1
    return checked


@pytest.mark.parametrize("document", [*REAL, "prez2023 national (README)"])
def test_percentages_are_rounded_as_the_office_rounds(document: str) -> None:
    root = parse(REAL_PREZ_NATIONAL if document.startswith("prez") else volby(document))
    checked = 0
    for area in root:
        if local(area) in ("KRAJ", "CR", "OKRES", "OBEC"):
            checked += check_area(area, int(area.get("POCMANDATU", "200")))
    assert checked > 10


def test_share_truncates_and_rate_rounds_half_up() -> None:
    assert percent.share(6058, 627399) == "0.96"  # 0.9655...: truncated
    assert percent.rate(5626824, 8245962) == "68.24"  # 68.2373...: rounded
    assert percent.rate(1, 8) == "12.50"
    assert percent.rate(1, 800) == "0.13"  # 0.125 -> half up
    assert percent.share(1, 800) == "0.12"
    assert percent.share(5, 5) == percent.rate(5, 5) == "100.00"
    assert percent.share(0, 0) == percent.rate(3, 0) == "0.00"


def test_largest_remainder_is_exact_and_keeps_zeros_at_zero() -> None:
    parts = largest_remainder(101, [1, 1, 1, 0])
    assert sum(parts) == 101 and parts[3] == 0 and max(parts) - min(parts[:3]) <= 1
    assert largest_remainder(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError, match="positive sum"):
        largest_remainder(5, [0, 0])


def test_dhondt_matches_a_worked_example() -> None:
    # 8 seats, votes 100 000 / 80 000 / 30 000 / 20 000: quotients give 4, 3, 1, 0.
    assert dhondt(8, [100_000, 80_000, 30_000, 20_000]) == [4, 3, 1, 0]
    assert dhondt(3, [0, 0]) == [0, 0]


def test_batch_sizes_rise_peak_and_tail_off() -> None:
    sizes = batch_sizes(14857, 40)
    assert sum(sizes) == 14857 and min(sizes) >= 1
    peak = sizes.index(max(sizes))
    assert 4 <= peak <= 16 and sizes[0] < max(sizes) / 3 and sizes[-1] < max(sizes) / 3
