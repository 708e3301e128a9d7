"""Prague wall-clock time <-> UTC instants, across the daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import tz

PRAGUE = ZoneInfo("Europe/Prague")


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by the spring change (for example 02:30 on the last Sunday of March)."""


def prague_to_utc(local: datetime) -> datetime:
    """A naive Prague wall-clock time as a UTC instant.

    In the autumn hour that happens twice, the first (summer-time) occurrence is taken;
    a time skipped in spring is refused rather than silently moved.
    """
    if local.tzinfo is not None:
        raise ValueError("expected a naive wall-clock time")
    aware = local.replace(tzinfo=PRAGUE, fold=0)
    if not tz.datetime_exists(aware):
        raise NonexistentLocalTime(local.isoformat(sep=" ", timespec="minutes"))
    return aware.astimezone(UTC)


def at_prague(day: date, clock: time) -> datetime:
    return prague_to_utc(datetime.combine(day, clock))


def end_of_prague_day(day: date) -> datetime:
    """The exclusive end of ``day`` in Prague: the instant the next Prague day begins, in UTC.

    A deadline "by Friday 23 December 2022" is open while ``at < end_of_prague_day(date(2022, 12, 23))``.
    """
    return at_prague(day + timedelta(days=1), time(0, 0))


def to_prague(instant: datetime) -> datetime:
    return instant.astimezone(PRAGUE)


def prague_day_of_deadline(deadline_end: datetime) -> date:
    """The calendar day whose end is ``deadline_end`` (the inverse of :func:`end_of_prague_day`)."""
    return (to_prague(deadline_end) - timedelta(microseconds=1)).date()
