"""Shared simulations (built once per session: they are immutable) and XML helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree

from feedproxy.simulator import Simulation
from feedproxy.simulator.xmlwriter import PRAGUE

#: The office's media test run of 2023, under ``tests/data/volby`` (read with ``tests.realdata.volby``).
TESTRUN = "prez2023/testrun-2023-01-06"
START = datetime(2023, 1, 14, 14, 0, tzinfo=PRAGUE)
DURATION = 600.0
BATCHES = 40

Signature = set[tuple[str, tuple[str, ...]]]


@pytest.fixture(scope="session")
def prez() -> Simulation:
    """prez2023 with corrections in the batches, so OPAKOVANE="1" occurs."""
    return Simulation("prez2023", DURATION, BATCHES, seed=7, start=START, repeats=6)


@pytest.fixture(scope="session")
def ps2021() -> Simulation:
    return Simulation("ps2021", DURATION, BATCHES, seed=7)


@pytest.fixture(scope="session")
def ps2017() -> Simulation:
    return Simulation("ps2017", DURATION, 20, seed=3)


def parse(body: bytes) -> Element:
    """Parse the bytes (never decoded text: the declaration names the encoding)."""
    return ElementTree.fromstring(body)


def signature(root: Element) -> Signature:
    """The set of (element path, sorted attribute names), tags in Clark notation (namespace included)."""
    found: Signature = set()

    def walk(element: Element, prefix: str) -> None:
        path = f"{prefix}/{element.tag}"
        found.add((path, tuple(sorted(element.attrib))))
        for child in element:
            walk(child, path)

    walk(root, "")
    return found


def declared_encoding(body: bytes) -> str:
    match = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', body)
    assert match is not None, body[:80]
    return match.group(1).decode("ascii")


def local(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if local(child) == name)


def child(element: Element, name: str) -> Element:
    found = list(children(element, name))
    assert len(found) == 1, (name, len(found))
    return found[0]


def instants(duration: float, steps: int = 200) -> list[float]:
    """``steps`` instants from the start to the end of the count, then one well after it."""
    return [duration * i / (steps - 1) for i in range(steps)] + [duration * 2]
