"""The elections of the office's announcements and the calendar, as data (DOMAIN.md)."""

from __future__ import annotations

from datetime import date

from portal.elections.models import ElectionKind, ElectionStatus
from portal.elections.service import (
    ElectionPlan,
    create_election,
    default_application_deadline,
    default_rounds,
    election_by_code,
    senate_districts_for,
)

#: Senate districts up in 2020, as listed in the office's announcement.
SENATE_2020 = [
    3,
    6,
    9,
    12,
    15,
    18,
    21,
    24,
    27,
    30,
    33,
    36,
    39,
    42,
    45,
    48,
    51,
    54,
    57,
    60,
    63,
    66,
    69,
    72,
    75,
    78,
    81,
]

_K = ElectionKind
_A = ElectionStatus.ANNOUNCED

#: code, Czech name, English name, kind, first voting day (Friday), deadline or None for the default,
#: has a media server.
KNOWN: list[tuple[str, str, str, ElectionKind, date, date | None, bool]] = [
    (
        "kz2020",
        "Volby do zastupitelstev krajů 2020",
        "Regional council elections 2020",
        _K.REGIONAL,
        date(2020, 10, 2),
        None,
        True,
    ),
    ("senat2020", "Volby do Senátu 2020", "Senate elections 2020", _K.SENATE, date(2020, 10, 2), None, True),
    (
        "kv2022",
        "Volby do zastupitelstev obcí 2022",
        "Municipal council elections 2022",
        _K.MUNICIPAL,
        date(2022, 9, 23),
        date(2022, 9, 9),
        True,
    ),
    (
        "senat2022",
        "Volby do Senátu 2022",
        "Senate elections 2022",
        _K.SENATE,
        date(2022, 9, 23),
        date(2022, 9, 9),
        True,
    ),
    (
        "prez2023",
        "Volba prezidenta republiky 2023",
        "Presidential election 2023",
        _K.PRESIDENT,
        date(2023, 1, 13),
        date(2022, 12, 23),
        True,
    ),
    (
        "ep2024",
        "Volby do Evropského parlamentu 2024",
        "European Parliament elections 2024",
        _K.EUROPEAN,
        date(2024, 6, 7),
        None,
        False,
    ),
    (
        "kz2024",
        "Volby do zastupitelstev krajů 2024",
        "Regional council elections 2024",
        _K.REGIONAL,
        date(2024, 9, 20),
        None,
        True,
    ),
    ("senat2024", "Volby do Senátu 2024", "Senate elections 2024", _K.SENATE, date(2024, 9, 20), None, True),
    (
        "ps2025",
        "Volby do Poslanecké sněmovny 2025",
        "Chamber of Deputies elections 2025",
        _K.CHAMBER,
        date(2025, 10, 3),
        None,
        True,
    ),
    (
        "kv2026",
        "Volby do zastupitelstev obcí 2026",
        "Municipal council elections 2026",
        _K.MUNICIPAL,
        date(2026, 10, 9),
        None,
        True,
    ),
    ("senat2026", "Volby do Senátu 2026", "Senate elections 2026", _K.SENATE, date(2026, 10, 9), None, True),
]


def known_plans() -> list[ElectionPlan]:
    plans = []
    for code, name_cs, name_en, kind, first_day, deadline, media in KNOWN:
        districts = (
            SENATE_2020
            if code == "senat2020"
            else (senate_districts_for(first_day.year) if kind is ElectionKind.SENATE else [])
        )
        plans.append(
            ElectionPlan(
                code=code,
                name_cs=name_cs,
                name_en=name_en,
                kind=kind,
                status=_A,
                application_deadline=deadline or default_application_deadline(first_day),
                rounds=default_rounds(kind, first_day),
                has_media_server=media,
                # R6: an e-mail request was enough in 2018 and 2022; from 2023 a signed submission.
                signature_required=first_day.year >= 2023,
                senate_districts=districts,
            )
        )
    return plans


def second_friday_of_january(year: int) -> date:
    first = date(year, 1, 1)
    return first.replace(day=1 + (4 - first.weekday()) % 7 + 7)


def next_presidential_plan(today: date) -> ElectionPlan:
    """The next presidential election (January 2028, tentative), or a later January if 2028's deadline
    has passed, so the demo always has an election open for applications."""
    year = 2028
    while default_application_deadline(second_friday_of_january(year)) <= today:
        year += 5
    first_day = second_friday_of_january(year)
    return ElectionPlan(
        code=f"prez{year}",
        name_cs=f"Volba prezidenta republiky {year}",
        name_en=f"Presidential election {year}",
        kind=ElectionKind.PRESIDENT,
        status=ElectionStatus.TENTATIVE,
        application_deadline=default_application_deadline(first_day),
        rounds=default_rounds(ElectionKind.PRESIDENT, first_day),
    )


def seed_elections(today: date) -> list[str]:
    """Create the known elections and the next presidential one; returns the codes created."""
    created = []
    for plan in [*known_plans(), next_presidential_plan(today)]:
        if election_by_code(plan.code) is None:
            create_election(plan)
            created.append(plan.code)
    return created
