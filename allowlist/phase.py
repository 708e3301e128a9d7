"""Which access phase an election is in at an instant: a pure function of its schedule.

The portal, the firewall and the feed proxy all ask this module, so they can never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class Phase(enum.StrEnum):
    REGISTRATION = "registration"  #: applications accepted; approved outlets may already test
    TESTING = "testing"  #: production and test addresses reach the XML server
    LIVE = "live"  #: result processing: production addresses only
    CLOSED = "closed"  #: nobody


@dataclass(frozen=True)
class LiveWindow:
    """One round's result processing: test addresses are cut within ``[starts_at, ends_at)``."""

    round: int
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("live windows need aware datetimes")
        if self.ends_at <= self.starts_at:
            raise ValueError(f"live window of round {self.round} ends before it starts")


@dataclass(frozen=True)
class Schedule:
    """What the phase depends on: all instants aware, windows in time order."""

    live_windows: Sequence[LiveWindow]
    closes_at: datetime
    #: End of the application deadline (exclusive); None where nothing is registered.
    registration_until: datetime | None = None


def phase_at(schedule: Schedule, at: datetime) -> Phase:
    """The phase at instant ``at``; each boundary belongs to the phase that starts there."""
    if at.tzinfo is None:
        raise ValueError("phase_at needs an aware datetime")
    if at >= schedule.closes_at:
        return Phase.CLOSED
    for window in schedule.live_windows:
        if window.starts_at <= at < window.ends_at:
            return Phase.LIVE
    if schedule.registration_until is not None and at < schedule.registration_until:
        return Phase.REGISTRATION
    return Phase.TESTING


def admits_test_addresses(phase: Phase) -> bool:
    return phase in (Phase.REGISTRATION, Phase.TESTING)


def admits_production_addresses(phase: Phase) -> bool:
    return phase is not Phase.CLOSED


def boundaries(schedule: Schedule) -> tuple[datetime, ...]:
    """Every instant at which the phase may change, in time order; the close is the last."""
    instants = {schedule.closes_at}
    for window in schedule.live_windows:
        instants.update((window.starts_at, window.ends_at))
    if schedule.registration_until is not None:
        instants.add(schedule.registration_until)
    return tuple(sorted(instant for instant in instants if instant <= schedule.closes_at))


def next_boundary(schedule: Schedule, at: datetime) -> datetime | None:
    """The first boundary after ``at`` (one exactly at ``at`` has begun already); None once closed."""
    if at.tzinfo is None:
        raise ValueError("next_boundary needs an aware datetime")
    return next((instant for instant in boundaries(schedule) if instant > at), None)
