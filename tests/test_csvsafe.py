"""The portal's one CSV writer: formula cells come out as text, everything else as it was."""

from __future__ import annotations

import csv
import io

import pytest

from portal import csvsafe


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"],
)
def test_a_formula_cell_gets_a_leading_apostrophe(cell):
    assert csvsafe.neutralise(cell) == "'" + cell
    assert csvsafe.restore("'" + cell) == cell


@pytest.mark.parametrize("cell", ["Deník Právo", "+420 601 123 456", "-5", "192.0.2.1", "", "'quoted", 7, None])
def test_other_cells_are_written_as_they_are(cell):
    assert csvsafe.neutralise(cell) == cell


def test_the_writer_neutralises_every_text_cell():
    buffer = io.StringIO()
    csvsafe.writer(buffer, delimiter=";").writerow(["=1+1", 3, "@x", "plain"])
    assert buffer.getvalue() == "'=1+1;3;'@x;plain\r\n"
    assert next(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";")) == ["'=1+1", "3", "'@x", "plain"]


def test_nothing_in_the_portal_writes_csv_around_the_safe_writer():
    from pathlib import Path

    root = Path(csvsafe.__file__).parent
    writers = [p for p in root.rglob("*.py") if "csv.writer(" in p.read_text() or "csv.DictWriter(" in p.read_text()]
    assert writers == [root / "csvsafe.py"]
