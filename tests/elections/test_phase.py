"""phase(election, at) one second before and after every boundary of every seeded election."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from allowlist.phase import LiveWindow, Phase, Schedule, phase_at
from portal.elections.models import Election
from portal.elections.seed import seed_elections
from portal.elections.service import phase
from portal.extensions import db

SECOND = timedelta(seconds=1)
TODAY = date(2026, 11, 23)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def seeded(app):
    seed_elections(TODAY)
    db.session.flush()
    return {e.code: e for e in db.session.scalars(select(Election))}


def expected_transitions(election: Election) -> list[tuple[datetime, Phase, Phase]]:
    """(boundary, phase just before, phase just after), read off the calendar."""
    rounds = election.rounds
    transitions = [(election.applications_close_at, Phase.REGISTRATION, Phase.TESTING)]
    for index, round_ in enumerate(rounds):
        transitions.append((round_.processing_starts_at, Phase.TESTING, Phase.LIVE))
        after = Phase.CLOSED if index == len(rounds) - 1 else Phase.TESTING
        transitions.append((round_.live_ends_at, Phase.LIVE, after))
    return transitions


def test_all_elections_of_the_domain_are_seeded(seeded):
    assert set(seeded) == {
        "kz2020",
        "senat2020",
        "kv2022",
        "senat2022",
        "prez2023",
        "ep2024",
        "kz2024",
        "senat2024",
        "ps2025",
        "kv2026",
        "senat2026",
        "prez2028",
    }


def test_phase_one_second_around_every_boundary_of_every_seeded_election(seeded):
    checked = 0
    for code, election in seeded.items():
        if not election.has_media_server:
            continue
        for boundary, before, after in expected_transitions(election):
            assert phase(election, boundary - SECOND) is before, (code, boundary, "before")
            assert phase(election, boundary + SECOND) is after, (code, boundary, "after")
            assert phase(election, boundary) is after, (code, boundary, "at")
            checked += 1
    assert checked == 11 * 3 + 6 * 2  # 11 elections with a server; 6 of them (Senate, President) have a run-off


def test_election_without_media_server_is_always_closed(seeded):
    ep = seeded["ep2024"]
    for instant in [ep.applications_close_at - SECOND, ep.rounds[0].processing_starts_at + SECOND, utc(2024, 1, 1)]:
        assert phase(ep, instant) is Phase.CLOSED


def test_prez2023_boundaries_in_utc(seeded):
    """The announcement's dates: deadline Fri 23 Dec 2022, processing Sat 14 Jan and 28 Jan 2023, 14:00 CET."""
    prez = seeded["prez2023"]
    assert prez.applications_close_at == utc(2022, 12, 23, 23)
    assert [r.processing_starts_at for r in prez.rounds] == [utc(2023, 1, 14, 13), utc(2023, 1, 28, 13)]
    assert phase(prez, utc(2022, 12, 23, 22, 59, 59)) is Phase.REGISTRATION
    assert phase(prez, utc(2022, 12, 23, 23, 0, 1)) is Phase.TESTING
    assert phase(prez, utc(2023, 1, 14, 12, 59, 59)) is Phase.TESTING
    assert phase(prez, utc(2023, 1, 14, 13, 0, 1)) is Phase.LIVE
    assert phase(prez, utc(2023, 1, 20)) is Phase.TESTING
    assert phase(prez, utc(2023, 1, 28, 13, 0, 1)) is Phase.LIVE
    assert phase(prez, utc(2023, 2, 1)) is Phase.CLOSED


def test_kv2022_boundaries_in_summer_time(seeded):
    kv = seeded["kv2022"]
    assert kv.applications_close_at == utc(2022, 9, 9, 22)  # end of Fri 9 Sep 2022, CEST
    assert kv.rounds[0].processing_starts_at == utc(2022, 9, 24, 12)  # Sat 24 Sep 2022 14:00 CEST
    senate = seeded["senat2022"]
    assert [r.processing_starts_at for r in senate.rounds] == [utc(2022, 9, 24, 12), utc(2022, 10, 1, 12)]


def test_live_window_across_the_autumn_change_lasts_24_real_hours():
    # A window from Saturday 14:00 CEST to the instant 24 hours later, across the night the clocks go back.
    start = utc(2026, 10, 24, 12)
    schedule = Schedule([LiveWindow(1, start, start + timedelta(hours=24))], closes_at=utc(2026, 11, 1))
    assert phase_at(schedule, utc(2026, 10, 25, 11, 59, 59)) is Phase.LIVE
    assert phase_at(schedule, utc(2026, 10, 25, 12, 0, 1)) is Phase.TESTING


def test_phase_needs_an_aware_instant():
    schedule = Schedule([], closes_at=utc(2030, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        phase_at(schedule, datetime(2026, 1, 1))
