"""Helpers for tests that need the real nft and network namespaces (root, ``nft``, ``ip``).

Outside CI a machine without them skips those tests; under CI=true they fail instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_nft_and_netns() -> None:
    """Skip (fail under CI=true) unless this process is root and has ``nft`` and ``ip``."""
    problems = [f"{tool} is not installed" for tool in ("nft", "ip") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        problems.append("the test needs root (nft and ip netns)")
    if problems:
        reason = "; ".join(problems)
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


def run(*command: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=check, capture_output=True, text=True, input=input, timeout=60)


@contextmanager
def namespace(prefix: str) -> Iterator[str]:
    """A fresh network namespace ``<prefix>-<random>`` with lo up; deleted afterwards, whatever happened."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    run("ip", "netns", "add", name)
    try:
        run("ip", "-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)


def nft_in(name: str) -> tuple[str, ...]:
    """The nft command that acts inside namespace ``name``."""
    return ("ip", "netns", "exec", name, "nft")
