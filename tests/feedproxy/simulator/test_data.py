"""The generated data modules are what ``_extract`` reads from the real documents today."""

from __future__ import annotations

import pytest

from feedproxy.simulator.data import _extract, prez2023_register, ps2017, ps2021
from tests.realdata import VOLBY


@pytest.mark.parametrize("module", [ps2021, ps2017], ids=["ps2021", "ps2017"])
def test_ps_data_matches_the_real_documents(module: object) -> None:
    fresh: dict[str, object] = {}
    exec(_extract.ps_module(VOLBY, module.__name__.rpartition(".")[2]), fresh)  # noqa: S102 - our own generator
    for name in ("ENCODING", "PARTIES", "KRAJE", "POSLANCI", "OKRESY"):
        assert getattr(module, name) == fresh[name], name


def testprez_register_matches_the_test_run() -> None:
    fresh: dict[str, object] = {}
    exec(_extract.prez_register(VOLBY), fresh)  # noqa: S102 - our own generator
    assert fresh["REGISTER"] == prez2023_register.REGISTER
