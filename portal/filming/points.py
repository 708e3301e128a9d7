"""Collection points: the admin's reference data, checked the same way in the form and the CSV import."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.service import record
from portal.extensions import db
from portal.filming.areas import district_in_region, is_region
from portal.filming.errors import PointInvalid
from portal.filming.models import MAX_CAPACITY, CollectionPoint

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")
FIELDS = ("code", "name", "address", "region", "district", "capacity", "active")


@dataclass(frozen=True)
class PointData:
    code: str
    name: str
    address: str
    region: str
    district: str
    capacity: int
    active: bool = True


def clean_point(
    *, code: str, name: str, address: str, region: str, district: str, capacity: str | int | None, active: bool = True
) -> PointData:
    """Normalise and check one point; every problem at once, by field."""
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    code = code.strip().upper()
    if not code:
        errors["code"] = ("required", {})
    elif not CODE_PATTERN.match(code):
        errors["code"] = ("invalid_code", {})
    values = {"name": (name.strip(), 200), "address": (address.strip(), 500)}
    for field_name, (value, limit) in values.items():
        if not value:
            errors[field_name] = ("required", {})
        elif len(value) > limit:
            errors[field_name] = ("too_long", {"max": limit})
    region, district = region.strip(), district.strip()
    if not is_region(region):
        errors["region"] = ("unknown_region", {"value": region})
    elif not district_in_region(district, region):
        errors["district"] = ("unknown_district", {"value": district, "region": region})
    number: int | None
    try:
        number = int(str(capacity).strip()) if capacity is not None and str(capacity).strip() else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= MAX_CAPACITY:
        errors["capacity"] = ("capacity_range", {"max": MAX_CAPACITY})
    if errors:
        raise PointInvalid(errors)
    assert number is not None
    return PointData(code, values["name"][0], values["address"][0], region, district, number, bool(active))


def point_by_code(code: str) -> CollectionPoint | None:
    return db.session.scalar(select(CollectionPoint).where(CollectionPoint.code == code.strip().upper()))


def all_points(*, active_only: bool = False) -> list[CollectionPoint]:
    query = select(CollectionPoint).order_by(CollectionPoint.region, CollectionPoint.district, CollectionPoint.code)
    if active_only:
        query = query.where(CollectionPoint.active.is_(True))
    return list(db.session.scalars(query).all())


def snapshot_of(point: CollectionPoint) -> dict[str, object]:
    return {name: getattr(point, name) for name in FIELDS}


def add_point(data: PointData, *, staff: User | None, at: datetime) -> CollectionPoint:
    """A new point from the form: its code must be free (an import updates the point of a taken code)."""
    if point_by_code(data.code) is not None:
        raise PointInvalid({"code": ("code_taken", {"code": data.code})})
    point, _changed = save_point(data, staff=staff, at=at)
    return point


def save_point(
    data: PointData, *, point: CollectionPoint | None = None, staff: User | None, at: datetime, actor_label: str = ""
) -> tuple[CollectionPoint, bool]:
    """Create the point, or update ``point`` (or the one with the same code); returns it and whether it changed."""
    existing = point or point_by_code(data.code)
    if point is not None and data.code != point.code and point_by_code(data.code) is not None:
        raise PointInvalid({"code": ("code_taken", {"code": data.code})})
    wanted = asdict(data)
    if existing is None:
        existing = CollectionPoint(**wanted, created_at=at)
        db.session.add(existing)
        db.session.flush()
        record("collection_point.created", existing, actor=staff, at=at, after=wanted, actor_label=actor_label or None)
        return existing, True
    before = snapshot_of(existing)
    if before == wanted:
        return existing, False
    for name, value in wanted.items():
        setattr(existing, name, value)
    existing.updated_at = at
    db.session.flush()
    record(
        "collection_point.updated",
        existing,
        actor=staff,
        at=at,
        before=before,
        after=wanted,
        actor_label=actor_label or None,
    )
    return existing, True
