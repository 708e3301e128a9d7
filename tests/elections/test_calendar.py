"""Default calendars derived with python-dateutil, and the checks on an edited calendar."""

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.elections.models import ElectionKind, ElectionStatus
from portal.elections.seed import next_presidential_election
from portal.elections.service import (
    ElectionError,
    ElectionPlan,
    create_election,
    default_application_deadline,
    default_rounds,
    plan_round,
    senate_districts_for,
)


@pytest.mark.parametrize(
    ("first_voting_day", "deadline"),
    [
        (date(2022, 9, 23), date(2022, 9, 9)),  # kv2022: matches the office's deadline
        (date(2024, 9, 20), date(2024, 9, 6)),  # kz2024: matches the 2024 permit deadline
        (date(2028, 1, 14), date(2027, 12, 31)),
        (date(2025, 10, 4), date(2025, 9, 19)),  # a Saturday start still lands on a Friday
    ],
)
def test_default_deadline_is_the_friday_at_least_14_days_before(first_voting_day, deadline):
    result = default_application_deadline(first_voting_day)
    assert result == deadline
    assert result.weekday() == 4
    assert first_voting_day - result >= timedelta(days=14)


def test_president_gets_a_runoff_two_weeks_later_and_senate_one_week():
    president = default_rounds(ElectionKind.PRESIDENT, date(2023, 1, 13))
    senate = default_rounds(ElectionKind.SENATE, date(2022, 9, 23))
    chamber = default_rounds(ElectionKind.CHAMBER, date(2025, 10, 3))
    assert [r.processing_starts_at for r in president] == [
        datetime(2023, 1, 14, 13, tzinfo=UTC),
        datetime(2023, 1, 28, 13, tzinfo=UTC),
    ]
    assert senate[1].processing_starts_at - senate[0].processing_starts_at == timedelta(days=7)
    assert len(chamber) == 1


def test_round_polls_open_friday_14_and_processing_starts_saturday_14_prague():
    round_ = plan_round(1, date(2026, 10, 9))
    assert round_.voting_starts_at == datetime(2026, 10, 9, 12, tzinfo=UTC)
    assert round_.processing_starts_at == datetime(2026, 10, 10, 12, tzinfo=UTC)
    assert round_.live_ends_at - round_.processing_starts_at == timedelta(hours=24)


@pytest.mark.parametrize(
    ("year", "remainder"), [(2018, 2), (2020, 0), (2022, 1), (2024, 2), (2026, 0), (2028, 1), (2030, 2)]
)
def test_senate_districts_by_number_modulo_three(year, remainder):
    districts = senate_districts_for(year)
    assert len(districts) == 27
    assert {d % 3 for d in districts} == {remainder}


def test_demo_presidential_election_is_open_relative_to_today():
    assert next_presidential_election(date(2026, 11, 23)).code == "prez2028"
    later = next_presidential_election(date(2028, 6, 1)).plan()
    assert later.code == "prez2033"
    assert later.application_deadline > date(2028, 6, 1)
    assert next_presidential_election(date(2026, 11, 23)).status is ElectionStatus.TENTATIVE


def _plan(**changes):
    values = dict(
        code="test2030",
        name_cs="Test",
        name_en="Test",
        kind=ElectionKind.CHAMBER,
        status=ElectionStatus.ANNOUNCED,
        application_deadline=date(2030, 9, 20),
        rounds=default_rounds(ElectionKind.CHAMBER, date(2030, 10, 4)),
    )
    values.update(changes)
    return ElectionPlan(**values)


def test_deadline_after_processing_start_is_refused(app):
    with pytest.raises(ElectionError) as refused:
        create_election(_plan(application_deadline=date(2030, 10, 6)))
    assert (refused.value.code, refused.value.field) == ("deadline_after_processing", "application_deadline")


def test_election_without_rounds_is_refused(app):
    with pytest.raises(ElectionError) as refused:
        create_election(_plan(rounds=[]))
    assert (refused.value.code, refused.value.field) == ("no_rounds", "rounds")


def test_overlapping_rounds_are_refused(app):
    first = plan_round(1, date(2030, 10, 4), live_duration=timedelta(days=10))
    second = plan_round(2, date(2030, 10, 11))
    with pytest.raises(ElectionError) as refused:
        create_election(_plan(rounds=[first, second]))
    assert refused.value.code == "rounds_overlap"


def test_duplicate_code_is_refused(app):
    create_election(_plan())
    with pytest.raises(ElectionError) as refused:
        create_election(_plan())
    assert (refused.value.code, refused.value.field) == ("code_taken", "code")
