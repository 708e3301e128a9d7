"""Check, apply, verify, roll back and commit-confirm rendered rulesets with the real ``nft``.

``apply`` takes a ``Ruleset`` (``firewall.render.build``), not a pre-written script: it writes the script
at the instant it applies it, so the test elements' relative timeouts end exactly at the live window's
start, and ``rollback`` writes the previous ruleset again at its own instant for the same reason (a
stored script replayed an hour later would keep test addresses an hour too long).

The state directory (root only) holds::

    history.json                 the applied records, oldest first; the last one is in force
    applied/<id>.nft|.json       each applied script, exactly as nft got it (for the record)
    applied/<id>.ruleset.json    each applied ruleset, to write it again on rollback
    pending.json                 an apply awaiting ``confirm`` (token, timer pid, deadline, nft command)
    confirm-timer.log            what the background rollback timers printed
    lock                         flock: one apply/rollback/confirm at a time

Brakes (``ApplyRefused``): a version older than the one in force (same election; ``force`` does not
override it, ``rollback`` is the way back), another election than the one in force, a drop of more than
``max_drop_share`` of the snapshot's entries (both unless ``force``), a different table than the state
directory manages, and any apply while an earlier one awaits confirmation.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from allowlist.snapshot import format_time
from firewall.errors import ApplyRefused, NftError
from firewall.render import CHAIN, CONNECTION_SETS, FORMATS, Format, Ruleset

NFT: tuple[str, ...] = ("nft",)
DEFAULT_STATE_DIR = Path("/var/lib/csu-firewall")
DEFAULT_KEEP = 5
DEFAULT_MAX_DROP_SHARE = 0.5
#: Test elements due this close to the read-back may already have gone: the read-back accepts a subset.
CUT_TOLERANCE = timedelta(seconds=5)
NFT_TIMEOUT_SECONDS = 60
LOCK_WAIT_SECONDS = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- nft ------------------------------------------------------------------------------------------------


def _run_nft(args: Sequence[str], *, nft: Sequence[str], script: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [*nft, *args]
    try:
        return subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            command, input=script, capture_output=True, text=True, timeout=NFT_TIMEOUT_SECONDS, check=False
        )
    except FileNotFoundError as error:
        raise NftError("nft_missing", f"{command[0]} is not installed (or not on PATH)") from error
    except subprocess.TimeoutExpired as error:
        raise NftError("nft_timeout", f"{' '.join(command)} did not finish in {NFT_TIMEOUT_SECONDS} s") from error


def _is_json(script: str) -> bool:
    return script.lstrip().startswith("{")


def _nft_message(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return lines[0] if lines else f"exit status {result.returncode}"


def check(script: str, *, nft: Sequence[str] = NFT) -> None:
    """``nft -c -f -`` (``-j`` for JSON): NftError("check_failed") carries nft's message in ``stderr``."""
    result = _run_nft([*(["-j"] if _is_json(script) else []), "-c", "-f", "-"], nft=nft, script=script)
    if result.returncode != 0:
        raise NftError("check_failed", f"nft refused the script: {_nft_message(result)}", stderr=result.stderr)


def _nft_apply(script: str, *, nft: Sequence[str]) -> None:
    result = _run_nft([*(["-j"] if _is_json(script) else []), "-f", "-"], nft=nft, script=script)
    if result.returncode != 0:
        raise NftError("apply_failed", f"nft did not apply the script: {_nft_message(result)}", stderr=result.stderr)


@dataclass(frozen=True)
class LiveTable:
    sets: dict[str, frozenset[str]]
    #: (hook, policy) of each base chain by name
    chains: dict[str, tuple[str | None, str | None]]


def read_table(family: str, table: str, *, nft: Sequence[str] = NFT) -> LiveTable | None:
    """The live table as ``nft -j list table`` shows it; None when there is no such table."""
    tables = _run_nft(["-j", "list", "tables", family], nft=nft)
    if tables.returncode != 0:
        raise NftError("readback", f"nft could not list the {family} tables: {_nft_message(tables)}")
    try:
        names = {item["table"]["name"] for item in json.loads(tables.stdout)["nftables"] if "table" in item}
    except (ValueError, KeyError, TypeError) as error:
        raise NftError("readback", f"the list of {family} tables cannot be read: {error!r}") from error
    if table not in names:
        return None
    result = _run_nft(["-j", "list", "table", family, table], nft=nft)
    if result.returncode != 0:
        raise NftError("readback", f"nft could not list table {family} {table}: {_nft_message(result)}")
    try:
        objects = json.loads(result.stdout)["nftables"]
        sets: dict[str, frozenset[str]] = {}
        chains: dict[str, tuple[str | None, str | None]] = {}
        for item in objects:
            if "set" in item:
                spec = item["set"]
                if spec["name"] in CONNECTION_SETS.values():
                    continue  # the per-source connection counts: kernel state, not the allowlist
                family_of = socket.AF_INET if spec.get("type") == "ipv4_addr" else socket.AF_INET6
                values = []
                for element in spec.get("elem", []):
                    value = element["elem"]["val"] if isinstance(element, dict) else element
                    values.append(socket.inet_ntop(family_of, socket.inet_pton(family_of, value)))
                sets[spec["name"]] = frozenset(values)
            elif "chain" in item:
                spec = item["chain"]
                chains[spec["name"]] = (spec.get("hook"), spec.get("policy"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NftError("readback", f"the listing of table {family} {table} cannot be read: {error!r}") from error
    return LiveTable(sets, chains)


def verify(ruleset: Ruleset, at: datetime, *, nft: Sequence[str] = NFT) -> None:
    """The live table holds exactly the sets ``ruleset.script(at)`` installs, and its input chain."""
    live = read_table(ruleset.family, ruleset.table, nft=nft)
    where = f"table {ruleset.family} {ruleset.table}"
    if live is None:
        raise NftError("readback", f"{where} is missing after the apply")
    if live.chains.get(CHAIN) != ("input", "accept"):
        raise NftError("readback", f"{where} has no input chain with policy accept")
    expected = ruleset.expected_sets(at)
    if set(live.sets) != set(expected):
        raise NftError("readback", f"{where} has sets {sorted(live.sets)}, expected {sorted(expected)}")
    cut_near = ruleset.test_cut_at is not None and ruleset.test_cut_at - _utcnow() <= CUT_TOLERANCE
    for address_set in ruleset.sets:
        want, have = expected[address_set.name], live.sets[address_set.name]
        if have == want or (address_set.times_out and cut_near and have <= want):
            continue
        missing, extra = sorted(want - have), sorted(have - want)
        raise NftError(
            "readback",
            f"set {address_set.name} in {where} differs: {len(missing)} missing (e.g. {missing[:3]}), "
            f"{len(extra)} unexpected (e.g. {extra[:3]})",
        )


# --- state ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One applied ruleset in the state directory's history."""

    id: int
    version: int
    election: str
    phase: str
    entries: int
    table: str
    family: str
    format: str
    applied_at: str
    #: elements per set right after the apply
    counts: dict[str, int]

    def script_path(self, state_dir: Path) -> Path:
        return state_dir / "applied" / f"{self.id:06d}.{self.format}"

    def ruleset_path(self, state_dir: Path) -> Path:
        return state_dir / "applied" / f"{self.id:06d}.ruleset.json"


@dataclass(frozen=True)
class RolledBack:
    undone: Record
    #: the record in force again; None when an unconfirmed first apply was undone by removing the table
    restored: Record | None


@dataclass(frozen=True)
class Applied:
    record: Record
    previous: Record | None
    script: str
    #: when the background timer rolls back unless confirm() comes first
    confirm_deadline: datetime | None = None


def _write_atomic(path: Path, data: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _load_history(state_dir: Path) -> list[Record]:
    path = state_dir / "history.json"
    if not path.exists():
        return []
    try:
        return [Record(**record) for record in json.loads(path.read_text(encoding="utf-8"))["records"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ApplyRefused("state", f"{path} cannot be read ({error!r}); repair or remove it") from error


def _save_history(state_dir: Path, records: list[Record]) -> None:
    _write_atomic(state_dir / "history.json", json.dumps({"records": [asdict(r) for r in records]}, indent=1) + "\n")


def _read_pending(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / "pending.json"
    if not path.exists():
        return None
    try:
        pending = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(pending, dict) or not isinstance(pending.get("token"), str):
            raise ValueError("no token")
        return pending
    except ValueError as error:
        raise ApplyRefused("state", f"{path} cannot be read ({error!r}); repair or remove it") from error


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if state_dir.stat().st_mode & 0o022:
        # pending.json names the nft command the confirm timer runs: nobody else may write here
        raise ApplyRefused("state", f"{state_dir} is writable by group or others: chmod go-w it")
    (state_dir / "applied").mkdir(exist_ok=True, mode=0o700)
    with open(state_dir / "lock", "a") as handle:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise ApplyRefused("locked", f"{state_dir} is busy with another apply or rollback") from error
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_ruleset(state_dir: Path, record: Record) -> Ruleset:
    path = record.ruleset_path(state_dir)
    try:
        return Ruleset.from_state(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ApplyRefused("state", f"the ruleset of version {record.version} ({path}) cannot be read") from error


def _remove_files(state_dir: Path, record: Record) -> None:
    for path in (record.script_path(state_dir), record.ruleset_path(state_dir)):
        path.unlink(missing_ok=True)


# --- apply ----------------------------------------------------------------------------------------------


def apply(
    ruleset: Ruleset,
    *,
    state_dir: Path | str,
    format: Format = "nft",
    force: bool = False,
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE,
    keep: int = DEFAULT_KEEP,
    confirm_within: float | None = None,
    nft: Sequence[str] = NFT,
    now: Callable[[], datetime] = _utcnow,
) -> Applied:
    """Brakes, ``nft -c``, one ``nft -f``, read-back, history; optionally a rollback timer.

    On a read-back mismatch the previous ruleset (or no table) is restored and NftError("readback") raised.
    """
    state_dir = Path(state_dir)
    if format not in FORMATS:
        raise ValueError(f"format {format!r}")
    if not 0 <= max_drop_share <= 1:
        raise ValueError("max_drop_share is a share between 0 and 1")
    if keep < 2:
        raise ValueError("keep at least 2 applied versions, or rollback has nothing to return to")
    with _locked(state_dir):
        pending = _read_pending(state_dir)
        if pending is not None:
            raise ApplyRefused(
                "unconfirmed",
                f"version {pending.get('version')} awaits confirmation until {pending.get('deadline')}: "
                "confirm or roll back first",
            )
        records = _load_history(state_dir)
        current = records[-1] if records else None
        _brakes(ruleset, current, force=force, max_drop_share=max_drop_share)

        at = now()
        script = ruleset.script(at, format)
        check(script, nft=nft)
        _nft_apply(script, nft=nft)
        try:
            verify(ruleset, at, nft=nft)
        except NftError:
            _restore(state_dir, current, ruleset, nft=nft, now=now)
            raise

        counts = {name: len(values) for name, values in ruleset.expected_sets(at).items()}
        record = Record(
            id=(current.id + 1) if current else 1,
            version=ruleset.version,
            election=ruleset.election,
            phase=ruleset.phase.value,
            entries=ruleset.entries,
            table=ruleset.table,
            family=ruleset.family,
            format=format,
            applied_at=format_time(at),
            counts=counts,
        )
        _write_atomic(record.ruleset_path(state_dir), json.dumps(ruleset.to_state()) + "\n")
        _write_atomic(record.script_path(state_dir), script)
        records.append(record)
        for old in records[:-keep]:
            _remove_files(state_dir, old)
        records = records[-keep:]
        _save_history(state_dir, records)

        deadline = None
        if confirm_within is not None:
            deadline = at + timedelta(seconds=confirm_within)
            _start_timer(state_dir, record, deadline, confirm_within, nft=nft)
        return Applied(record=record, previous=current, script=script, confirm_deadline=deadline)


def _brakes(ruleset: Ruleset, current: Record | None, *, force: bool, max_drop_share: float) -> None:
    if current is None:
        return
    if (current.family, current.table) != (ruleset.family, ruleset.table):
        raise ApplyRefused(
            "table_changed",
            f"this state directory manages table {current.family} {current.table}, not "
            f"{ruleset.family} {ruleset.table}: use another state directory",
        )
    if current.election == ruleset.election and ruleset.version < current.version:
        raise ApplyRefused(
            "older_version",
            f"version {ruleset.version} of {ruleset.election} is older than version {current.version} in force",
        )
    if current.election != ruleset.election and not force:
        raise ApplyRefused(
            "election_changed",
            f"the allowlist in force is {current.election}'s, this is {ruleset.election}'s: --force to switch",
        )
    if current.entries and not force:
        share = (current.entries - ruleset.entries) / current.entries
        if share > max_drop_share:
            raise ApplyRefused(
                "entry_drop",
                f"version {ruleset.version} has {ruleset.entries} entries, {current.entries} are in force: a drop "
                f"of {share:.0%} exceeds {max_drop_share:.0%} (--force if it is meant)",
            )


def _restore(
    state_dir: Path, previous: Record | None, failed: Ruleset, *, nft: Sequence[str], now: Callable[[], datetime]
) -> None:
    """Best effort after a failed read-back: the previous ruleset again, or no table if there was none."""
    with contextlib.suppress(NftError, ApplyRefused):
        if previous is None:
            _nft_apply(_removal_script(failed.family, failed.table), nft=nft)
        else:
            _nft_apply(_load_ruleset(state_dir, previous).script(now(), previous.format), nft=nft)


def _removal_script(family: str, table: str) -> str:
    return f"table {family} {table} {{}}\ndelete table {family} {table}\n"


# --- rollback and confirm -------------------------------------------------------------------------------


def rollback(
    state_dir: Path | str,
    *,
    nft: Sequence[str] = NFT,
    pending_token: str | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> RolledBack | None:
    """Put the previous applied ruleset back, written again at this instant.

    With ``pending_token`` (the confirm timer): only if that apply is still unconfirmed, else nothing
    happens and None is returned; a first apply that goes unconfirmed is undone by removing the table.
    """
    state_dir = Path(state_dir)
    with _locked(state_dir):
        pending = _read_pending(state_dir)
        if pending_token is not None:
            if pending is None or not secrets.compare_digest(pending["token"], pending_token):
                return None  # confirmed, or rolled back by hand meanwhile
            nft = tuple(pending["nft"])
        records = _load_history(state_dir)
        if not records or (len(records) < 2 and pending_token is None):
            raise ApplyRefused("nothing_to_roll_back", f"{state_dir} holds no earlier applied version")
        current = records[-1]
        previous = records[-2] if len(records) >= 2 else None
        if previous is None:
            _nft_apply(_removal_script(current.family, current.table), nft=nft)
            if read_table(current.family, current.table, nft=nft) is not None:
                raise NftError("readback", f"table {current.family} {current.table} is still there")
        else:
            ruleset = _load_ruleset(state_dir, previous)
            at = now()
            script = ruleset.script(at, previous.format)
            check(script, nft=nft)
            _nft_apply(script, nft=nft)
            verify(ruleset, at, nft=nft)
        _remove_files(state_dir, current)
        _save_history(state_dir, records[:-1])
        (state_dir / "pending.json").unlink(missing_ok=True)
        return RolledBack(undone=current, restored=previous)


def confirm(state_dir: Path | str) -> dict[str, Any]:
    """Keep the apply that awaits confirmation: the pending rollback is dropped and its timer stopped."""
    state_dir = Path(state_dir)
    with _locked(state_dir):
        pending = _read_pending(state_dir)
        if pending is None:
            raise ApplyRefused("no_pending", "no apply awaits confirmation")
        (state_dir / "pending.json").unlink()
    _stop_timer(pending)
    return pending


def in_force(state_dir: Path | str) -> Record | None:
    """The record of the ruleset in force (the last one applied and not rolled back), if any."""
    records = _load_history(Path(state_dir))
    return records[-1] if records else None


def pending_confirmation(state_dir: Path | str) -> dict[str, Any] | None:
    return _read_pending(Path(state_dir))


def _start_timer(state_dir: Path, record: Record, deadline: datetime, seconds: float, *, nft: Sequence[str]) -> None:
    """A detached process that sleeps until ``deadline`` and then rolls back unless confirmed meanwhile.

    It runs ``firewall.cli rollback --pending TOKEN``: the rollback writes the previous ruleset at its own
    instant (a script prepared now would carry timeouts that end ``seconds`` late).
    """
    token = secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "firewall.cli",
        "rollback",
        "--state-dir",
        str(state_dir.resolve()),
        "--pending",
        token,
        "--delay",
        f"{seconds:g}",
    ]
    source_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")]))}
    pending = {
        "token": token,
        "version": record.version,
        "record_id": record.id,
        "deadline": format_time(deadline),
        "nft": list(nft),
        "pid": None,
    }
    _write_atomic(state_dir / "pending.json", json.dumps(pending, indent=1) + "\n")
    with open(state_dir / "confirm-timer.log", "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd="/", env=env
        )
    pending["pid"] = process.pid
    _write_atomic(state_dir / "pending.json", json.dumps(pending, indent=1) + "\n")


def _stop_timer(pending: dict[str, Any]) -> None:
    """SIGTERM to the timer, if that pid still runs our command line with this token (pids are reused)."""
    pid = pending.get("pid")
    if not isinstance(pid, int):
        return
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if pending["token"].encode() in command_line:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
