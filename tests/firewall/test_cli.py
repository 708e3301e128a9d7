"""``firewall render|check|apply|rollback|confirm``: exit codes 0/1/2, reasons on stderr, refusals change nothing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allowlist.addresses import AddressPolicy
from allowlist.phase import LiveWindow
from allowlist.snapshot import Entry, Snapshot, sign_document, snapshot_document
from firewall.cli import main
from firewall.render import render
from tests.firewall.netns import namespace, require_nft_and_netns, run

KEY = Ed25519PrivateKey.generate()
DOCS = AddressPolicy(allow_documentation=True)
AT = "2028-01-10T12:00:00Z"
SNAPSHOT = Snapshot(
    election="prez2028",
    version=3,
    generated_at=datetime(2027, 12, 20, tzinfo=UTC),
    live_windows=(LiveWindow(1, datetime(2028, 1, 13, 13, tzinfo=UTC), datetime(2028, 1, 14, 13, tzinfo=UTC)),),
    closes_at=datetime(2028, 2, 5, tzinfo=UTC),
    entries=(Entry("192.0.2.10", "production", "ČTK", 7), Entry("2001:db8::5", "test", "ČTK", 7)),
)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    public = tmp_path / "allowlist.pub"
    public.write_bytes(
        KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    other = tmp_path / "other.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signed = sign_document(snapshot_document(SNAPSHOT), KEY)
    paths = {"public": public, "other": other, "garbage": tmp_path / "garbage.pub"}
    paths["garbage"].write_text("not a key")
    documents = {
        "good": signed,
        "tampered": {**signed, "version": 4},
        "unsigned": snapshot_document(SNAPSHOT),
        "injected": sign_document(
            {
                **snapshot_document(SNAPSHOT),
                "entries": [{**signed["entries"][0], "address": "192.0.2.1; flush ruleset"}],
            },
            KEY,
        ),
    }
    for name, document in documents.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(document, ensure_ascii=False))
    return paths


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_render_prints_the_ruleset(files, capsys):
    code, out, err = cli(capsys, "render", "--snapshot", files["good"], "--at", AT, "--public-key", files["public"],
                         "--allow-documentation-ranges")  # fmt: skip
    assert (code, err) == (0, "")
    assert out == render(SNAPSHOT, datetime(2028, 1, 10, 12, tzinfo=UTC), policy=DOCS)


def test_render_options_reach_the_ruleset(files, capsys, tmp_path):
    output = tmp_path / "out.json"
    code, out, _ = cli(capsys, "render", "--snapshot", files["good"], "--at", "2028-01-10T13:00:00+01:00",
                       "--no-verify", "--allow-documentation-ranges", "--ports", "8443,80", "--table", "xml",
                       "--format", "json", "--output", output)  # fmt: skip
    assert (code, out) == (0, "")
    expected = render(
        SNAPSHOT, datetime(2028, 1, 10, 12, tzinfo=UTC), ports=(80, 8443), table="xml", format="json", policy=DOCS
    )
    assert output.read_text() == expected


def test_the_connection_limit_reaches_the_ruleset(files, capsys):
    args = ["render", "--snapshot", files["good"], "--at", AT, "--no-verify", "--allow-documentation-ranges"]
    code, out, _ = cli(capsys, *args, "--connection-limit", "40")
    assert code == 0 and "ct count over 40" in out
    assert out == render(SNAPSHOT, datetime(2028, 1, 10, 12, tzinfo=UTC), policy=DOCS, connection_limit=40)
    code, out, _ = cli(capsys, *args, "--connection-limit", "0")
    assert code == 0 and "ct count" not in out


def test_render_reads_stdin(files, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(files["good"].read_bytes())))
    code, out, _ = cli(capsys, "render", "--snapshot", "-", "--at", AT, "--no-verify", "--allow-documentation-ranges")
    assert code == 0 and out.startswith("# Allowlist prez2028 version 3")


@pytest.mark.parametrize(
    ("snapshot", "key", "reason"),
    [
        ("tampered", "public", "snapshot refused (signature)"),
        ("unsigned", "public", "snapshot refused (signature)"),
        ("good", "other", "snapshot refused (signature)"),
        (
            "injected",
            "public",
            "snapshot refused (bad_entry): entry 0: address '192.0.2.1; flush ruleset' refused (junk)",
        ),
        ("good", None, "snapshot refused (bad_entry): entry 0: address '192.0.2.10' refused (documentation)"),
        ("good", "garbage", "is not a PEM public key"),
        ("missing", "public", "cannot read"),
    ],
)
def test_refused_inputs_exit_1_with_the_reason(files, capsys, tmp_path, snapshot, key, reason):
    snapshot_file = files.get(snapshot, tmp_path / "missing.json")
    argv = ["render", "--snapshot", snapshot_file, "--at", AT, "--public-key", files[key or "public"]]
    if key is not None:
        argv.append("--allow-documentation-ranges")
    code, out, err = cli(capsys, *argv)
    assert (code, out) == (1, "")
    assert reason in err


def test_a_render_refusal_names_the_code(files, capsys):
    code, _, err = cli(capsys, "render", "--snapshot", files["good"], "--at", AT, "--no-verify",
                       "--allow-documentation-ranges", "--family", "ip")  # fmt: skip
    assert code == 1 and "refused (family)" in err and "2001:db8::5" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["render"],
        ["render", "--snapshot", "{good}"],  # neither --public-key nor --no-verify
        ["render", "--snapshot", "{good}", "--no-verify", "--public-key", "{public}"],
        ["render", "--snapshot", "{good}", "--no-verify", "--ports", "80,http"],
        ["render", "--snapshot", "{good}", "--no-verify", "--ports", "0"],
        ["render", "--snapshot", "{good}", "--no-verify", "--ports", "80,80"],
        ["render", "--snapshot", "{good}", "--no-verify", "--at", "2028-01-10T12:00:00"],
        ["render", "--snapshot", "{good}", "--no-verify", "--format", "yaml"],
        ["render", "--snapshot", "{good}", "--no-verify", "--connection-limit", "-1"],
        ["render", "--snapshot", "{good}", "--no-verify", "--connection-limit", "many"],
        ["check"],
        ["check", "--script", "x.nft", "--snapshot", "{good}", "--no-verify"],
        ["apply", "--snapshot", "{good}", "--no-verify", "--confirm-within", "0"],
        ["apply", "--snapshot", "{good}", "--no-verify", "--max-drop-share", "1.5"],
        ["apply", "--snapshot", "{good}", "--no-verify", "--keep", "1"],
        ["apply", "--snapshot", "{good}", "--no-verify", "--at", AT],
    ],
    ids=lambda argv: " ".join(argv) or "nothing",
)
def test_usage_errors_exit_2(files, capsys, argv):
    code, out, err = cli(capsys, *(a.format(**files) for a in argv))
    assert code == 2 and out == "" and err


def test_the_firewall_imports_no_flask():
    code = "import sys, firewall.cli, firewall.apply, allowlist.snapshot; assert 'flask' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "firewall"
    assert script.exists()
    assert subprocess.run([script, "--help"], capture_output=True, check=False).returncode == 0


def test_help_exits_0(capsys):
    assert cli(capsys, "--help")[0] == 0
    assert cli(capsys, "apply", "--help")[0] == 0


# --- with nft -----------------------------------------------------------------------------------------


@pytest.mark.netns
def test_check_runs_nft_on_the_rendered_ruleset_or_a_script(files, capsys, tmp_path):
    require_nft_and_netns()
    code, out, _ = cli(capsys, "check", "--snapshot", files["good"], "--at", AT, "--public-key", files["public"],
                       "--allow-documentation-ranges")  # fmt: skip
    assert code == 0 and "nft accepts" in out
    broken = tmp_path / "broken.nft"
    broken.write_text("table inet csu_results { chain input { tcp dport 80 frobnicate } }\n")
    code, _, err = cli(capsys, "check", "--script", broken)
    assert code == 1 and "check_failed" in err and "frobnicate" in err


@pytest.fixture
def server() -> Iterator[str]:
    require_nft_and_netns()
    with namespace("csu-cli-apply") as name:
        yield name


def in_namespace(name: str, *argv: object) -> subprocess.CompletedProcess[str]:
    return run("ip", "netns", "exec", name, sys.executable, "-m", "firewall.cli", *map(str, argv), check=False)


def live_snapshot_file(tmp_path: Path, version: int, entries: list[Entry], name: str) -> Path:
    now = datetime.now(UTC)
    snapshot = Snapshot(
        election="prez2028",
        version=version,
        generated_at=now,
        live_windows=(LiveWindow(1, now + timedelta(hours=1), now + timedelta(hours=2)),),
        closes_at=now + timedelta(days=9),
        entries=tuple(entries),
    )
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(sign_document(snapshot_document(snapshot), KEY)))
    return path


def table_listing(name: str, *, strict: bool = False) -> str:
    """The whole ruleset without the expiry countdown; unless strict also without handles and timeouts
    (a rollback installs the same content again, with new handles and timeouts counted from then)."""
    listing = json.loads(run("ip", "netns", "exec", name, "nft", "-j", "list", "ruleset").stdout)
    for item in listing["nftables"]:
        for spec in item.values():
            if not strict:
                spec.pop("handle", None)
        for element in item.get("set", {}).get("elem", []):
            if isinstance(element, dict):
                element["elem"].pop("expires", None)
                if not strict:
                    element["elem"].pop("timeout", None)
    return json.dumps(listing)


@pytest.mark.netns
def test_apply_rollback_and_confirm_through_the_cli(server, files, tmp_path):
    entries = [Entry(f"192.0.2.{i}", "production" if i % 2 else "test", "Outlet", i) for i in range(1, 11)]
    state = tmp_path / "state"
    common = ["--public-key", files["public"], "--allow-documentation-ranges", "--state-dir", state]

    first = in_namespace(server, "apply", "--snapshot", live_snapshot_file(tmp_path, 5, entries, "v5"), *common)
    assert first.returncode == 0, first.stderr
    assert "applied prez2028 version 5 (phase testing): prod4 5, test4 5, prod6 0, test6 0" in first.stdout
    listing, strict = table_listing(server), table_listing(server, strict=True)

    # Refusals exit 1 with the reason and change nothing on the host.
    refusals = {
        "older_version": live_snapshot_file(tmp_path, 4, entries, "v4"),
        "entry_drop": live_snapshot_file(tmp_path, 6, entries[:4], "v6-small"),
        "signature": files["tampered"],
        "bad_entry": files["injected"],
    }
    for reason, snapshot_file in refusals.items():
        refused = in_namespace(server, "apply", "--snapshot", snapshot_file, *common)
        assert refused.returncode == 1, (reason, refused.stdout)
        assert f"({reason})" in refused.stderr
        assert table_listing(server, strict=True) == strict, reason

    forced = in_namespace(
        server, "apply", "--snapshot", live_snapshot_file(tmp_path, 6, entries[:4], "v6-small"), *common, "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert "before: version 5" in forced.stdout

    back = in_namespace(server, "rollback", "--state-dir", state)
    assert back.returncode == 0 and "prez2028 version 5 is in force again" in back.stdout
    assert table_listing(server) == listing

    pending = in_namespace(
        server, "apply", "--snapshot", live_snapshot_file(tmp_path, 7, entries, "v7"), *common, "--confirm-within", "30"
    )
    assert pending.returncode == 0 and "unless `firewall confirm` follows" in pending.stdout
    confirmed = in_namespace(server, "confirm", "--state-dir", state)
    assert confirmed.returncode == 0 and "confirmed version 7" in confirmed.stdout
    again = in_namespace(server, "confirm", "--state-dir", state)
    assert again.returncode == 1 and "(no_pending)" in again.stderr
