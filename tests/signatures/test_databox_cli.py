"""``portal databox inspect``: exit codes, the JSON object, and nothing else on stderr for any input.

These run the installed console script in a subprocess, without a database or an app context, on the
real ISDS messages in tests/data/databox/ and on messages made with the test PKI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.signatures.zfo import MINIMAL_PDF, XmlAttachment, default_pki, make_zfo, message_xml, sign_cms_with

PORTAL = Path(sys.executable).with_name("portal")
REAL = Path(__file__).resolve().parents[1] / "data" / "databox"
POSTSIGNUM = sorted(REAL.glob("postsignum_*.pem"))


def inspect(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    environment["PYTHONWARNINGS"] = "default"  # a warning would be shown, so its absence means something
    return subprocess.run(
        [str(PORTAL), "databox", "inspect", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


def roots(*paths: Path) -> list[str | Path]:
    args: list[str | Path] = []
    for path in paths:
        args += ["--trust-roots", path]
    return args


def refused_json(result: subprocess.CompletedProcess[str], code: str) -> dict:
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["accepted"] is False and data["code"] == code, data
    assert data["message_id"] is None and data["attachments"] == []
    return data


def test_a_real_message_is_read_and_chained_to_postsignum(tmp_path):
    result = inspect(REAL / "DDZ_3401761.zfo", *roots(*POSTSIGNUM), "--json", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    data = json.loads(result.stdout)
    assert data["accepted"] is True and "code" not in data
    assert data["message_id"] == "3401761"
    assert (data["sender_box_id"], data["recipient_box_id"]) == ("qrdae26", "uxidq2y")
    assert data["delivered_at"] == "2015-03-02T11:02:27.683000Z"
    assert data["signing_time"] == "2015-03-02T11:03:08Z"
    assert data["annotation"] == "test 2015-03-02 001"
    assert "CN=Informační systém datových schránek - zkušební prostředí" in data["signer"]
    assert data["chain"][0] == data["signer"]
    assert [subject.split(",")[0] for subject in data["chain"][1:]] == [
        "CN=PostSignum Qualified CA 2",
        "CN=PostSignum Root QCA 2",
    ]
    assert [(a["filename"], a["size"], a["kind"]) for a in data["attachments"]] == [
        ("test_01.txt", 8, "file"),
        ("test_02.txt", 8, "file"),
    ]
    assert data["attachments"][0]["sha256"] == "fcadd89029a4074a9888728f06ff1dd65718abbca0b330ca2aaba1283a75a81a"
    assert data["attachments"][0]["mime_type"] == "application/octet-stream"


def test_the_plain_output_names_the_facts(tmp_path):
    result = inspect(REAL / "DZ_6452235.zfo", *roots(*POSTSIGNUM), cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert "accepted: message 6452235" in result.stdout
    assert "recipient: uxidq2y Ministerstvo hloupé chůze" in result.stdout
    assert "chain: CN=PostSignum Root QCA 2" in result.stdout
    assert "organizationIdentifier=NTRCZ-00007064" in result.stdout


def test_judged_today_the_real_message_is_refused(tmp_path):
    result = inspect(
        REAL / "DZ_6452235.zfo", *roots(*POSTSIGNUM), "--at", "2026-01-01T00:00:00+01:00", "--json", cwd=tmp_path
    )
    refused_json(result, "signer_not_trusted")


def test_the_receipt_and_a_changed_byte_are_refused(tmp_path):
    refused_json(inspect(REAL / "DD_6452235.zfo", *roots(*POSTSIGNUM), "--json", cwd=tmp_path), "not_a_message")
    changed = tmp_path / "changed.zfo"
    changed.write_bytes((REAL / "DDZ_3401761.zfo").read_bytes().replace(b"2015-03-02 001", b"2015-03-02 002"))
    refused_json(inspect(changed, *roots(*POSTSIGNUM), "--json", cwd=tmp_path), "signature_invalid")
    plain = inspect(changed, *roots(*POSTSIGNUM), cwd=tmp_path)
    assert plain.returncode == 1 and plain.stdout == ""
    assert plain.stderr.startswith("refused: signature_invalid: ") and plain.stderr.count("\n") == 1


def test_made_messages_inline_xml_read_and_sha1_refused(tmp_path):
    pki = default_pki()
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root_pem)
    xml = tmp_path / "xml.zfo"
    xml.write_bytes(
        make_zfo(
            attachments=[XmlAttachment("form.xml", b"<a>1</a><b>2</b>"), ("z.pdf", "application/pdf", MINIMAL_PDF)]
        )
    )
    result = inspect(xml, "--trust-roots", root, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    attachments = json.loads(result.stdout)["attachments"]
    assert [(a["filename"], a["kind"], a["size"]) for a in attachments] == [
        ("form.xml", "xml", 16),
        ("z.pdf", "file", len(MINIMAL_PDF)),
    ]
    old = tmp_path / "sha1.zfo"
    old.write_bytes(sign_cms_with(message_xml(), digest_algorithm="sha1"))
    data = refused_json(inspect(old, "--trust-roots", root, "--json", cwd=tmp_path), "weak_algorithm")
    assert data["algorithm"] == "SHA-1" and "SHA-1" in data["reason"]


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", MINIMAL_PDF, b"\x30\x80" + b"\xff" * 64, bytes(range(256)) * 4],
    ids=["empty", "text", "pdf", "broken-ber", "binary"],
)
def test_any_file_is_refused_with_one_line_and_no_traceback(tmp_path, content):
    path = tmp_path / "input.zfo"
    path.write_bytes(content)
    result = inspect(path, *roots(*POSTSIGNUM), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == "refused: not_cms: the file is not a CMS SignedData structure\n"


def test_truncated_real_message_is_refused_quietly(tmp_path):
    path = tmp_path / "cut.zfo"
    path.write_bytes((REAL / "DZ_6452235.zfo").read_bytes()[:5000])
    refused_json(inspect(path, *roots(*POSTSIGNUM), "--json", cwd=tmp_path), "not_cms")


@pytest.mark.parametrize(
    "args",
    [
        ["missing.zfo"],
        [REAL / "DDZ_3401761.zfo", "--at", "yesterday"],
        [REAL / "DDZ_3401761.zfo", "--at", "2015-03-02T12:00:00"],
        [REAL / "DDZ_3401761.zfo", "--trust-roots", REAL / "MANIFEST.md"],
        [],
    ],
    ids=["missing-file", "bad-at", "naive-at", "root-not-a-certificate", "no-file"],
)
def test_usage_errors_exit_2(tmp_path, args):
    result = inspect(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr and result.stdout == ""
