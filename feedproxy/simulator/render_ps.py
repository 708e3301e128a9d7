"""The Chamber of Deputies documents, element for element as the office writes them.

- ``vysledky``: root VYSLEDKY; one ``KRAJ`` per region, then ``CR``. Each holds ``UCAST`` and a ``STRANA``
  per list with ``HODNOTY_STRANA`` (``MANDATY``/``PROC_MANDATU`` only for a list with seats) and one
  ``POSLANEC`` per elected deputy.
- ``vysledky_okrsky`` (the appdata layout's numbered batches): ``render_batch`` with ``HLASY_OKRSEK KSTRANA``,
  one per list on the precinct's regional ballot.
- ``vysledky_okres``: root VYSLEDKY_OKRES; ``OKRES`` then one ``OBEC`` per municipality, each with
  ``UCAST`` and ``HLASY_STRANA`` for the lists with at least one vote (as in the real district files).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from feedproxy.simulator import percent, render_batch
from feedproxy.simulator.counting import NATIONAL, AreaKey, Batch, Count, Precinct, Tally
from feedproxy.simulator.mandates import Deputy, Seats
from feedproxy.simulator.ps import NAMESPACE, SEATS, District, Party, PsElection
from feedproxy.simulator.ucast import turnout
from feedproxy.simulator.xmlwriter import document, empty, root, start, timestamp

DISTRICT_ENCODING = "UTF-8"


def national(
    election: PsElection, count: Count, state: Mapping[AreaKey, Tally], seats: Seats, generated: datetime
) -> bytes:
    lines = [root("VYSLEDKY", NAMESPACE, "ps_vysledky.xsd", [("DATUM_CAS_GENEROVANI", timestamp(generated))], True)]
    for region in election.regions:
        area = ("KRAJ", region.number)
        tally = state[area]
        lines.append(
            start("KRAJ", [("CIS_KRAJ", region.number), ("NAZ_KRAJ", region.name), ("POCMANDATU", region.seats)])
        )
        lines.append(empty("UCAST", turnout(tally, count.totals[area]), space=True))
        for number in region.parties:
            party = election.parties[election.party_index(number)]
            votes = tally.votes[election.party_index(number)]
            won = seats.won.get((region.number, number), 0)
            deputies = seats.deputies.get((region.number, number), ())
            lines += _party(party, votes, tally.valid, won, region.seats, deputies)
        lines.append("</KRAJ>")
    tally = state[NATIONAL]
    lines += ["<CR>", empty("UCAST", turnout(tally, count.totals[NATIONAL]), space=True)]
    for i, party in enumerate(election.parties):
        deputies = [d for (_, p), ds in seats.deputies.items() if p == party.number for d in ds]
        deputies.sort(key=lambda d: (d.candidate.number, d.candidate.region))
        lines += _party(party, tally.votes[i], tally.valid, seats.national(party.number), SEATS, deputies)
    lines += ["</CR>", "</VYSLEDKY>"]
    return document(election.encoding, lines)


def _party(
    party: Party, votes: int, valid: int, won: int, seats: int, deputies: list[Deputy] | tuple[Deputy, ...]
) -> list[str]:
    head = [("KSTRANA", party.number), ("NAZ_STR", party.name)]
    if party.code is not None:
        head.append(("VSTRANA", party.code))
    values: list[tuple[str, object]] = [("HLASY", votes), ("PROC_HLASU", percent.share(votes, valid))]
    if won:
        values += [("MANDATY", won), ("PROC_MANDATU", percent.rate(won, seats))]
    lines = [start("STRANA", head), empty("HODNOTY_STRANA", values)]
    for deputy in deputies:
        c = deputy.candidate
        pairs = [
            ("CIS_KRAJ", c.region),
            ("PORADOVE_CISLO", c.number),
            ("JMENO", c.first_name),
            ("PRIJMENI", c.surname),
            ("TITULPRED", c.title_before),
            ("TITULZA", c.title_after),
            ("PREDNOSTNI_HLASY", deputy.preferential_votes),
            ("PREDNOSTNI_HLASY_PROC", percent.share(deputy.preferential_votes, deputy.list_votes)),
        ]
        lines.append(empty("POSLANEC", pairs, space=True))
    lines.append("</STRANA>")
    return lines


def district(
    election: PsElection, count: Count, state: Mapping[AreaKey, Tally], district_: District, generated: datetime
) -> bytes:
    stamp = [("DATUM_CAS_GENEROVANI", timestamp(generated))]
    lines = [root("VYSLEDKY_OKRES", NAMESPACE, "ps_vysledky_okres.xsd", stamp, False)]
    area: AreaKey = ("OKRES", district_.nuts)
    lines.append(start("OKRES", [("NUTS_OKRES", district_.nuts), ("NAZ_OKRES", district_.name)]))
    lines += _area(election, state[area], count.totals[area])
    lines.append("</OKRES>")
    for municipality in district_.municipalities:
        area = ("OBEC", municipality.code)
        head = [("CIS_OBEC", municipality.code), ("NAZ_OBEC", municipality.name), ("TYP_OBEC", municipality.kind)]
        lines.append(start("OBEC", head))
        lines += _area(election, state[area], count.totals[area])
        lines.append("</OBEC>")
    lines.append("</VYSLEDKY_OKRES>")
    return document(DISTRICT_ENCODING, lines)


def _area(election: PsElection, tally: Tally, total_precincts: int) -> list[str]:
    lines = [empty("UCAST", turnout(tally, total_precincts))]
    for party, votes in zip(election.parties, tally.votes, strict=True):
        if votes > 0:
            pairs = [("KSTRANA", party.number), ("HLASY", votes), ("PROC_HLASU", percent.share(votes, tally.valid))]
            lines.append(empty("HLASY_STRANA", pairs))
    return lines


def batch(election: PsElection, count: Count, batch_: Batch, start_time: datetime) -> bytes:
    ballots = {r.number: [election.party_index(p) for p in r.parties] for r in election.regions}

    def ballot(precinct: Precinct) -> list[int]:
        region = next(int(key) for kind, key in precinct.areas if kind == "KRAJ")
        return ballots[region]

    options = [p.number for p in election.parties]
    return render_batch.batch(
        NAMESPACE, "ps_vysledky_okrsky.xsd", count, batch_, start_time, "KSTRANA", options, ballot=ballot
    )
