"""The presidential election's documents, element for element as the office writes them.

- ``vysledky``: root VYSLEDKY, ``CR`` with one ``KANDIDAT`` per candidate and ``UCAST`` (the real
  prez2023 national document has no per-region elements; those are in other documents).
- ``vysledky_okrsky``: root VYSLEDKY_OKRSKY with ``DAVKA`` and the batch's ``OKRSEK`` elements, or
  ``CHYBA KOD_CHYBY="30"`` while there is no such batch (as in the 2023 media test run).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from feedproxy.simulator import percent
from feedproxy.simulator.counting import Batch, Count, Tally
from feedproxy.simulator.prez import NAMESPACE, PrezElection
from feedproxy.simulator.ucast import turnout
from feedproxy.simulator.xmlwriter import document, empty, root, start, timestamp

NATIONAL_ENCODING = "utf-8"
BATCH_ENCODING = "UTF-8"
#: KOD_CHYBY when the requested batch does not exist (yet).
NO_BATCH = 30


def national(
    election: PrezElection,
    tally: Tally,
    total_precincts: int,
    generated: datetime,
    runoff: tuple[PrezElection, Tally, int] | None = None,
) -> bytes:
    """Round 1; with ``runoff`` (round 2's election, tally and precincts) the finalists carry ``*_2KOLO`` too and
    a second ``UCAST KOLO="2"`` follows, as in the office's documents after a run-off (and the Senate's)."""
    lines = [root("VYSLEDKY", NAMESPACE, "pe_vysledky.xsd", [("DATUM_CAS_GENEROVANI", timestamp(generated))], True)]
    lines.append("<CR>")
    suffix = f"{election.round}KOLO"
    outcome = _outcome(tally)
    second: dict[int, tuple[int, str, str]] = {}
    if runoff is not None:
        final, final_tally, _ = runoff
        verdicts = _runoff_outcome(final_tally)
        for candidate, votes, verdict in zip(final.candidates, final_tally.votes, verdicts, strict=True):
            second[candidate.number] = (votes, percent.share(votes, final_tally.valid), verdict)
    for candidate, votes, verdict in zip(election.candidates, tally.votes, outcome, strict=True):
        pairs: list[tuple[str, object]] = [
            ("PORADOVE_CISLO", candidate.number),
            ("JMENO", candidate.first_name),
            ("PRIJMENI", candidate.surname),
            ("TITULPRED", candidate.title_before),
            ("TITULZA", candidate.title_after),
            (f"HLASY_{suffix}", votes),
            (f"HLASY_PROC_{suffix}", percent.share(votes, tally.valid)),
            (f"ZVOLEN_{suffix}", verdict),
        ]
        if candidate.number in second:
            votes2, share2, verdict2 = second[candidate.number]
            pairs += [("HLASY_2KOLO", votes2), ("HLASY_PROC_2KOLO", share2), ("ZVOLEN_2KOLO", verdict2)]
        lines.append(empty("KANDIDAT", pairs))
    lines.append(empty("UCAST", [("KOLO", election.round), *turnout(tally, total_precincts)]))
    if runoff is not None:
        final, final_tally, final_total = runoff
        lines.append(empty("UCAST", [("KOLO", final.round), *turnout(final_tally, final_total)]))
    lines += ["</CR>", "</VYSLEDKY>"]
    return document(NATIONAL_ENCODING, lines)


def _runoff_outcome(tally: Tally) -> list[str]:
    """ZVOLEN_2KOLO on the votes so far: the leader ZVOLEN once anything is counted (a tie elects nobody)."""
    verdicts = ["NEZVOLEN"] * len(tally.votes)
    ranked = sorted(range(len(tally.votes)), key=lambda i: (-tally.votes[i], i))
    if tally.valid > 0 and (len(ranked) == 1 or tally.votes[ranked[0]] > tally.votes[ranked[1]]):
        verdicts[ranked[0]] = "ZVOLEN"
    return verdicts


def _outcome(tally: Tally) -> list[str]:
    """ZVOLEN_1KOLO on the votes so far: ZVOLEN for more than half, else the two leaders go to round 2.

    The office's value before the count ends is not on record; this is the standing at that moment.
    """
    verdicts = ["NEZVOLEN"] * len(tally.votes)
    if tally.valid <= 0:
        return verdicts
    ranked = sorted(range(len(tally.votes)), key=lambda i: (-tally.votes[i], i))
    if tally.votes[ranked[0]] * 2 > tally.valid:
        verdicts[ranked[0]] = "ZVOLEN"
    else:
        for i in ranked[:2]:
            verdicts[i] = "2.KOLO"
    return verdicts


def batch(election: PrezElection, count: Count, batch_: Batch, start_time: datetime) -> bytes:
    generated = start_time + timedelta(seconds=batch_.published_at)
    lines = [_batch_root(generated)]
    lines.append(
        empty(
            "DAVKA",
            [
                ("KOLO", election.round),
                ("PORADI_DAVKY", batch_.number),
                ("OKRSKY_DAVKA", len(batch_.records)),
                ("OKRSKY_CELKEM", len(count.precincts)),
                ("OKRSKY_ZPRAC", batch_.processed),
            ],
        )
    )
    for record in batch_.records:
        precinct = count.precincts[record.precinct]
        c = record.counts
        pairs = [
            ("CIS_OBEC", precinct.obec),
            ("CIS_OKRSEK", precinct.okrsek),
            ("PORADI_ZPRAC", record.order),
            ("DATUM_CAS_ZPRAC", timestamp(start_time + timedelta(seconds=record.processed_at))),
            ("OPAKOVANE", int(record.repeated)),
        ]
        lines.append(start("OKRSEK", pairs))
        ucast = [("ZAPSANI_VOLICI", c.voters), ("VYDANE_OBALKY", c.issued)]
        ucast += [("ODEVZDANE_OBALKY", c.returned), ("PLATNE_HLASY", c.valid)]
        lines.append(empty("UCAST_OKRSEK", ucast))
        for candidate, votes in zip(election.candidates, c.votes, strict=True):
            lines.append(empty("HLASY_OKRSEK", [("PORADOVE_CISLO", candidate.number), ("HLASY", votes)]))
        lines.append("</OKRSEK>")
    lines.append("</VYSLEDKY_OKRSKY>")
    return document(BATCH_ENCODING, lines)


def no_batch(generated: datetime) -> bytes:
    """The answer while the requested batch does not exist: one line root, as in the real file."""
    stamp = [("DATUM_CAS_GENEROVANI", timestamp(generated))]
    lines = [root("VYSLEDKY_OKRSKY", NAMESPACE, "pe_vysledky_okrsky.xsd", stamp, False)]
    lines += [empty("CHYBA", [("KOD_CHYBY", NO_BATCH)]), "</VYSLEDKY_OKRSKY>"]
    return document(BATCH_ENCODING, lines)


def _batch_root(generated: datetime) -> str:
    stamp = [("DATUM_CAS_GENEROVANI", timestamp(generated))]
    return root("VYSLEDKY_OKRSKY", NAMESPACE, "pe_vysledky_okrsky.xsd", stamp, True)
