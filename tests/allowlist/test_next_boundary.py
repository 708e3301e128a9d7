"""next_boundary: the instant after which the phase may differ, for agents and the staff page."""

from datetime import UTC, datetime, timedelta

import pytest

from allowlist.phase import LiveWindow, Schedule, next_boundary, phase_at

T0 = datetime(2028, 1, 15, 13, 0, tzinfo=UTC)
ONE = timedelta(seconds=1)
SCHEDULE = Schedule(
    live_windows=(
        LiveWindow(1, T0, T0 + timedelta(hours=24)),
        LiveWindow(2, T0 + timedelta(days=14), T0 + timedelta(days=15)),
    ),
    closes_at=T0 + timedelta(days=21),
)
BOUNDARIES = [T0, T0 + timedelta(hours=24), T0 + timedelta(days=14), T0 + timedelta(days=15), T0 + timedelta(days=21)]


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_each_boundary_is_next_just_before_it_and_not_at_it(boundary):
    assert next_boundary(SCHEDULE, boundary - ONE) == boundary
    assert next_boundary(SCHEDULE, boundary) != boundary


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_the_phase_changes_at_each_boundary_and_nowhere_between(boundary):
    assert phase_at(SCHEDULE, boundary - ONE) != phase_at(SCHEDULE, boundary)


def test_the_first_boundary_from_long_before_and_none_after_the_close():
    assert next_boundary(SCHEDULE, T0 - timedelta(days=30)) == T0
    assert next_boundary(SCHEDULE, SCHEDULE.closes_at) is None
    assert next_boundary(SCHEDULE, SCHEDULE.closes_at + timedelta(days=1)) is None


def test_the_registration_deadline_is_a_boundary_when_the_schedule_has_one():
    deadline = T0 - timedelta(days=7)
    schedule = Schedule(SCHEDULE.live_windows, SCHEDULE.closes_at, registration_until=deadline)
    assert next_boundary(schedule, deadline - ONE) == deadline


def test_a_window_running_past_the_close_ends_at_the_close():
    schedule = Schedule((LiveWindow(1, T0, T0 + timedelta(days=2)),), closes_at=T0 + timedelta(days=1))
    assert next_boundary(schedule, T0) == T0 + timedelta(days=1)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware datetime"):
        next_boundary(SCHEDULE, datetime(2028, 1, 15, 12, 0))
