"""How many media persons are at a collection point at the same time.

A window is half-open, [start, end): a person leaving at 16:00 and one arriving at 16:00 never meet.
Capacity is physical, so every approved permit at the point counts, whatever the election.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.filming.models import CollectionPoint, PermitPerson, PersonState

Window = tuple[datetime, datetime]


def peak(windows: Iterable[Window]) -> int:
    """The most windows open at one instant."""
    events = sorted(
        [(start, 1) for start, _end in windows] + [(end, -1) for _start, end in windows],
        key=lambda event: (event[0], event[1]),  # at the same instant, departures before arrivals
    )
    current = highest = 0
    for _instant, change in events:
        current += change
        highest = max(highest, current)
    return highest


def overlapping(point: CollectionPoint, starts_at: datetime, ends_at: datetime) -> list[PermitPerson]:
    """Approved persons at ``point`` whose window overlaps [starts_at, ends_at)."""
    return list(
        db.session.scalars(
            select(PermitPerson)
            .where(
                PermitPerson.point_id == point.id,
                PermitPerson.state == PersonState.APPROVED,
                PermitPerson.starts_at < ends_at,
                PermitPerson.ends_at > starts_at,
            )
            .order_by(PermitPerson.starts_at, PermitPerson.id)
        ).all()
    )


def peak_with(others: Iterable[PermitPerson], starts_at: datetime, ends_at: datetime) -> int:
    """Persons at the busiest moment of [starts_at, ends_at) if one more came for the whole window."""
    clipped = [
        (max(p.starts_at, starts_at), min(p.ends_at, ends_at))  # type: ignore[type-var]
        for p in others
        if p.starts_at is not None and p.ends_at is not None
    ]
    return peak([*clipped, (starts_at, ends_at)])


def lock_point(point: CollectionPoint) -> CollectionPoint:
    """Hold the point's row until the transaction ends (PostgreSQL), so two approvals count in turn."""
    locked = db.session.scalar(
        select(CollectionPoint)
        .where(CollectionPoint.id == point.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked
