"""The structure the code keeps: one job per file, one place that ends a transaction."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("portal", "allowlist", "firewall", "feedproxy", "drill", "bench")
#: A hand-written module longer than this does more than one job.
MAX_LINES = 600
#: The one module allowed to end a transaction of the request's session.
UNIT_OF_WORK = ROOT / "portal" / "unit_of_work.py"
#: Ending the request's transaction; the outbox's sender may roll back a session of its own.
ENDS_A_TRANSACTION = re.compile(r"\.commit\(|db\.session\.rollback\(")


def _modules(*packages: str) -> list[Path]:
    return [
        path
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and ".venv" not in path.parts
    ]


def test_no_hand_written_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules(*PACKAGES)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_the_unit_of_work_commits_or_rolls_back() -> None:
    offenders = []
    for path in _modules("portal"):
        if path == UNIT_OF_WORK:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if ENDS_A_TRANSACTION.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_check_sees_a_commit() -> None:
    """The pattern is not blind: it finds the calls it forbids, and not the outbox's own session."""
    assert ENDS_A_TRANSACTION.search("    db.session.commit()")
    assert ENDS_A_TRANSACTION.search("    db.session.rollback()")
    assert ENDS_A_TRANSACTION.search("    session.commit()")
    assert not ENDS_A_TRANSACTION.search("        session.rollback()")
