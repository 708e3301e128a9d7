"""apply/check/rollback/confirm against the real nft, each test in its own network namespace."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from allowlist.addresses import AddressPolicy
from allowlist.phase import LiveWindow
from allowlist.snapshot import Entry, Snapshot
from firewall import apply as applying
from firewall.apply import LiveTable, apply, check, confirm, pending_confirmation, read_table, rollback
from firewall.errors import ApplyRefused, NftError
from firewall.render import build
from tests.firewall.netns import namespace, nft_in, require_nft_and_netns, run

pytestmark = pytest.mark.netns
DOCS = AddressPolicy(allow_documentation=True)


@pytest.fixture
def ns() -> Iterator[str]:
    require_nft_and_netns()
    with namespace("csu-apply") as name:
        yield name


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def snapshot(version: int, entries: int = 6, *, election: str = "prez2028", window_in: timedelta = timedelta(hours=1)):
    now = datetime.now(UTC)
    return Snapshot(
        election=election,
        version=version,
        generated_at=now,
        live_windows=(LiveWindow(1, now + window_in, now + window_in + timedelta(hours=24)),),
        closes_at=now + timedelta(days=20),
        entries=tuple(
            Entry(f"192.0.2.{i + 1}" if i % 3 else f"2001:db8::{i + 1:x}", "test" if i % 2 else "production", "X", 1)
            for i in range(entries)
        ),
    )


def ruleset(version: int, entries: int = 6, *, at: datetime | None = None, **options: object):
    election = options.pop("election", "prez2028")
    window_in = options.pop("window_in", timedelta(hours=1))
    s = snapshot(version, entries, election=election, window_in=window_in)  # type: ignore[arg-type]
    return build(s, at or datetime.now(UTC), policy=DOCS, **options)  # type: ignore[arg-type]


def live(ns: str, table: str = "csu_results") -> LiveTable | None:
    return read_table("inet", table, nft=nft_in(ns))


def history(state: Path) -> list[int]:
    return [r["version"] for r in json.loads((state / "history.json").read_text())["records"]]


def do_apply(ns: str, state: Path, rs, **options):
    return apply(rs, state_dir=state, nft=nft_in(ns), **options)


# --- check ----------------------------------------------------------------------------------------------


def test_check_accepts_a_rendered_script_and_changes_nothing(ns):
    check(ruleset(1).script(datetime.now(UTC)), nft=nft_in(ns))
    check(ruleset(1).script(datetime.now(UTC), "json"), nft=nft_in(ns))
    assert live(ns) is None


def test_check_reports_nfts_message(ns):
    with pytest.raises(NftError) as caught:
        check("table inet csu_results {\n\tchain input { tcp dport 80 frobnicate }\n}\n", nft=nft_in(ns))
    assert caught.value.code == "check_failed"
    assert "Error" in caught.value.stderr and "frobnicate" in caught.value.stderr


def test_a_missing_nft_is_reported():
    with pytest.raises(NftError) as caught:
        check("table inet x {}\n", nft=("/nonexistent/nft",))
    assert caught.value.code == "nft_missing"


# --- apply ----------------------------------------------------------------------------------------------


def test_the_first_apply_installs_the_table_and_records_it(ns, state):
    applied = do_apply(ns, state, ruleset(1))
    assert applied.previous is None and applied.record.version == 1
    table = live(ns)
    assert table is not None
    assert table.sets["prod4"] == {"192.0.2.3", "192.0.2.5"} and table.sets["test4"] == {"192.0.2.2", "192.0.2.6"}
    assert table.sets["prod6"] == {"2001:db8::1"} and table.sets["test6"] == {"2001:db8::4"}
    assert table.chains["input"] == ("input", "accept")
    assert history(state) == [1]
    assert applied.record.script_path(state).read_text() == applied.script
    assert applied.record.counts == {"prod4": 2, "test4": 2, "prod6": 1, "test6": 1}


def test_newer_and_equal_versions_replace_and_only_the_last_ones_are_kept(ns, state):
    for version in (1, 2, 3, 3, 4, 5):
        do_apply(ns, state, ruleset(version, 6 + version), keep=3)
    assert history(state) == [3, 4, 5]
    assert len(list((state / "applied").glob("*.nft"))) == 3
    assert "192.0.2.11" in live(ns).sets["prod4"]  # entry 10 (0-based) of version 5


def test_the_json_format_applies_too(ns, state):
    applied = do_apply(ns, state, ruleset(1), format="json")
    assert applied.record.script_path(state).suffix == ".json"
    assert live(ns).sets["prod4"] == {"192.0.2.3", "192.0.2.5"}


def test_an_older_version_is_refused_even_with_force_and_changes_nothing(ns, state):
    do_apply(ns, state, ruleset(7))
    before = run(*nft_in(ns), "-j", "list", "table", "inet", "csu_results").stdout
    for force in (False, True):
        with pytest.raises(ApplyRefused) as caught:
            do_apply(ns, state, ruleset(6, 2), force=force)
        assert caught.value.code == "older_version"
    assert run(*nft_in(ns), "-j", "list", "table", "inet", "csu_results").stdout == before
    assert history(state) == [7]


def test_a_large_drop_of_entries_needs_force(ns, state):
    do_apply(ns, state, ruleset(1, 10))
    with pytest.raises(ApplyRefused) as caught:
        do_apply(ns, state, ruleset(2, 4))  # a 60 % drop
    assert caught.value.code == "entry_drop"
    assert history(state) == [1]
    do_apply(ns, state, ruleset(2, 5))  # exactly 50 %: allowed
    do_apply(ns, state, ruleset(3, 2), max_drop_share=0.6)  # 60 %, allowed by configuration
    do_apply(ns, state, ruleset(4, 0), force=True)
    assert history(state) == [1, 2, 3, 4]
    assert live(ns).sets["prod4"] == frozenset()


def test_a_phase_that_empties_the_sets_is_not_a_drop(ns, state):
    do_apply(ns, state, ruleset(1, 10))
    do_apply(ns, state, ruleset(1, 10, window_in=-timedelta(minutes=1)))  # live: test sets empty
    closed = build(snapshot(1, 10), datetime.now(UTC) + timedelta(days=30), policy=DOCS)
    do_apply(ns, state, closed)
    assert all(not values for values in live(ns).sets.values())


def test_another_election_needs_force(ns, state):
    do_apply(ns, state, ruleset(9))
    with pytest.raises(ApplyRefused) as caught:
        do_apply(ns, state, ruleset(1, election="kv2028"))
    assert caught.value.code == "election_changed"
    do_apply(ns, state, ruleset(1, election="kv2028"), force=True)
    assert history(state) == [9, 1]


def test_another_table_needs_another_state_directory(ns, state):
    do_apply(ns, state, ruleset(1))
    with pytest.raises(ApplyRefused) as caught:
        do_apply(ns, state, ruleset(2, table="other"), force=True)
    assert caught.value.code == "table_changed"


def test_a_failed_read_back_restores_the_previous_ruleset(ns, state, monkeypatch):
    do_apply(ns, state, ruleset(1))
    original = applying.read_table

    def wrong(family, table, *, nft):
        found = original(family, table, nft=nft)
        return LiveTable({**found.sets, "prod4": frozenset({"192.0.2.99"})}, found.chains)

    monkeypatch.setattr(applying, "read_table", wrong)
    with pytest.raises(NftError) as caught:
        do_apply(ns, state, ruleset(2, 8))
    assert caught.value.code == "readback" and "prod4" in caught.value.detail
    monkeypatch.setattr(applying, "read_table", original)
    assert history(state) == [1]
    assert "192.0.2.8" not in live(ns).sets["test4"] | live(ns).sets["prod4"]  # version 2's entry 7 is gone


def test_a_failed_first_apply_leaves_no_table(ns, state, monkeypatch):
    monkeypatch.setattr(applying, "read_table", lambda family, table, *, nft: None)
    with pytest.raises(NftError):
        do_apply(ns, state, ruleset(1))
    monkeypatch.undo()
    assert live(ns) is None


# --- rollback -------------------------------------------------------------------------------------------


def test_rollback_restores_the_previous_version_with_timeouts_counted_from_now(ns, state):
    earlier = datetime.now(UTC) - timedelta(minutes=30)
    do_apply(ns, state, ruleset(1, at=earlier), now=lambda: earlier)  # written half an hour ago
    do_apply(ns, state, ruleset(2, 9))
    result = rollback(state, nft=nft_in(ns))
    assert (result.undone.version, result.restored.version) == (2, 1)
    assert history(state) == [1]
    listing = json.loads(run(*nft_in(ns), "-j", "list", "set", "inet", "csu_results", "test4").stdout)
    elements = next(item["set"] for item in listing["nftables"] if "set" in item)["elem"]
    timeouts = {e["elem"]["timeout"] for e in elements}
    assert len(timeouts) == 1 and 3590 <= timeouts.pop() <= 3600  # the window is an hour ahead, not 1.5 h
    assert live(ns).sets["test4"] == {"192.0.2.2", "192.0.2.6"}


def test_rollback_without_an_earlier_version_is_refused(ns, state):
    with pytest.raises(ApplyRefused) as caught:
        rollback(state, nft=nft_in(ns))
    assert caught.value.code == "nothing_to_roll_back"
    do_apply(ns, state, ruleset(1))
    with pytest.raises(ApplyRefused):
        rollback(state, nft=nft_in(ns))
    assert live(ns) is not None


# --- commit-confirm -------------------------------------------------------------------------------------


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_an_unconfirmed_apply_rolls_back_by_itself(ns, state):
    do_apply(ns, state, ruleset(1))
    applied = do_apply(ns, state, ruleset(2, 9), confirm_within=1.5)
    assert applied.confirm_deadline is not None
    assert "192.0.2.9" in live(ns).sets["prod4"] | live(ns).sets["test4"]
    assert wait_for(lambda: history(state) == [1], 10), (state / "confirm-timer.log").read_text()
    assert "192.0.2.9" not in live(ns).sets["prod4"] | live(ns).sets["test4"]
    assert pending_confirmation(state) is None
    assert "version 2 undone" in (state / "confirm-timer.log").read_text()


def test_a_confirmed_apply_stays(ns, state):
    do_apply(ns, state, ruleset(1))
    do_apply(ns, state, ruleset(2, 9), confirm_within=1.5)
    pid = pending_confirmation(state)["pid"]
    assert confirm(state)["version"] == 2
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 5)
    time.sleep(2)
    assert history(state) == [1, 2]
    assert "192.0.2.9" in live(ns).sets["prod4"] | live(ns).sets["test4"]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_nothing_applies_while_a_confirmation_is_pending(ns, state):
    do_apply(ns, state, ruleset(1))
    do_apply(ns, state, ruleset(2), confirm_within=30)
    with pytest.raises(ApplyRefused) as caught:
        do_apply(ns, state, ruleset(3))
    assert caught.value.code == "unconfirmed"
    rollback(state, nft=nft_in(ns))  # by hand: the timer then finds nothing to do
    assert history(state) == [1] and pending_confirmation(state) is None
    do_apply(ns, state, ruleset(3))


def test_an_unconfirmed_first_apply_removes_the_table(ns, state):
    do_apply(ns, state, ruleset(1), confirm_within=1)
    assert live(ns) is not None
    assert wait_for(lambda: history(state) == [], 10), (state / "confirm-timer.log").read_text()
    assert live(ns) is None


def test_confirm_without_a_pending_apply_is_refused(state):
    with pytest.raises(ApplyRefused) as caught:
        confirm(state)
    assert caught.value.code == "no_pending"


def test_a_state_directory_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    with pytest.raises(ApplyRefused) as caught:
        confirm(shared)
    assert caught.value.code == "state"
