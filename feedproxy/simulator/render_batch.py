"""Precinct batches (``VYSLEDKY_OKRSKY``) for every election kind, element for element as the office writes them.

One ``DAVKA`` line, then an ``OKRSEK`` per record with ``UCAST_OKRSEK`` and one ``HLASY_OKRSEK`` per option on
the precinct's ballot. The option is named by ``PORADOVE_CISLO`` (a candidate) or ``KSTRANA`` (a list), as in
the office's schemas; a repeated precinct has ``OPAKOVANE="1"`` and a higher ``PORADI_ZPRAC``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from feedproxy.simulator.counting import Batch, Count, Precinct
from feedproxy.simulator.xmlwriter import Attributes, document, empty, root, start, timestamp

ENCODING = "UTF-8"
#: KOD_CHYBY when the requested batch does not exist (yet), on the old query endpoints.
NO_BATCH = 30


def batch(
    namespace: str,
    schema: str,
    count: Count,
    batch_: Batch,
    start_time: datetime,
    option_attribute: str,
    options: Sequence[object],
    *,
    davka: Attributes = (),
    precinct: Callable[[Precinct], Attributes] | None = None,
    ballot: Callable[[Precinct], Sequence[int]] | None = None,
) -> bytes:
    """``options[i]`` names vote ``i``; ``ballot(precinct)`` the indexes on its ballot (default: every one with votes
    in its final figures); ``precinct(p)`` attributes after CIS_OKRSEK; ``davka`` attributes before PORADI_DAVKY."""
    generated = start_time + timedelta(seconds=batch_.published_at)
    stamp = [("DATUM_CAS_GENEROVANI", timestamp(generated))]
    lines = [root("VYSLEDKY_OKRSKY", namespace, schema, stamp, True)]
    pairs: list[tuple[str, object]] = [*davka, ("PORADI_DAVKY", batch_.number)]
    pairs += [("OKRSKY_DAVKA", len(batch_.records)), ("OKRSKY_CELKEM", len(count.precincts))]
    pairs.append(("OKRSKY_ZPRAC", batch_.processed))
    lines.append(empty("DAVKA", pairs))
    for record in batch_.records:
        place = count.precincts[record.precinct]
        c = record.counts
        head: list[tuple[str, object]] = [("CIS_OBEC", place.obec), ("CIS_OKRSEK", place.okrsek)]
        head += list(precinct(place)) if precinct is not None else []
        head += [
            ("PORADI_ZPRAC", record.order),
            ("DATUM_CAS_ZPRAC", timestamp(start_time + timedelta(seconds=record.processed_at))),
            ("OPAKOVANE", int(record.repeated)),
        ]
        lines.append(start("OKRSEK", head))
        ucast = [("ZAPSANI_VOLICI", c.voters), ("VYDANE_OBALKY", c.issued)]
        ucast += [("ODEVZDANE_OBALKY", c.returned), ("PLATNE_HLASY", c.valid)]
        lines.append(empty("UCAST_OKRSEK", ucast))
        indexes = ballot(place) if ballot is not None else [i for i, v in enumerate(place.counts.votes) if v > 0]
        for i in indexes:
            lines.append(empty("HLASY_OKRSEK", [(option_attribute, options[i]), ("HLASY", c.votes[i])]))
        lines.append("</OKRSEK>")
    lines.append("</VYSLEDKY_OKRSKY>")
    return document(ENCODING, lines)


def no_batch(namespace: str, schema: str, generated: datetime) -> bytes:
    """The old endpoints' answer while the requested batch does not exist: an in-band ``CHYBA``."""
    stamp = [("DATUM_CAS_GENEROVANI", timestamp(generated))]
    lines = [root("VYSLEDKY_OKRSKY", namespace, schema, stamp, False)]
    lines += [empty("CHYBA", [("KOD_CHYBY", NO_BATCH)]), "</VYSLEDKY_OKRSKY>"]
    return document(ENCODING, lines)
