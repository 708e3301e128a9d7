"""The collection points as CSV: import (all or nothing) and export in the same format.

Columns by header name, in any order: ``code, name, address, region, district, capacity`` and an
optional ``active`` (1/0, yes/no, ano/ne). UTF-8 (a byte-order mark is fine), separated by commas or,
as spreadsheets in Czech write it, semicolons. Points missing from the file are left as they are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from portal import csvsafe
from portal.accounts.models import User
from portal.filming.errors import CsvProblem, PointInvalid, PointsCsvInvalid
from portal.filming.points import PointData, all_points, clean_point, save_point

REQUIRED_COLUMNS = ("code", "name", "address", "region", "district", "capacity")
OPTIONAL_COLUMNS = ("active",)
MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
TRUE_WORDS = {"1", "true", "yes", "ano", "y", "a"}
FALSE_WORDS = {"0", "false", "no", "ne", "n"}


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int


def parse_points_csv(data: bytes) -> list[PointData]:
    """Every row checked; any problem refuses the whole file with every problem listed."""
    if len(data) > MAX_BYTES:
        raise PointsCsvInvalid([CsvProblem(0, "", "too_large", {"max": MAX_BYTES // 1024})])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PointsCsvInvalid([CsvProblem(0, "", "not_utf8")]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        raise PointsCsvInvalid([CsvProblem(reader.line_num, "", "malformed")]) from None
    if not rows:
        raise PointsCsvInvalid([CsvProblem(1, "", "empty")])
    header = [name.strip().lower() for name in rows[0]]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if missing or unknown or duplicated:
        problems = [CsvProblem(1, name, "missing_column") for name in missing]
        problems += [CsvProblem(1, name, "unknown_column") for name in unknown]
        problems += [CsvProblem(1, name, "duplicate_column") for name in duplicated]
        raise PointsCsvInvalid(problems)
    body = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if len(body) > MAX_ROWS:
        raise PointsCsvInvalid([CsvProblem(0, "", "too_many_rows", {"max": MAX_ROWS})])
    points: list[PointData] = []
    problems: list[CsvProblem] = []
    seen: dict[str, int] = {}
    for number, row in body:
        if len(row) != len(header):
            problems.append(CsvProblem(number, "", "column_count", {"expected": len(header), "found": len(row)}))
            continue
        values = dict(zip(header, (csvsafe.restore(cell) for cell in row), strict=True))
        active = _flag(values.get("active", "1"))
        if active is None:
            problems.append(CsvProblem(number, "active", "invalid_flag"))
            continue
        try:
            point = clean_point(**{name: values[name] for name in REQUIRED_COLUMNS}, active=active)
        except PointInvalid as invalid:
            problems += [CsvProblem(number, name, code, detail) for name, (code, detail) in invalid.errors.items()]
            continue
        if point.code in seen:
            problems.append(CsvProblem(number, "code", "duplicate_code", {"line": seen[point.code]}))
            continue
        seen[point.code] = number
        points.append(point)
    if problems:
        raise PointsCsvInvalid(problems)
    return points


def _flag(value: str) -> bool | None:
    word = value.strip().lower()
    if word in TRUE_WORDS or not word:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def import_points(points: list[PointData], *, staff: User | None, at: datetime, actor_label: str = "") -> ImportReport:
    """Create or update each point by its code; each change is an audit event."""
    created = updated = unchanged = 0
    existing = {point.code for point in all_points()}
    for data in points:
        _point, changed = save_point(data, staff=staff, at=at, actor_label=actor_label)
        if data.code not in existing:
            created += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    return ImportReport(created, updated, unchanged)


def export_points_csv() -> str:
    """Every point, in the import's format (UTF-8 with a byte-order mark, for spreadsheets)."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow([*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])
    for point in all_points():
        writer.writerow(
            [point.code, point.name, point.address, point.region, point.district, point.capacity, int(point.active)]
        )
    return "\ufeff" + buffer.getvalue()
