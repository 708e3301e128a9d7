"""``portal verify-signature``: exit codes, the JSON object, and no traceback on stderr for a refusal.

These run the installed console script in a subprocess, without a database or an app context.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.signatures.pki import TestPKI, encrypted_pdf

PORTAL = Path(sys.executable).with_name("portal")


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    return subprocess.run(
        [str(PORTAL), "verify-signature", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


def trust_args(pki: TestPKI, *, with_list: bool = True) -> list[str | Path]:
    args: list[str | Path] = ["--trust-roots", pki.roots_pem_path]
    for path in pki.crl_paths:
        args += ["--crl", path]
    if with_list:
        args += ["--trust-list", pki.trusted_list_path, "--tl-signer", pki.tl_signer_pem_path]
    return args


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout


@pytest.fixture(scope="module")
def files(test_pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.signatures.pki import unsigned_pdf

    folder = tmp_path_factory.mktemp("cli")
    original = unsigned_pdf(2)
    made = {
        "original": original,
        "signed": test_pki.sign_pdf(original, timestamp=True),
        "revoked": test_pki.sign_pdf(original, "revoked"),
        "expired": test_pki.sign_pdf(original, "expired"),
        "not_qualified": test_pki.sign_pdf(original, "not_qualified"),
        "untrusted": test_pki.sign_pdf(original, "untrusted"),
        "modified": test_pki.change_page_text(test_pki.sign_pdf(original)),
        "other": test_pki.sign_pdf(unsigned_pdf(1, title="Something else")),
        "garbage": b"%PDF-1.7\n\x00\x01garbage",
        "encrypted": encrypted_pdf(),
    }
    made["truncated"] = made["signed"][: len(made["signed"]) // 2]
    paths = {}
    for name, data in made.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


def test_accepted_exits_0(test_pki: TestPKI, files: dict[str, Path], tmp_path: Path) -> None:
    result = run(files["signed"], "--original", files["original"], *trust_args(test_pki), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout
    assert "Jana Nováková (NTRCZ-47114983), qualified esign" in result.stdout
    no_traceback(result)


def test_json_accepted(test_pki: TestPKI, files: dict[str, Path], tmp_path: Path) -> None:
    result = run(files["signed"], "--json", "--original", files["original"], *trust_args(test_pki), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["accepted"] is True
    assert document["reasons"] == []
    assert document["signer"]["qualified"] is True
    assert document["signer"]["organisation_identifier"] == "NTRCZ-47114983"
    assert document["signer"]["serial"] == test_pki.signer("qualified").serial_hex
    assert document["coverage"] == "entire_file"
    assert document["timestamp"].endswith("Z") and document["signing_time"] == document["timestamp"]


def test_json_refused(test_pki: TestPKI, files: dict[str, Path], tmp_path: Path) -> None:
    result = run(files["revoked"], "--json", *trust_args(test_pki), cwd=tmp_path)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["accepted"] is False
    assert document["reasons"] == ["revoked"]
    assert document["signer"]["common_name"] == "Pavel Zrušený"
    no_traceback(result)


@pytest.mark.parametrize(
    ("name", "extra", "reason"),
    [
        ("garbage", [], "malformed_pdf"),
        ("truncated", [], None),
        ("encrypted", [], "malformed_pdf"),
        ("original", [], "not_signed"),
        ("untrusted", [], "not_trusted"),
        ("not_qualified", [], "not_qualified"),
        ("expired", [], "expired"),
        ("modified", [], "modified_after_signing"),
        ("other", ["--original", "@original"], "not_bound_to_original"),
        ("signed", ["--deadline", "2000-01-01"], "after_deadline"),
    ],
)
def test_refusals_exit_1_with_reasons_on_stderr_and_no_traceback(
    name: str, extra: list[str], reason: str | None, test_pki: TestPKI, files: dict[str, Path], tmp_path: Path
) -> None:
    args = [files["original"] if item == "@original" else item for item in extra]
    result = run(files[name], *args, *trust_args(test_pki), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused:" in result.stderr
    if reason is not None:
        assert reason in result.stderr
    no_traceback(result)


def test_soft_revocation_and_seal_flags(test_pki: TestPKI, files: dict[str, Path], tmp_path: Path) -> None:
    crl_less = ["--trust-roots", test_pki.roots_pem_path]
    hard = run(files["signed"], *crl_less, cwd=tmp_path)
    assert hard.returncode == 1 and "revocation_unknown" in hard.stderr
    soft = run(files["signed"], *crl_less, "--soft-revocation", cwd=tmp_path)
    assert soft.returncode == 0, soft.stderr
    sealed = tmp_path / "sealed.pdf"
    sealed.write_bytes(test_pki.sign_pdf(files["original"].read_bytes(), "seal"))
    assert run(sealed, *trust_args(test_pki), cwd=tmp_path).returncode == 1
    assert run(sealed, *trust_args(test_pki), "--allow-seals", cwd=tmp_path).returncode == 0


def test_deadline_and_received_at(test_pki: TestPKI, files: dict[str, Path], tmp_path: Path) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert run(files["signed"], "--deadline", tomorrow, *trust_args(test_pki), cwd=tmp_path).returncode == 0
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    result = run(files["signed"], "--received-at", later, *trust_args(test_pki), cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["does-not-exist.pdf"],
        ["@signed", "--deadline", "next friday"],
        ["@signed", "--deadline", "2022-09-09T23:59:59"],
        ["@signed", "--trust-list", "@trusted_list"],
        ["@signed", "--trust-roots", "@signed"],
        ["@signed", "--no-such-option"],
    ],
    ids=["no-file", "missing-file", "bad-deadline", "naive-deadline", "list-without-signer", "roots-not-pem", "option"],
)
def test_usage_errors_exit_2(args: list[str], test_pki: TestPKI, files: dict[str, Path], tmp_path: Path) -> None:
    replacements = {"@signed": files["signed"], "@trusted_list": test_pki.trusted_list_path}
    result = run(*[replacements.get(item, item) for item in args], cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    no_traceback(result)


def test_received_is_when_the_deadline_is_judged(test_pki: TestPKI, tmp_path: Path) -> None:
    """No timestamp: the claimed time (an hour ago) does not meet a deadline that passed before receipt."""
    from tests.signatures.pki import unsigned_pdf

    now = datetime.now(UTC)
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(test_pki.sign_pdf(unsigned_pdf(1), signing_time=now - timedelta(hours=1)))
    deadline = (now - timedelta(minutes=30)).isoformat()
    late = run(signed, "--deadline", deadline, *trust_args(test_pki), cwd=tmp_path)
    assert late.returncode == 1 and "after_deadline" in late.stderr
    early = (now - timedelta(minutes=45)).isoformat()
    in_time = run(signed, "--deadline", deadline, "--received", early, *trust_args(test_pki), cwd=tmp_path)
    assert in_time.returncode == 0, in_time.stderr
    assert "judged at" in in_time.stdout and "(receipt)" in in_time.stdout


def test_json_report_of_the_demo_upload(tmp_path: Path) -> None:
    """The demo signer's upload: TOTAL_PASSED, a PAdES level and the demo list; changed after signing,
    TOTAL_FAILED with a sub-indication."""
    from portal.signatures.demo import ensure_demo_pki, sign_with_demo_signer
    from tests.signatures.pki import TestPKI, unsigned_pdf

    pki = ensure_demo_pki(tmp_path / "pki")
    original = unsigned_pdf(2)
    (tmp_path / "original.pdf").write_bytes(original)
    signed = sign_with_demo_signer(original, pki)
    (tmp_path / "signed.pdf").write_bytes(signed)
    result = run(
        tmp_path / "signed.pdf",
        "--json",
        "--original",
        tmp_path / "original.pdf",
        *pki.verify_arguments(),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["report"]
    assert report["indication"] == "TOTAL_PASSED"
    assert report["pades_level"] == "B-B"
    assert report["judged_at_basis"] == "receipt"
    assert [(t["territory"], t["sequence_number"]) for t in report["trusted_lists"]] == [("CZ", 1)]
    (tmp_path / "changed.pdf").write_bytes(TestPKI.change_page_text(signed))
    refused = run(tmp_path / "changed.pdf", "--json", *pki.verify_arguments(), cwd=tmp_path)
    assert refused.returncode == 1
    report = json.loads(refused.stdout)["report"]
    assert (report["indication"], report["sub_indication"]) == ("TOTAL_FAILED", "HASH_FAILURE")
    no_traceback(refused)
