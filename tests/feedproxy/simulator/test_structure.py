"""Every simulated document kind has the element paths and attribute names of the real document of that kind.

No official XSD is available (none was found in any public source), so the real documents are the reference.
"""

from __future__ import annotations

import pytest

from feedproxy.simulator import Simulation
from feedproxy.simulator.data import prez2023
from tests.feedproxy.simulator.conftest import (
    DURATION,
    TESTRUN,
    child,
    children,
    declared_encoding,
    parse,
    signature,
)
from tests.realdata import volby

#: The real national prez2023 document, round 1, final (``/pls/prez2023/vysledky``, 2023-01-15T17:34:28), as
#: quoted in full in the README of a public client of the feed; there is no copy under tests/data.
REAL_PREZ_NATIONAL = """<?xml version="1.0" encoding="utf-8"?>
<VYSLEDKY xmlns="http://www.volby.cz/prezident/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://www.volby.cz/prezident/ pe_vysledky.xsd"
          DATUM_CAS_GENEROVANI="2023-01-15T17:34:28">
<CR>
<KANDIDAT PORADOVE_CISLO="1" JMENO="Pavel" PRIJMENI="Fischer" TITULPRED="" TITULZA="" HLASY_1KOLO="376705" \
HLASY_PROC_1KOLO="6.75" ZVOLEN_1KOLO="NEZVOLEN"/>
<KANDIDAT PORADOVE_CISLO="2" JMENO="Jaroslav" PRIJMENI="Bašta" TITULPRED="" TITULZA="" HLASY_1KOLO="248375" \
HLASY_PROC_1KOLO="4.45" ZVOLEN_1KOLO="NEZVOLEN"/>
<KANDIDAT PORADOVE_CISLO="4" JMENO="Petr" PRIJMENI="Pavel" TITULPRED="Ing." TITULZA="M.A." HLASY_1KOLO="1975056" \
HLASY_PROC_1KOLO="35.40" ZVOLEN_1KOLO="2.KOLO"/>
<KANDIDAT PORADOVE_CISLO="5" JMENO="Tomáš" PRIJMENI="Zima" TITULPRED="prof. MUDr." TITULZA="DrSc." HLASY_1KOLO="30769" \
HLASY_PROC_1KOLO="0.55" ZVOLEN_1KOLO="NEZVOLEN"/>
<KANDIDAT PORADOVE_CISLO="6" JMENO="Danuše" PRIJMENI="Nerudová" TITULPRED="prof. Ing." TITULZA="Ph.D." \
HLASY_1KOLO="777080" HLASY_PROC_1KOLO="13.92" ZVOLEN_1KOLO="NEZVOLEN"/>
<KANDIDAT PORADOVE_CISLO="7" JMENO="Andrej" PRIJMENI="Babiš" TITULPRED="Ing." TITULZA="" HLASY_1KOLO="1952213" \
HLASY_PROC_1KOLO="34.99" ZVOLEN_1KOLO="2.KOLO"/>
<KANDIDAT PORADOVE_CISLO="8" JMENO="Karel" PRIJMENI="Diviš" TITULPRED="PhDr." TITULZA="" HLASY_1KOLO="75475" \
HLASY_PROC_1KOLO="1.35" ZVOLEN_1KOLO="NEZVOLEN"/>
<KANDIDAT PORADOVE_CISLO="9" JMENO="Marek" PRIJMENI="Hilšer" TITULPRED="MUDr. Bc." TITULZA="Ph.D." \
HLASY_1KOLO="142912" HLASY_PROC_1KOLO="2.56" ZVOLEN_1KOLO="NEZVOLEN"/>
<UCAST KOLO="1" OKRSKY_CELKEM="14857" OKRSKY_ZPRAC="14857" OKRSKY_ZPRAC_PROC="100.00" ZAPSANI_VOLICI="8245962" \
VYDANE_OBALKY="5626824" UCAST_PROC="68.24" ODEVZDANE_OBALKY="5622812" PLATNE_HLASY="5578585" PLATNE_HLASY_PROC="99.21"/>
</CR>
</VYSLEDKY>
""".encode()

END = DURATION


def real(relative: str) -> bytes:
    return volby(relative)


def assert_same_kind(simulated: bytes, reference: bytes, content_type: str) -> None:
    """Same structure, same root attributes' values apart from the stamp, same declared encoding."""
    assert signature(parse(simulated)) == signature(parse(reference))
    assert declared_encoding(simulated) == declared_encoding(reference)
    assert content_type == f"text/xml; charset={declared_encoding(reference)}"
    schema = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
    assert parse(simulated).get(schema) == parse(reference).get(schema)


def test_prez_national_is_shaped_like_the_real_one(prez: Simulation) -> None:
    status, content_type, body = prez.document("/pls/prez2023/vysledky", "", END)
    assert status == 200
    assert_same_kind(body, REAL_PREZ_NATIONAL, content_type)
    ours = [k.attrib for k in children(child(parse(body), "CR"), "KANDIDAT")]
    theirs = [k.attrib for k in children(child(parse(REAL_PREZ_NATIONAL), "CR"), "KANDIDAT")]
    names = ("PORADOVE_CISLO", "JMENO", "PRIJMENI", "TITULPRED", "TITULZA")
    assert [[a[n] for n in names] for a in ours] == [[a[n] for n in names] for a in theirs]


def test_prez_national_before_the_count_keeps_the_structure(prez: Simulation) -> None:
    _, content_type, body = prez.document("/pls/prez2023/vysledky", "", 0)
    assert_same_kind(body, REAL_PREZ_NATIONAL, content_type)


def test_prez_batches_are_shaped_like_the_test_run(prez: Simulation) -> None:
    reference = set().union(*(signature(parse(volby(f"{TESTRUN}/vysledky_okrsky_davka_{n}.xml"))) for n in (1, 8)))
    for davka in (1, prez.batches // 2, prez.batches):
        status, content_type, body = prez.document("/pls/prez2023/vysledky_okrsky", f"kolo=1&davka={davka}", END)
        assert status == 200
        assert signature(parse(body)) == reference
        assert_same_kind(body, volby(f"{TESTRUN}/vysledky_okrsky_davka_1.xml"), content_type)


def test_prez_no_batch_yet_is_the_real_error_document(prez: Simulation) -> None:
    status, content_type, body = prez.document("/pls/prez2023/vysledky_okrsky", "kolo=1", 0)
    assert status == 200
    assert_same_kind(body, volby(f"{TESTRUN}/vysledky_okrsky_davka_0.xml"), content_type)
    assert child(parse(body), "CHYBA").attrib == {"KOD_CHYBY": "30"}


@pytest.mark.parametrize(
    ("fixture", "path", "query", "reference"),
    [
        ("ps2021", "/pls/ps2021/vysledky", "", "ps2021/vysledky_2021-10-14.xml"),
        ("ps2021", "/pls/ps2021/vysledky_okres", "nuts=CZ0722", "ps2021/vysledky_okres_CZ0722.xml"),
        ("ps2017", "/pls/ps2017/vysledky", "", "ps2017/vysledky_2017-10-22_iso-8859-2.xml"),
    ],
)
def test_ps_documents_are_shaped_like_the_real_ones(
    request: pytest.FixtureRequest, fixture: str, path: str, query: str, reference: str
) -> None:
    simulation: Simulation = request.getfixturevalue(fixture)
    status, content_type, body = simulation.document(path, query, END)
    assert status == 200
    assert_same_kind(body, real(reference), content_type)


def test_ps_national_mid_count_has_no_element_the_real_one_lacks(ps2021: Simulation) -> None:
    reference = signature(parse(real("ps2021/vysledky_2021-10-14.xml")))
    for at in (0, END / 40, END / 4, END / 2):
        assert signature(parse(ps2021.document("/pls/ps2021/vysledky", "", at).body)) <= reference


def test_ps_lists_regions_parties_and_municipalities_as_the_real_one(ps2021: Simulation) -> None:
    """Same regions with the same seats, the same lists on each region's ballot, the same municipalities."""

    def outline(body: bytes) -> list[tuple[str, ...]]:
        root = parse(body)
        rows = []
        for kraj in children(root, "KRAJ"):
            parties = tuple(s.get("KSTRANA") + " " + s.get("NAZ_STR") for s in children(kraj, "STRANA"))
            rows.append((kraj.get("CIS_KRAJ"), kraj.get("NAZ_KRAJ"), kraj.get("POCMANDATU"), *parties))
        for cr in children(root, "CR"):
            rows.append(tuple(s.get("VSTRANA") or "" for s in children(cr, "STRANA")))
        rows += [(o.get("CIS_OBEC"), o.get("NAZ_OBEC"), o.get("TYP_OBEC")) for o in children(root, "OBEC")]
        return rows

    assert outline(ps2021.document("/pls/ps2021/vysledky", "", END).body) == outline(
        real("ps2021/vysledky_2021-10-14.xml")
    )
    district = ps2021.document("/pls/ps2021/vysledky_okres", "nuts=CZ0722", END).body
    assert outline(district) == outline(real("ps2021/vysledky_okres_CZ0722.xml"))


def test_ps_final_turnout_block_matches_the_real_totals_of_registered_voters(ps2021: Simulation) -> None:
    """Registered voters are the real ones at 100 %; the rest is invented around the real rates."""
    ours = parse(ps2021.document("/pls/ps2021/vysledky", "", END).body)
    theirs = parse(real("ps2021/vysledky_2021-10-14.xml"))
    for mine, real_ in zip(children(ours, "KRAJ"), children(theirs, "KRAJ"), strict=True):
        a, b = child(mine, "UCAST").attrib, child(real_, "UCAST").attrib
        assert (a["OKRSKY_CELKEM"], a["ZAPSANI_VOLICI"]) == (b["OKRSKY_CELKEM"], b["ZAPSANI_VOLICI"])
        assert abs(float(a["UCAST_PROC"]) - float(b["UCAST_PROC"])) < 1.5


def test_prez_final_result_is_close_to_the_real_one(prez: Simulation) -> None:
    cr = child(parse(prez.document("/pls/prez2023/vysledky", "", END).body), "CR")
    shares = {int(k.get("PORADOVE_CISLO")): float(k.get("HLASY_PROC_1KOLO")) for k in children(cr, "KANDIDAT")}
    real_shares = {row[0]: row[5] * 100 / prez2023.PLATNE_HLASY for row in prez2023.CANDIDATES}
    assert all(abs(shares[n] - real_shares[n]) < 1.0 for n in real_shares)
    assert child(cr, "UCAST").get("ZAPSANI_VOLICI") == str(prez2023.ZAPSANI_VOLICI)
