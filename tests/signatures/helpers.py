"""Outcome-named assertions for verdicts."""

from __future__ import annotations

from collections.abc import Callable

from portal.signatures import Reason, Verdict

Validate = Callable[..., Verdict]


def accepted(verdict: Verdict) -> Verdict:
    assert verdict.accepted, f"refused: {[r.value for r in verdict.reasons]} {verdict.signatures}"
    assert verdict.reasons == ()
    assert verdict.accepted_signature is not None
    return verdict


def refused(verdict: Verdict, *reasons: Reason) -> Verdict:
    """Refused with exactly ``reasons`` (in any order)."""
    assert not verdict.accepted, verdict
    assert verdict.accepted_signature is None
    assert set(verdict.reasons) == set(reasons), f"{[r.value for r in verdict.reasons]} != {[r.value for r in reasons]}"
    return verdict
