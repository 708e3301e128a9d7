"""An application's content, validated the same way for the form and the API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from allowlist.addresses import AddressPolicy, AddressRefused, parse_host_address
from portal.registration.errors import ContentInvalid
from portal.registration.models import (
    MAX_PRODUCTION_ADDRESSES,
    MAX_TEST_ADDRESSES,
    AddressKind,
    ApplicationVersion,
)
from portal.registration.terms import TERMS_VERSION as TERMS_VERSION  # re-exported: defined next to the text
from portal.submissions.contacts import email_field, phone_field

MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class ApplicationContent:
    contact_email: str
    contact_phone: str
    production: Sequence[str]
    test: Sequence[str]
    accept_terms: bool
    note: str = ""


@dataclass(frozen=True)
class CleanContent:
    contact_email: str
    contact_phone: str  #: E.164
    production: list[str]  #: canonical
    test: list[str]
    terms_accepted: bool
    note: str


def clean_content(content: ApplicationContent, policy: AddressPolicy, *, require_complete: bool) -> CleanContent:
    """Normalise and check everything; all problems at once, by field. A draft may be incomplete."""
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    entries: dict[str, list[tuple[int, str, dict[str, object]]]] = {}
    email = email_field("contact_email", content.contact_email, require_complete, errors)
    phone = phone_field("contact_phone", content.contact_phone, require_complete, errors)

    production = _addresses("production", content.production, MAX_PRODUCTION_ADDRESSES, policy, errors, entries)
    test = _addresses("test", content.test, MAX_TEST_ADDRESSES, policy, errors, entries)
    if require_complete and not production and "production" not in errors:
        errors["production"] = ("required", {})
    both = set(production) & set(test)
    if both:
        errors["test"] = ("production_and_test", {"address": sorted(both)[0]})
    if require_complete and not content.accept_terms:
        errors["accept_terms"] = ("required", {})
    if len(content.note) > MAX_NOTE_LENGTH:
        errors["note"] = ("too_long", {"max": MAX_NOTE_LENGTH})
    if errors:
        raise ContentInvalid(errors, entries)
    return CleanContent(email, phone, production, test, content.accept_terms, content.note.strip())


def _addresses(
    field: str,
    raw: Sequence[str],
    limit: int,
    policy: AddressPolicy,
    errors: dict[str, tuple[str, dict[str, object]]],
    entries: dict[str, list[tuple[int, str, dict[str, object]]]],
) -> list[str]:
    """The canonical addresses of the filled rows; every refused row is reported, by its position.

    ``errors[field]`` keeps the first refusal (what the API reports); ``entries[field]`` has all of
    them as (row as typed, code, detail), so a form can name "Production address 3" and the rest.
    """
    filled = [(position, entry.strip()) for position, entry in enumerate(raw) if entry.strip()]
    if len(filled) > limit:
        errors[field] = ("too_many", {"max": limit})
        return []
    addresses: list[str] = []
    refused: list[tuple[int, str, dict[str, object]]] = []
    seen: set[str] = set()
    for index, (position, text) in enumerate(filled):
        try:
            canonical = str(parse_host_address(text, policy))
        except AddressRefused as refusal:
            refused.append((position, f"address_{refusal.code}", {"address": text, "index": index}))
            continue
        if canonical in seen:
            refused.append((position, "address_duplicate", {"address": text, "index": index}))
            continue
        seen.add(canonical)
        addresses.append(canonical)
    if refused:
        _position, code, detail = refused[0]
        errors[field] = (code, detail)
        entries[field] = refused
        return []
    return addresses


def content_digest(version: ApplicationVersion) -> str:
    """SHA-256 of the canonical JSON of what the outlet submits: quoted in the receipt."""
    application = version.application
    document = {
        "application": application.reference,
        "version": version.number,
        "election": application.election.code,
        "organisation": {"name": application.organisation.name, "ico": application.organisation.ico},
        "contact_email": version.contact_email,
        "contact_phone": version.contact_phone,
        "production": version.addresses_of(AddressKind.PRODUCTION),
        "test": version.addresses_of(AddressKind.TEST),
        "terms_version": version.terms_version,
        "note": version.note,
    }
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
