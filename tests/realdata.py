"""The public data the tests read, copied into ``tests/data`` (each folder has its MANIFEST.md).

A missing file is a failure (``FileNotFoundError``), never a skip: the repository carries its data.
"""

from __future__ import annotations

import gzip
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
#: Real result documents of the Czech Statistical Office (``tests/data/volby/MANIFEST.md``).
VOLBY = DATA / "volby"
#: Signed-PDF test vectors (``tests/data/pdf/MANIFEST.md``).
PDF = DATA / "pdf"


def volby(relative: str) -> bytes:
    """The bytes of a document under its upstream name; a ``.gz`` copy (the large ones) is read decompressed."""
    path = VOLBY / relative
    if path.is_file():
        return path.read_bytes()
    return gzip.decompress((VOLBY / f"{relative}.gz").read_bytes())


def volby_documents() -> list[str]:
    """Every document's upstream name (relative to ``VOLBY``, without ``.gz``), sorted."""
    names = {str(path.relative_to(VOLBY)).removesuffix(".gz") for path in VOLBY.rglob("*.xml*")}
    return sorted(names)
