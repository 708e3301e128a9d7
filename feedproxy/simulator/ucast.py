"""The turnout block (``UCAST``) every national, regional and district document carries."""

from __future__ import annotations

from feedproxy.simulator import percent
from feedproxy.simulator.counting import Tally


def turnout(tally: Tally, total_precincts: int) -> list[tuple[str, object]]:
    """UCAST attributes in the office's order."""
    return [
        ("OKRSKY_CELKEM", total_precincts),
        ("OKRSKY_ZPRAC", tally.precincts),
        ("OKRSKY_ZPRAC_PROC", percent.rate(tally.precincts, total_precincts)),
        ("ZAPSANI_VOLICI", tally.voters),
        ("VYDANE_OBALKY", tally.issued),
        ("UCAST_PROC", percent.rate(tally.issued, tally.voters)),
        ("ODEVZDANE_OBALKY", tally.returned),
        ("PLATNE_HLASY", tally.valid),
        ("PLATNE_HLASY_PROC", percent.rate(tally.valid, tally.returned)),
    ]
