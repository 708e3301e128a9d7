"""Real names, codes and totals the simulator draws on: data files read with ``importlib.resources``.

``ps2021.json``, ``ps2017.json`` and ``prez2023_register.csv`` are written by ``_extract`` from the office's
real documents; the other files are transcribed by hand (each says from where).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

#: (KSTRANA, NAZ_STR, VSTRANA or None).
PartyRow = tuple[int, str, int | None]
#: (CIS_KRAJ, NAZ_KRAJ, POCMANDATU, OKRSKY_CELKEM, ZAPSANI_VOLICI, VYDANE_OBALKY, ODEVZDANE_OBALKY, PLATNE_HLASY,
#: ((KSTRANA, HLASY), ...)) at 100 % counted.
KrajRow = tuple[int, str, int, int, int, int, int, int, tuple[tuple[int, int], ...]]
#: (KSTRANA, CIS_KRAJ, PORADOVE_CISLO, JMENO, PRIJMENI, TITULPRED, TITULZA, PREDNOSTNI_HLASY).
PoslanecRow = tuple[int, int, int, str, str, str, str, int]
#: (CIS_OBEC, NAZ_OBEC, TYP_OBEC, OKRSKY_CELKEM, ZAPSANI_VOLICI).
ObecRow = tuple[int, str, str, int, int]


@dataclass(frozen=True)
class PsTables:
    """One Chamber election's tables (``<code>.json``), as tuples."""

    encoding: str  #: the real document's declared encoding
    parties: tuple[PartyRow, ...]  #: in the document's order
    kraje: tuple[KrajRow, ...]
    poslanci: tuple[PoslanecRow, ...]  #: the elected deputies
    #: NUTS_OKRES -> (NAZ_OKRES, CIS_KRAJ, municipalities).
    okresy: dict[str, tuple[str, int, tuple[ObecRow, ...]]]


def read_text(name: str) -> str:
    """A data file shipped with the package (``feedproxy/simulator/data/<name>``)."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def load_json(name: str) -> dict[str, Any]:
    return json.loads(read_text(name))


def _tuples(value: Any) -> Any:
    """JSON arrays as tuples, all the way down."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


@cache
def ps_tables(code: str) -> PsTables:
    data = load_json(f"{code}.json")
    okresy = {nuts: (o["name"], o["kraj"], _tuples(o["obce"])) for nuts, o in data["okresy"].items()}
    return PsTables(
        data["encoding"], _tuples(data["parties"]), _tuples(data["kraje"]), _tuples(data["poslanci"]), okresy
    )


@cache
def prez2023_register_rows() -> tuple[tuple[int, int, int], ...]:
    """The 2023 precinct register: (CIS_OBEC, its first CIS_OKRSEK, the number of its consecutive precincts)."""
    rows = csv.DictReader(io.StringIO(read_text("prez2023_register.csv")))
    return tuple((int(row["cis_obec"]), int(row["first_okrsek"]), int(row["count"])) for row in rows)
