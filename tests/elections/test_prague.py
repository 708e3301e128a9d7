"""Prague days and wall-clock times as UTC instants, on both sides of the daylight-saving changes."""

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.elections.prague import (
    NonexistentLocalTime,
    end_of_prague_day,
    prague_day_of_deadline,
    prague_to_utc,
    to_prague,
)

SECOND = timedelta(seconds=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (date(2022, 12, 23), utc(2022, 12, 23, 23)),  # winter time: UTC+1 (prez2023 deadline)
        (date(2022, 9, 9), utc(2022, 9, 9, 22)),  # summer time: UTC+2 (kv2022 deadline)
        (date(2026, 3, 28), utc(2026, 3, 28, 23)),  # Saturday before the spring change: still UTC+1
        (date(2026, 3, 29), utc(2026, 3, 29, 22)),  # the spring-change day has 23 hours
        (date(2026, 10, 24), utc(2026, 10, 24, 22)),  # Saturday before the autumn change: still UTC+2
        (date(2026, 10, 25), utc(2026, 10, 25, 23)),  # the autumn-change day has 25 hours
    ],
)
def test_end_of_prague_day(day, end):
    assert end_of_prague_day(day) == end
    assert prague_day_of_deadline(end) == day


@pytest.mark.parametrize(
    "deadline_day",
    [
        date(2026, 3, 27),
        date(2026, 3, 29),
        date(2026, 3, 30),
        date(2026, 10, 23),
        date(2026, 10, 25),
        date(2026, 10, 26),
    ],
)
def test_deadline_one_second_before_and_after_the_end_of_day_around_dst(deadline_day):
    end = end_of_prague_day(deadline_day)
    # The last second of the deadline day is 23:59:59 in Prague, whatever the offset.
    local_last = to_prague(end - SECOND)
    assert (local_last.date(), local_last.hour, local_last.minute, local_last.second) == (deadline_day, 23, 59, 59)
    local_first_after = to_prague(end + SECOND)
    assert local_first_after.date() == deadline_day + timedelta(days=1)
    assert (local_first_after.hour, local_first_after.minute, local_first_after.second) == (0, 0, 1)


def test_length_of_the_days_with_a_change():
    assert end_of_prague_day(date(2026, 3, 29)) - end_of_prague_day(date(2026, 3, 28)) == timedelta(hours=23)
    assert end_of_prague_day(date(2026, 10, 25)) - end_of_prague_day(date(2026, 10, 24)) == timedelta(hours=25)


def test_wall_clock_time_skipped_in_spring_is_refused():
    with pytest.raises(NonexistentLocalTime):
        prague_to_utc(datetime(2026, 3, 29, 2, 30))


def test_wall_clock_time_repeated_in_autumn_takes_the_first_occurrence():
    assert prague_to_utc(datetime(2026, 10, 25, 2, 30)) == utc(2026, 10, 25, 0, 30)


def test_aware_input_is_refused():
    with pytest.raises(ValueError, match="naive"):
        prague_to_utc(utc(2026, 1, 1))
