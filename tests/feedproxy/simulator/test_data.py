"""The generated data files are what ``_extract`` reads from the real documents today, and load as tables."""

from __future__ import annotations

import pytest

from feedproxy.simulator.data import _extract, prez2023, prez2023_register_rows, ps_tables, read_text
from tests.realdata import VOLBY


@pytest.mark.parametrize("name", sorted(_extract.OUTPUTS))
def test_data_file_is_what_the_generator_writes(name: str) -> None:
    assert read_text(name) == _extract.OUTPUTS[name](VOLBY)


@pytest.mark.parametrize("code", ["ps2021", "ps2017"])
def test_ps_tables_match_the_real_documents(code: str) -> None:
    tables = ps_tables(code)
    fresh = _extract.ps_tables(VOLBY, code)
    assert tables.encoding == fresh["encoding"]
    assert [list(row) for row in tables.parties] == fresh["parties"]
    assert [[*row[:-1], [list(v) for v in row[-1]]] for row in tables.kraje] == fresh["kraje"]
    assert [list(row) for row in tables.poslanci] == fresh["poslanci"]
    assert {nuts: [name, kraj, [list(o) for o in obce]] for nuts, (name, kraj, obce) in tables.okresy.items()} == {
        nuts: [o["name"], o["kraj"], o["obce"]] for nuts, o in fresh["okresy"].items()
    }


def testprez_register_matches_the_test_run() -> None:
    rows = prez2023_register_rows()
    assert rows == tuple(_extract.prez_register(VOLBY))
    assert sum(count for _, _, count in rows) == prez2023.OKRSKY_CELKEM == 14857
    assert len(rows) == 6389
