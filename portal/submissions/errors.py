"""The refusals every submission shares: a feature's error of the same name derives from both its
feature's base and the shape here, so each feature keeps its own words and API status for it.

The code is keyword-only, so a feature may add fields of its own after these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from portal.problems import PortalError
from portal.signatures.verdict import Verdict

#: A field's name -> (code, detail): the detail is the data a message needs (a limit, an address).
FieldErrors = dict[str, tuple[str, dict[str, object]]]


@dataclass
class DeadlinePassed(PortalError):
    #: The exclusive end of the deadline (the instant the next Prague day begins).
    closes_at: datetime
    code: str = field(default="deadline_passed", kw_only=True)


@dataclass
class IllegalTransition(PortalError):
    action: str
    state: str
    code: str = field(default="illegal_transition", kw_only=True)


@dataclass
class ContentInvalid(PortalError):
    """Every problem of the content, by field; nothing was saved."""

    errors: FieldErrors = field(default_factory=dict)
    code: str = field(default="content_invalid", kw_only=True)


@dataclass
class SignatureRequired(PortalError):
    """The election accepts only a signed submission."""

    code: str = field(default="signature_required", kw_only=True)


@dataclass
class SignatureRefused(PortalError):
    """The upload's signature does not meet R6; the verdict says why."""

    verdict: Verdict
    code: str = field(default="signature_refused", kw_only=True)
