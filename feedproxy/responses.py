"""The proxy's own answers: refusals (Czech, then English, one line each) and ``/whoami``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from allowlist.phase import Phase
from feedproxy.access import AccessTable, Client, admits

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


def refusal(address: str, client: Client | None, table: AccessTable) -> str:
    """Why ``address`` may not fetch documents now."""
    if client is None:
        return f"Adresa {address} není na seznamu povolených adres.\nAddress {address} is not on the allowlist.\n"
    if table.phase is Phase.CLOSED:
        return (
            f"Přístup k výsledkům voleb {table.election} byl ukončen.\n"
            f"Access to the results of {table.election} has ended.\n"
        )
    return (
        f"Adresa {address} je testovací; během zpracování výsledků je odpojena.\n"
        f"Address {address} is a test address; test addresses are cut off while results are being processed.\n"
    )


def too_many(address: str, seconds: str) -> str:
    return (
        f"Příliš mnoho požadavků z adresy {address}; zkuste to znovu za {seconds} s.\n"
        f"Too many requests from {address}; retry in {seconds} s.\n"
    )


def not_a_document(path: str) -> str:
    return f"Cesta {path} není dokument s výsledky.\nThe path {path} is not a results document.\n"


def unavailable(key: str, status: int) -> str:
    if status == 404:
        return f"Dokument {key} zdroj výsledků nemá.\nThe results upstream has no document {key}.\n"
    if status == 503:
        return f"Dokument {key} teď nelze získat.\nThe document {key} cannot be fetched now.\n"
    return (
        f"Zdroj výsledků neposlal platný dokument {key}.\nThe results upstream did not send a valid document {key}.\n"
    )


def ops_only(address: str) -> str:
    return f"Adresa {address} nemá přístup k provozním údajům.\nAddress {address} may not read operational data.\n"


def ops_token() -> str:
    return "Provozní údaje vyžadují platný token.\nOperational data need a valid bearer token.\n"


def _iso(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")


def whoami(address: str, peer: str, client: Client | None, table: AccessTable, now: float) -> dict[str, Any]:
    """What the connectivity self-test shows an outlet: as whom it is seen, and whether it may fetch."""
    change = table.next_change(now)
    next_phase = None
    if change is not None:
        phase, starts = change
        next_phase = {
            "phase": phase.value,
            "starts_at": _iso(starts),
            "allowed": client is not None and admits(client.kind, phase),
        }
    allowed = client is not None and client.allowed
    return {
        "address": address,
        "via_proxy": peer if peer != address else None,
        "on_allowlist": client is not None,
        "organisation": client.organisation if client else None,
        "organisation_id": client.organisation_id if client else None,
        "kind": client.kind if client else None,
        "election": table.election,
        "snapshot_version": table.version,
        "phase": table.phase.value,
        "allowed_now": allowed,
        "reason": None if allowed else refusal(address, client, table),
        "next_phase": next_phase,
        "checked_at": _iso(now),
    }


def whoami_json(info: dict[str, Any]) -> str:
    return json.dumps(info, ensure_ascii=False, indent=2) + "\n"


def whoami_text(info: dict[str, Any]) -> str:
    yes_no = {True: "ano / yes", False: "ne / no"}
    lines = [f"Adresa / Address: {info['address']}"]
    if info["via_proxy"]:
        lines.append(f"Přes proxy / Via proxy: {info['via_proxy']}")
    if info["on_allowlist"]:
        lines.append(f"Organizace / Organisation: {info['organisation']} (id {info['organisation_id']})")
        lines.append(f"Druh adresy / Address kind: {info['kind']}")
    else:
        lines.append("Na seznamu povolených adres / On the allowlist: ne / no")
    lines.append(f"Volby / Election: {info['election']} (snapshot v{info['snapshot_version']})")
    lines.append(f"Fáze / Phase: {info['phase']}")
    lines.append(f"Přístup nyní / Allowed now: {yes_no[info['allowed_now']]}")
    if info["next_phase"]:
        following = info["next_phase"]
        lines.append(
            f"Další fáze / Next phase: {following['phase']} od / from {following['starts_at']}: "
            f"{yes_no[following['allowed']]}"
        )
    if info["reason"]:
        lines.extend(info["reason"].rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"
