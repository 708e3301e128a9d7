"""The allowlist snapshot: its document, canonical bytes, Ed25519 signature and every refusal of load_snapshot."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allowlist.addresses import AddressPolicy
from allowlist.phase import LiveWindow, Phase, Schedule, phase_at
from allowlist.snapshot import (
    ERROR_CODES,
    SCHEMA,
    Entry,
    Snapshot,
    SnapshotError,
    canonical_bytes,
    load_snapshot,
    sign_document,
    snapshot_document,
)

DOCS = AddressPolicy(allow_documentation=True)
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.generate()

ROUND_1 = LiveWindow(1, datetime(2028, 1, 13, 13, tzinfo=UTC), datetime(2028, 1, 14, 13, tzinfo=UTC))
ROUND_2 = LiveWindow(2, datetime(2028, 1, 27, 13, tzinfo=UTC), datetime(2028, 1, 28, 13, tzinfo=UTC))
SNAPSHOT = Snapshot(
    election="prez2028",
    version=17,
    generated_at=datetime(2027, 12, 20, 10, tzinfo=UTC),
    live_windows=(ROUND_1, ROUND_2),
    closes_at=datetime(2028, 2, 5, 13, tzinfo=UTC),
    entries=(
        Entry("192.0.2.10", "production", "ČTK", 7),
        Entry("2001:db8::5", "test", "ČTK", 7),
        Entry("198.51.100.7", "test", "Český rozhlas", 12),
    ),
)


def document(**changes: Any) -> dict[str, Any]:
    """The unsigned document of SNAPSHOT with top-level fields replaced (None removes one)."""
    doc = snapshot_document(SNAPSHOT)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def signed(doc: dict[str, Any], key: Ed25519PrivateKey = KEY) -> bytes:
    return json.dumps(sign_document(doc, key), ensure_ascii=False).encode()


def refusal(data: bytes | str, *, public_key: Any = PUBLIC, policy: AddressPolicy = DOCS) -> SnapshotError:
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(data, public_key=public_key, policy=policy)
    return caught.value


def with_entry(**fields: Any) -> dict[str, Any]:
    entry = {"address": "203.0.113.9", "kind": "production", "organisation": "Deník", "organisation_id": 3}
    entry.update(fields)
    return document(entries=[*document()["entries"], entry])


# --- the document and its signature ---------------------------------------------------------------------


def test_the_document_has_the_schema_v1_shape_with_utc_z_times():
    doc = snapshot_document(SNAPSHOT)
    assert list(doc) == ["schema", "election", "version", "generated_at", "live_windows", "closes_at", "entries"]
    assert doc["schema"] == SCHEMA == "csu-allowlist/1"
    assert doc["generated_at"] == "2027-12-20T10:00:00Z"
    assert doc["live_windows"][0] == {"round": 1, "from": "2028-01-13T13:00:00Z", "until": "2028-01-14T13:00:00Z"}
    assert doc["entries"][0] == {
        "address": "192.0.2.10",
        "kind": "production",
        "organisation": "ČTK",
        "organisation_id": 7,
    }


def test_times_in_another_zone_are_written_in_utc():
    prague = datetime(2028, 1, 13, 14, tzinfo=UTC).astimezone(ZoneInfo("Europe/Prague"))
    window = LiveWindow(1, prague, prague + timedelta(days=1))
    doc = snapshot_document(Snapshot("prez2028", 1, prague, (window,), prague + timedelta(days=9), ()))
    assert doc["live_windows"][0]["from"] == "2028-01-13T14:00:00Z"


def test_canonical_bytes_are_sorted_compact_utf8_without_the_signature():
    assert canonical_bytes({"b": 1, "a": "Č", "signature": "x", "c": [{"z": 1, "y": 2}]}) == (
        '{"a":"Č","b":1,"c":[{"y":2,"z":1}]}'.encode()
    )


def test_sign_then_load_round_trips():
    assert load_snapshot(signed(snapshot_document(SNAPSHOT)), public_key=PUBLIC, policy=DOCS) == SNAPSHOT


def test_the_signature_is_base64_ed25519_over_the_canonical_bytes():
    signed_doc = sign_document(snapshot_document(SNAPSHOT), KEY)
    PUBLIC.verify(base64.b64decode(signed_doc["signature"]), canonical_bytes(snapshot_document(SNAPSHOT)))


def test_signing_again_replaces_the_old_signature():
    once = sign_document(snapshot_document(SNAPSHOT), OTHER_KEY)
    again = sign_document(once, KEY)
    assert again["signature"] != once["signature"]
    assert load_snapshot(json.dumps(again), public_key=PUBLIC, policy=DOCS) == SNAPSHOT


def test_a_reordered_and_reformatted_but_equal_document_still_verifies():
    doc = sign_document(snapshot_document(SNAPSHOT), KEY)
    reordered = {key: doc[key] for key in reversed(list(doc))}
    reordered["entries"] = [{k: e[k] for k in reversed(list(e))} for e in doc["entries"]]
    data = json.dumps(reordered, indent=4, ensure_ascii=True).encode()  # \u escapes, other whitespace
    assert data != signed(snapshot_document(SNAPSHOT))
    assert load_snapshot(data, public_key=PUBLIC, policy=DOCS) == SNAPSHOT


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"192.0.2.10"', b'"192.0.2.11"'),  # an address
        (b'"version": 17', b'"version": 18'),  # the version
        (b'"production"', b'"productioN"'),  # one flipped letter; still JSON
    ],
    ids=["address", "version", "kind"],
)
def test_a_flipped_byte_breaks_the_signature(old, new):
    data = signed(snapshot_document(SNAPSHOT))
    assert old in data
    assert refusal(data.replace(old, new, 1)).code == "signature"


def test_a_flipped_byte_in_the_signature_breaks_it():
    doc = sign_document(snapshot_document(SNAPSHOT), KEY)
    raw = bytearray(base64.b64decode(doc["signature"]))
    raw[0] ^= 1
    doc["signature"] = base64.b64encode(bytes(raw)).decode()
    assert refusal(json.dumps(doc)).code == "signature"


@pytest.mark.parametrize("signature", [None, "", "not base64!", 42, base64.b64encode(b"short").decode()], ids=repr)
def test_a_missing_or_unusable_signature_is_refused(signature):
    doc = snapshot_document(SNAPSHOT)
    if signature is not None:
        doc["signature"] = signature
    assert refusal(json.dumps(doc)).code == "signature"


def test_a_signature_by_another_key_is_refused():
    assert refusal(signed(snapshot_document(SNAPSHOT), OTHER_KEY)).code == "signature"


def test_no_verify_accepts_an_unsigned_document():
    assert load_snapshot(json.dumps(snapshot_document(SNAPSHOT)), public_key=None, policy=DOCS) == SNAPSHOT


def test_the_signature_is_checked_before_the_content():
    """An unsigned document with a bad entry is a signature refusal: unauthenticated content is not read."""
    assert refusal(json.dumps(with_entry(address="10.0.0.1"))).code == "signature"


# --- refusals of the content (signed correctly) -----------------------------------------------------------


def test_every_error_code_is_listed():
    assert set(ERROR_CODES) == {"malformed", "schema", "signature", "bad_entry", "duplicate_entry", "window"}


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"\xff\xfe", b"[]", b'"snapshot"', b"null", b'{"version": NaN}'],
    ids=["empty", "truncated", "not-utf8", "list", "string", "null", "nan"],
)
def test_what_is_not_a_json_object_is_malformed(data):
    assert refusal(data, public_key=None).code == "malformed"


def test_a_repeated_key_is_malformed():
    text = signed(snapshot_document(SNAPSHOT)).decode()
    assert refusal(text.replace('{"schema"', '{"version": 1, "schema"', 1), public_key=None).code == "malformed"


@pytest.mark.parametrize(
    "changes",
    [
        {"version": None},
        {"entries": None},
        {"live_windows": None},
        {"closes_at": None},
        {"generated_at": None},
        {"election": None},
        {"extra": "field"},
        {"version": "17"},
        {"version": True},
        {"version": 0},
        {"version": 17.0},
        {"election": "prez 2028; rm -rf /"},
        {"election": "Prez2028"},
        {"election": 2028},
        {"generated_at": "yesterday"},
        {"generated_at": "2027-12-20T10:00:00"},
        {"closes_at": 1700000000},
        {"entries": {"192.0.2.1": "production"}},
        {"live_windows": "none"},
    ],
    ids=lambda changes: "-".join(f"{k}={v!r}" for k, v in changes.items()),
)
def test_missing_unknown_and_mistyped_fields_are_malformed(changes):
    assert refusal(signed(document(**changes))).code == "malformed"


@pytest.mark.parametrize(
    "entry_changes",
    [
        {"kind": "staging"},
        {"kind": None},
        {"organisation_id": True},
        {"organisation_id": "7"},
        {"organisation_id": 0},
        {"organisation": None},
        {"organisation": "x" * 501},
        {"address": 3221225985},
        {"comment": "unknown field"},
    ],
    ids=repr,
)
def test_a_mistyped_entry_is_malformed(entry_changes):
    assert refusal(signed(with_entry(**entry_changes))).code == "malformed"


def test_an_entry_without_a_field_is_malformed():
    doc = document()
    del doc["entries"][1]["organisation_id"]
    assert refusal(signed(doc)).code == "malformed"


@pytest.mark.parametrize("schema", ["csu-allowlist/2", "", None, 1], ids=repr)
def test_another_schema_is_refused(schema):
    assert refusal(signed(document(schema=schema))).code == "schema"


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("192.0.2.1; flush ruleset", "junk"),
        ("192.0.2.1 }", "junk"),
        ('192.0.2.1" }; flush ruleset; #', "junk"),
        ("192.0.2.1\nflush ruleset", "junk"),
        ("192.0.2.0/24", "range"),
        ("10.1.2.3", "private"),
        ("127.0.0.1", "loopback"),
        ("::ffff:192.0.2.1", "ipv4_mapped"),
        ("fe80::1%eth0", "zone_id"),
        ("", "empty"),
        ("example.org", "not_an_address"),
    ],
    ids=repr,
)
def test_a_bad_address_refuses_the_whole_snapshot_naming_it(address, code):
    error = refusal(signed(with_entry(address=address)))
    assert error.code == "bad_entry"
    assert (error.address, error.address_code) == (address, code)
    assert repr(address) in error.detail and code in error.detail


def test_documentation_ranges_are_refused_unless_the_policy_allows_them():
    error = refusal(signed(snapshot_document(SNAPSHOT)), policy=AddressPolicy())
    assert (error.code, error.address, error.address_code) == ("bad_entry", "192.0.2.10", "documentation")


def test_ipv6_refused_by_policy_is_a_bad_entry():
    error = refusal(
        signed(snapshot_document(SNAPSHOT)), policy=AddressPolicy(allow_documentation=True, allow_ipv6=False)
    )
    assert (error.code, error.address_code) == ("bad_entry", "ipv6_disabled")


@pytest.mark.parametrize(
    ("first", "second"),
    [("203.0.113.9", "203.0.113.9"), ("2001:db8::9", "2001:DB8:0:0::9"), ("203.0.113.9", " 203.0.113.9")],
    ids=["same", "other-spelling", "whitespace"],
)
def test_a_repeated_address_is_a_duplicate_entry_whatever_its_kind_or_spelling(first, second):
    doc = with_entry(address=first)
    doc["entries"].append({"address": second, "kind": "test", "organisation": "X", "organisation_id": 4})
    error = refusal(signed(doc))
    assert (error.code, error.address) == ("duplicate_entry", second)


def test_addresses_are_loaded_in_canonical_form():
    doc = with_entry(address="2001:DB8:0:0::99")
    assert load_snapshot(signed(doc), public_key=PUBLIC, policy=DOCS).entries[-1].address == "2001:db8::99"


def window(round_: int, start: str, end: str) -> dict[str, Any]:
    return {"round": round_, "from": start, "until": end}


@pytest.mark.parametrize(
    "windows",
    [
        [window(1, "2028-01-13T13:00:00Z", "2028-01-13T12:00:00Z")],  # ends before it starts
        [window(1, "2028-01-13T13:00:00Z", "2028-01-13T13:00:00Z")],  # empty
        [window(1, "2028-01-13T13:00:00", "2028-01-14T13:00:00Z")],  # naive
        [window(1, "2028-01-13T13:00:00Z", "2028-01-14T13:00:00")],  # naive end
        [
            window(2, "2028-01-27T13:00:00Z", "2028-01-28T13:00:00Z"),
            window(1, "2028-01-13T13:00:00Z", "2028-01-14T13:00:00Z"),
        ],
        [
            window(1, "2028-01-13T13:00:00Z", "2028-01-14T13:00:00Z"),
            window(2, "2028-01-14T12:00:00Z", "2028-01-15T13:00:00Z"),
        ],
        [
            window(1, "2028-01-13T13:00:00Z", "2028-01-14T13:00:00Z"),
            window(1, "2028-01-27T13:00:00Z", "2028-01-28T13:00:00Z"),
        ],
    ],
    ids=["reversed", "empty", "naive-start", "naive-end", "unsorted", "overlapping", "same-round"],
)
def test_bad_live_windows_are_refused(windows):
    assert refusal(signed(document(live_windows=windows))).code == "window"


@pytest.mark.parametrize(
    "windows",
    [
        [{"round": 1, "from": "2028-01-13T13:00:00Z"}],
        [{"round": 1, "from": "2028-01-13T13:00:00Z", "until": "2028-01-14T13:00:00Z", "note": "x"}],
        [{"round": "1", "from": "2028-01-13T13:00:00Z", "until": "2028-01-14T13:00:00Z"}],
        [window(1, "13 January 2028", "2028-01-14T13:00:00Z")],
        ["2028-01-13T13:00:00Z"],
    ],
    ids=["missing-until", "unknown-field", "round-string", "not-iso", "not-an-object"],
)
def test_a_mistyped_window_is_malformed(windows):
    assert refusal(signed(document(live_windows=windows))).code == "malformed"


def test_adjacent_windows_and_no_windows_are_fine():
    adjacent = [
        window(1, "2028-01-13T13:00:00Z", "2028-01-14T13:00:00Z"),
        window(2, "2028-01-14T13:00:00Z", "2028-01-15T13:00:00+01:00"),
    ]
    assert len(load_snapshot(signed(document(live_windows=adjacent)), public_key=PUBLIC, policy=DOCS).live_windows) == 2
    assert load_snapshot(signed(document(live_windows=[])), public_key=PUBLIC, policy=DOCS).live_windows == ()


# --- the phase ------------------------------------------------------------------------------------------


def test_phase_at_agrees_with_allowlist_phase_across_every_boundary():
    schedule = Schedule(live_windows=SNAPSHOT.live_windows, closes_at=SNAPSHOT.closes_at)
    boundaries = [ROUND_1.starts_at, ROUND_1.ends_at, ROUND_2.starts_at, ROUND_2.ends_at, SNAPSHOT.closes_at]
    instants = [b + timedelta(microseconds=delta) for b in boundaries for delta in (-1, 0, 1)]
    instants += [SNAPSHOT.generated_at, datetime(2030, 1, 1, tzinfo=UTC)]
    for at in instants:
        assert SNAPSHOT.phase_at(at) is phase_at(schedule, at), at
    assert SNAPSHOT.schedule() == schedule
    assert [SNAPSHOT.phase_at(b) for b in boundaries] == [
        Phase.LIVE,
        Phase.TESTING,
        Phase.LIVE,
        Phase.TESTING,
        Phase.CLOSED,
    ]
    assert SNAPSHOT.phase_at(ROUND_1.starts_at - timedelta(microseconds=1)) is Phase.TESTING


def test_phase_at_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="aware"):
        SNAPSHOT.phase_at(datetime(2028, 1, 13, 13))
