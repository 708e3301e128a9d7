"""The elections of the office's announcements and the calendar, as data (DOMAIN.md)."""

from __future__ import annotations

from dataclasses import dataclass
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

#: Senate districts up in 2020, as listed in the office's announcement (all with number mod 3 = 0).
SENATE_2020 = tuple(range(3, 82, 3))


@dataclass(frozen=True)
class KnownElection:
    code: str
    name_cs: str
    name_en: str
    kind: ElectionKind
    #: The Friday the polls open.
    first_voting_day: date
    #: As the office announced it; None where the sources do not say (the default rule applies).
    deadline: date | None = None
    has_media_server: bool = True
    status: ElectionStatus = ElectionStatus.ANNOUNCED

    def plan(self) -> ElectionPlan:
        year = self.first_voting_day.year
        districts = SENATE_2020 if self.code == "senat2020" else senate_districts_for(year)
        return ElectionPlan(
            code=self.code,
            name_cs=self.name_cs,
            name_en=self.name_en,
            kind=self.kind,
            status=self.status,
            application_deadline=self.deadline or default_application_deadline(self.first_voting_day),
            rounds=default_rounds(self.kind, self.first_voting_day),
            has_media_server=self.has_media_server,
            # R6: an e-mail request was enough in 2018 and 2022; from 2023 a signed submission.
            signature_required=year >= 2023,
            senate_districts=districts if self.kind is ElectionKind.SENATE else (),
        )


_K = ElectionKind
KNOWN = [
    KnownElection("kz2020", "Volby do zastupitelstev krajů 2020", "Regional council elections 2020", _K.REGIONAL,
                  date(2020, 10, 2)),
    KnownElection("senat2020", "Volby do Senátu 2020", "Senate elections 2020", _K.SENATE, date(2020, 10, 2)),
    KnownElection("kv2022", "Volby do zastupitelstev obcí 2022", "Municipal council elections 2022", _K.MUNICIPAL,
                  date(2022, 9, 23), deadline=date(2022, 9, 9)),
    KnownElection("senat2022", "Volby do Senátu 2022", "Senate elections 2022", _K.SENATE, date(2022, 9, 23),
                  deadline=date(2022, 9, 9)),
    KnownElection("prez2023", "Volba prezidenta republiky 2023", "Presidential election 2023", _K.PRESIDENT,
                  date(2023, 1, 13), deadline=date(2022, 12, 23)),
    KnownElection("ep2024", "Volby do Evropského parlamentu 2024", "European Parliament elections 2024",
                  _K.EUROPEAN, date(2024, 6, 7), has_media_server=False),
    KnownElection("kz2024", "Volby do zastupitelstev krajů 2024", "Regional council elections 2024", _K.REGIONAL,
                  date(2024, 9, 20)),
    KnownElection("senat2024", "Volby do Senátu 2024", "Senate elections 2024", _K.SENATE, date(2024, 9, 20)),
    KnownElection("ps2025", "Volby do Poslanecké sněmovny 2025", "Chamber of Deputies elections 2025", _K.CHAMBER,
                  date(2025, 10, 3)),
    KnownElection("kv2026", "Volby do zastupitelstev obcí 2026", "Municipal council elections 2026", _K.MUNICIPAL,
                  date(2026, 10, 9)),
    KnownElection("senat2026", "Volby do Senátu 2026", "Senate elections 2026", _K.SENATE, date(2026, 10, 9)),
]  # fmt: skip


def second_friday_of_january(year: int) -> date:
    first = date(year, 1, 1)
    return first.replace(day=1 + (4 - first.weekday()) % 7 + 7)


def next_presidential_election(today: date) -> KnownElection:
    """January 2028 (tentative), or a later January if 2028's deadline has passed, so the demo
    always has an election open for applications."""
    year = 2028
    while default_application_deadline(second_friday_of_january(year)) <= today:
        year += 5
    return KnownElection(
        code=f"prez{year}",
        name_cs=f"Volba prezidenta republiky {year}",
        name_en=f"Presidential election {year}",
        kind=ElectionKind.PRESIDENT,
        first_voting_day=second_friday_of_january(year),
        status=ElectionStatus.TENTATIVE,
    )


def seed_elections(today: date) -> list[str]:
    """Create the known elections and the next presidential one; returns the codes created."""
    created = []
    for known in [*KNOWN, next_presidential_election(today)]:
        if election_by_code(known.code) is None:
            create_election(known.plan())
            created.append(known.code)
    return created
