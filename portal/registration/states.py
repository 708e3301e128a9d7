"""An application version's life: the one table of transitions, its guard, and the audit event of each step.

Both sides use it: the outlet's actions (:mod:`portal.registration.service`) and the office's
decisions (:mod:`portal.access.service`). A transition is made only under the application's lock
(:mod:`portal.registration.locks`), after which the state judged here is the one stored.
"""

from __future__ import annotations

from datetime import datetime

from portal.accounts.models import User
from portal.audit.service import record
from portal.registration.errors import IllegalTransition, StaleVersion
from portal.registration.models import ApplicationVersion, VersionState

S = VersionState
#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[VersionState], VersionState]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": (frozenset({S.SUBMITTED}), S.REJECTED),
    "withdraw": (frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED}), S.WITHDRAWN),
    "revoke": (frozenset({S.APPROVED}), S.REJECTED),
    "supersede": (frozenset({S.APPROVED}), S.SUPERSEDED),
}


def transition(
    version: ApplicationVersion, action: str, *, actor: User | None, at: datetime, reason: str | None = None
) -> None:
    """Move ``version`` by ``action`` and write its audit event, or raise :class:`IllegalTransition`."""
    target = guard(version, action)
    before = version.state
    version.state = target
    record(
        f"application.{action}",
        version.application,
        actor=actor,
        at=at,
        before={"version": version.number, "state": before.value},
        after={"version": version.number, "state": target.value},
        reason=reason,
    )


def guard(version: ApplicationVersion, action: str) -> VersionState:
    """The state ``action`` leads ``version`` to, or :class:`IllegalTransition` from its current state."""
    allowed_from, target = TRANSITIONS[action]
    if version.state not in allowed_from:
        raise IllegalTransition(action=action, state=version.state.value)
    return target


def ensure_latest(version: ApplicationVersion, action: str) -> None:
    """A decision concerns the application's latest version; an older one was replaced meanwhile."""
    latest = version.application.latest
    if version is not latest:
        raise StaleVersion(action=action, expected=version.number, current=latest.number)
