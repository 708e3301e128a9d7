"""The allowlist snapshot: the one document the portal hands to everything that enforces access.

One JSON document per election (schema ``csu-allowlist/1``), signed with the portal's Ed25519 key over
its canonical JSON without the ``signature`` field. ``load_snapshot`` is the only way in from bytes: it
verifies the signature first, then the schema, every field, every window, and re-validates every address
with ``allowlist.addresses``; any refusal refuses the whole document (``SnapshotError`` with a stable
``code``). Importable without Flask.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from allowlist.addresses import DEFAULT_POLICY, AddressPolicy, AddressRefused, parse_host_address
from allowlist.phase import LiveWindow, Phase, Schedule, phase_at

SCHEMA = "csu-allowlist/1"

#: Every code a SnapshotError can carry.
ERROR_CODES: tuple[str, ...] = ("malformed", "schema", "signature", "bad_entry", "duplicate_entry", "window")

#: An election code as the portal issues it (``prez2028``, ``kv2022``), with some room to grow; never
#: anything that could mean something in a shell, an nft script or a file name.
ELECTION_CODE = re.compile(r"[a-z][a-z0-9_-]{0,63}")

Kind = Literal["production", "test"]
KINDS: tuple[str, ...] = ("production", "test")

_TOP_FIELDS = frozenset(
    {"schema", "election", "version", "generated_at", "live_windows", "closes_at", "entries", "signature"}
)
_WINDOW_FIELDS = frozenset({"round", "from", "until"})
_ENTRY_FIELDS = frozenset({"address", "kind", "organisation", "organisation_id"})
#: An organisation name longer than this is not a name (the portal's column is far shorter).
MAX_ORGANISATION_LENGTH = 500


class SnapshotError(ValueError):
    """A refused snapshot: ``code`` (one of ERROR_CODES) and a human ``detail``; never match on the message.

    For ``bad_entry`` also ``address`` (the text as given) and ``address_code`` (the validator's code);
    for ``duplicate_entry`` ``address``.
    """

    def __init__(self, code: str, detail: str, *, address: str | None = None, address_code: str | None = None):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.address = address
        self.address_code = address_code

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass(frozen=True)
class Entry:
    address: str  #: canonical spelling when it came through load_snapshot
    kind: Kind
    organisation: str
    organisation_id: int


@dataclass(frozen=True)
class Snapshot:
    election: str
    version: int
    generated_at: datetime
    live_windows: tuple[LiveWindow, ...]
    #: From this instant nobody is allowed.
    closes_at: datetime
    entries: tuple[Entry, ...]

    def schedule(self) -> Schedule:
        return Schedule(live_windows=self.live_windows, closes_at=self.closes_at)

    def phase_at(self, at: datetime) -> Phase:
        """The phase at ``at`` (``allowlist.phase.phase_at``); a snapshot has no registration deadline."""
        return phase_at(self.schedule(), at)


# --- writing ------------------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """An aware instant as the snapshot writes it: UTC, ``Z``, microseconds only when there are some."""
    if value.tzinfo is None:
        raise ValueError("snapshot times must be aware datetimes")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def snapshot_document(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON document of ``snapshot`` (schema v1), without ``signature``."""
    return {
        "schema": SCHEMA,
        "election": snapshot.election,
        "version": snapshot.version,
        "generated_at": format_time(snapshot.generated_at),
        "live_windows": [
            {"round": w.round, "from": format_time(w.starts_at), "until": format_time(w.ends_at)}
            for w in snapshot.live_windows
        ],
        "closes_at": format_time(snapshot.closes_at),
        "entries": [
            {
                "address": e.address,
                "kind": e.kind,
                "organisation": e.organisation,
                "organisation_id": e.organisation_id,
            }
            for e in snapshot.entries
        ],
    }


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """What the signature covers: the document without ``signature`` as sorted, compact UTF-8 JSON."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def sign_document(document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """``document`` with ``signature``: base64 Ed25519 over its canonical bytes (an old signature replaced)."""
    signature = private_key.sign(canonical_bytes(document))
    signed = {key: value for key, value in document.items() if key != "signature"}
    signed["signature"] = base64.b64encode(signature).decode("ascii")
    return signed


# --- reading ------------------------------------------------------------------------------------------


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """The portal's public key from PEM; ValueError says what it is instead ("not a PEM public key")."""
    try:
        key = load_pem_public_key(data)
    except ValueError as error:
        raise ValueError("not a PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_snapshot(
    data: bytes | str, *, public_key: Ed25519PublicKey | None, policy: AddressPolicy = DEFAULT_POLICY
) -> Snapshot:
    """The snapshot ``data`` holds, or SnapshotError. ``public_key=None`` skips verification (--no-verify).

    Order: JSON → signature → schema → fields → windows → entries, so an unauthenticated document is
    refused before any of its content is looked at.
    """
    document = _parse_json(data)
    if public_key is not None:
        _verify(document, public_key)
    if document.get("schema") != SCHEMA:
        raise SnapshotError("schema", f"schema {document.get('schema')!r} is not {SCHEMA!r}")
    _expect_fields(document, _TOP_FIELDS - {"signature"}, _TOP_FIELDS, "the snapshot")

    election = document["election"]
    if not isinstance(election, str) or not ELECTION_CODE.fullmatch(election):
        raise SnapshotError("malformed", f"election {election!r} is not an election code")
    version = _positive_int(document["version"], "version")
    generated_at = _instant(document["generated_at"], "generated_at", code="malformed")
    closes_at = _instant(document["closes_at"], "closes_at", code="malformed")
    windows = _windows(document["live_windows"])
    entries = _entries(document["entries"], policy)
    return Snapshot(
        election=election,
        version=version,
        generated_at=generated_at,
        live_windows=windows,
        closes_at=closes_at,
        entries=entries,
    )


def _parse_json(data: bytes | str) -> dict[str, Any]:
    def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise SnapshotError("malformed", f"the key {key!r} appears twice in one object")
            result[key] = value
        return result

    def no_constant(name: str) -> Any:
        raise SnapshotError("malformed", f"{name} is not a JSON number")

    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        document = json.loads(text, object_pairs_hook=no_duplicate_keys, parse_constant=no_constant)
    except UnicodeDecodeError as error:
        raise SnapshotError("malformed", f"not UTF-8: {error}") from error
    except (json.JSONDecodeError, RecursionError) as error:
        raise SnapshotError("malformed", f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise SnapshotError("malformed", "the snapshot is not a JSON object")
    return document


def _verify(document: Mapping[str, Any], public_key: Ed25519PublicKey) -> None:
    encoded = document.get("signature")
    if not isinstance(encoded, str) or not encoded:
        raise SnapshotError("signature", "the snapshot carries no signature")
    try:
        signature = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as error:
        raise SnapshotError("signature", "the signature is not base64") from error
    try:
        public_key.verify(signature, canonical_bytes(document))
    except (InvalidSignature, ValueError) as error:  # ValueError: not canonical-encodable (NaN never parses)
        raise SnapshotError("signature", "the signature does not verify with the configured key") from error


def _expect_fields(obj: object, required: frozenset[str], allowed: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise SnapshotError("malformed", f"{where} is not a JSON object")
    missing = sorted(required - obj.keys())
    if missing:
        raise SnapshotError("malformed", f"{where} lacks {', '.join(missing)}")
    unknown = sorted(obj.keys() - allowed)
    if unknown:
        raise SnapshotError("malformed", f"{where} has unknown fields {', '.join(map(repr, unknown))}")
    return obj


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SnapshotError("malformed", f"{name} {value!r} is not a positive integer")
    return value


def _instant(value: object, name: str, *, code: str) -> datetime:
    if not isinstance(value, str):
        raise SnapshotError("malformed", f"{name} {value!r} is not an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise SnapshotError("malformed", f"{name} {value!r} is not an ISO 8601 instant") from error
    if parsed.tzinfo is None:
        raise SnapshotError(code, f"{name} {value!r} has no time zone")
    return parsed.astimezone(UTC)


def _windows(value: object) -> tuple[LiveWindow, ...]:
    if not isinstance(value, list):
        raise SnapshotError("malformed", "live_windows is not a list")
    windows: list[LiveWindow] = []
    for index, item in enumerate(value):
        where = f"live window {index}"
        fields = _expect_fields(item, _WINDOW_FIELDS, _WINDOW_FIELDS, where)
        number = _positive_int(fields["round"], f"{where}: round")
        starts_at = _instant(fields["from"], f"{where}: from", code="window")
        ends_at = _instant(fields["until"], f"{where}: until", code="window")
        if ends_at <= starts_at:
            raise SnapshotError("window", f"{where} (round {number}) ends before it starts")
        if windows:
            previous = windows[-1]
            if number <= previous.round:
                raise SnapshotError("window", f"{where}: round {number} follows round {previous.round}")
            if starts_at < previous.ends_at:
                raise SnapshotError("window", f"{where} (round {number}) overlaps or precedes round {previous.round}")
        windows.append(LiveWindow(number, starts_at, ends_at))
    return tuple(windows)


def _entries(value: object, policy: AddressPolicy) -> tuple[Entry, ...]:
    if not isinstance(value, list):
        raise SnapshotError("malformed", "entries is not a list")
    entries: list[Entry] = []
    seen: dict[tuple[int, int], int] = {}
    for index, item in enumerate(value):
        where = f"entry {index}"
        fields = _expect_fields(item, _ENTRY_FIELDS, _ENTRY_FIELDS, where)
        text, kind, organisation = fields["address"], fields["kind"], fields["organisation"]
        if not isinstance(text, str):
            raise SnapshotError("malformed", f"{where}: address {text!r} is not a string")
        if kind not in KINDS:
            raise SnapshotError("malformed", f"{where}: kind {kind!r} is neither production nor test")
        if not isinstance(organisation, str) or len(organisation) > MAX_ORGANISATION_LENGTH:
            raise SnapshotError("malformed", f"{where}: organisation is not a string of sensible length")
        organisation_id = _positive_int(fields["organisation_id"], f"{where}: organisation_id")
        try:
            address = parse_host_address(text, policy)
        except AddressRefused as refusal:
            raise SnapshotError(
                "bad_entry",
                f"{where}: address {text!r} refused ({refusal.code})",
                address=text,
                address_code=refusal.code,
            ) from refusal
        key = (address.version, int(address))
        if key in seen:
            raise SnapshotError("duplicate_entry", f"{where}: address {text!r} repeats entry {seen[key]}", address=text)
        seen[key] = index
        entries.append(Entry(str(address), kind, organisation, organisation_id))
    return tuple(entries)
