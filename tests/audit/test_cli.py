"""`portal audit verify`: exit 0 with the count when intact, 1 with the problem on stderr when not."""

from __future__ import annotations

import pytest

from portal.cli import main
from tests.audit.helpers import tamper


@pytest.fixture
def verify(app):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    return lambda: runner.invoke(main, ["audit", "verify"], catch_exceptions=False)


def test_an_intact_chain_exits_0(verify, make_events):
    make_events(3)
    result = verify()
    assert result.exit_code == 0
    assert result.stdout.strip() == "audit chain intact: 3 events"
    assert result.stderr == ""


def test_an_empty_log_is_intact(verify):
    result = verify()
    assert (result.exit_code, result.stdout.strip()) == (0, "audit chain intact: 0 events")


def test_a_changed_event_exits_1_naming_it_on_stderr(verify, make_events):
    make_events(3)
    tamper("UPDATE audit_events SET actor_label = 'nobody' WHERE id = 2")
    result = verify()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "changed" in result.stderr and "event 2" in result.stderr


def test_a_truncated_log_exits_1(verify, make_events):
    make_events(3)
    tamper("DELETE FROM audit_events WHERE id = 3")
    result = verify()
    assert result.exit_code == 1
    assert "truncated" in result.stderr and "event 3" in result.stderr
