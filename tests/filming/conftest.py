"""Filming fixtures: the portal with the office's signing certificate and the test trust, collection
points and permit requests (factories flush, never commit)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from portal.db import utcnow
from portal.extensions import db
from portal.filming import service
from portal.filming.content import PersonContent, RequestContent
from portal.filming.models import CollectionPoint, PermitRequest
from tests.filming.helpers import office_signing_config

_counter = itertools.count(1)
JANA = ("Jana Nováková", "+420 601 123 456", "jana@zpravy.example")
PETR = ("Petr Svoboda", "602 123 456", "petr@zpravy.example")


@pytest.fixture(scope="session")
def office_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return office_signing_config(Path(tmp_path_factory.mktemp("office")))


@pytest.fixture
def app(make_app, office_config) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    application = make_app(**office_config)
    with application.app_context():
        yield application


@pytest.fixture
def make_point():  # type: ignore[no-untyped-def]
    def make(
        code: str | None = None,
        capacity: int = 2,
        region: str = "Jihomoravský kraj",
        district: str = "Brno-město",
        active: bool = True,
        name: str | None = None,
    ) -> CollectionPoint:
        code = code or f"P{next(_counter):03d}"
        point = CollectionPoint(
            code=code,
            name=name or f"Přebírací místo {code}",
            address="Dominikánské náměstí 196/1, 602 00 Brno",
            region=region,
            district=district,
            capacity=capacity,
            active=active,
        )
        db.session.add(point)
        db.session.flush()
        return point

    return make


def request_content(
    persons=(JANA,),  # type: ignore[no-untyped-def]
    round_number: int = 1,
    points: tuple[str, ...] = (),
    **changes: object,
) -> RequestContent:
    values: dict[str, object] = {
        "round_number": round_number,
        "applicant_name": "Eva Redaktorová",
        "applicant_phone": "+420 274 051 111",
        "applicant_email": "eva@zpravy.example",
        "newsroom_name": "Zprávy Brno",
        "newsroom_address": "Náměstí Svobody 1, Brno",
        "persons": [PersonContent(*person) for person in persons],
        "scope": "Příjezd výsledků z okrsků, rozhovor s vedoucím pracoviště.",
        "kinds": ["video", "audio"],
        "preferred_region": "Jihomoravský kraj",
        "preferred_district": "Brno-město",
        "preferred_points": list(points),
        "preferred_times": "sobota 14:00–18:00",
    }
    values.update(changes)
    return RequestContent(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_permit_request(make_applicant):  # type: ignore[no-untyped-def]
    def make(
        election,  # type: ignore[no-untyped-def]
        applicant=None,  # type: ignore[no-untyped-def]
        *,
        state: str = "submitted",
        at: datetime | None = None,
        **content: object,
    ) -> PermitRequest:
        at = at or utcnow()
        applicant = applicant or make_applicant()
        request = service.save_draft(
            applicant.organisation, election, request_content(**content), user=applicant, at=at
        )
        if state == "submitted":
            service.submit(request, user=applicant, at=at)
        return request

    return make


def processing_window(election, hours: float = 4, offset: float = 0) -> tuple[datetime, datetime]:  # type: ignore[no-untyped-def]
    """A window in round 1 from the start of result processing (plus ``offset`` hours)."""
    start = election.rounds[0].processing_starts_at + timedelta(hours=offset)
    return start, start + timedelta(hours=hours)
