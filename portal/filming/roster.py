"""The list for the staff at a collection point's door: who comes when, as PDF and CSV.

Valid permits by point and time; revoked ones are listed apart, so the door knows not to admit them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table

from portal import csvsafe
from portal.elections.models import Election
from portal.elections.prague import to_prague
from portal.filming import service
from portal.filming.models import CollectionPoint, PermitPerson, PersonState
from portal.pdfdoc import (  # the portal's one PDF look
    BODY,
    CELL_HEAD,
    SECTION,
    SMALL,
    build_pdf,
    escaped,
    letterhead,
    listing_style,
)
from portal.templating import format_prague_datetime

CSV_COLUMNS = (
    "point_code",
    "point_name",
    "point_address",
    "starts_at",
    "ends_at",
    "name",
    "newsroom",
    "phone",
    "permit",
    "state",
)


@dataclass(frozen=True)
class PointRoster:
    point: CollectionPoint
    valid: list[PermitPerson]
    revoked: list[PermitPerson]


def rosters(election: Election, round_number: int, point_code: str | None = None) -> list[PointRoster]:
    """Per point with permits in the round (or only ``point_code``), persons by arrival time."""
    by_point: dict[str, list[PermitPerson]] = {}
    for permit in service.permits_of(election, round_number):
        assert permit.point is not None
        if point_code is None or permit.point.code == point_code:
            by_point.setdefault(permit.point.code, []).append(permit)
    return [
        PointRoster(
            point=permits[0].point,  # type: ignore[arg-type]
            valid=[p for p in permits if p.state is PersonState.APPROVED],
            revoked=[p for p in permits if p.state is PersonState.REVOKED],
        )
        for _code, permits in sorted(by_point.items())
    ]


def _local(instant: datetime | None) -> str:
    return to_prague(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def roster_csv(entries: list[PointRoster]) -> str:
    """One row per permit, Prague times; UTF-8 with a byte-order mark, for spreadsheets."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        for person in [*entry.valid, *entry.revoked]:
            writer.writerow(
                [
                    entry.point.code,
                    entry.point.name,
                    entry.point.address,
                    _local(person.starts_at),
                    _local(person.ends_at),
                    person.name,
                    person.request.newsroom_name,
                    person.phone,
                    person.permit_number,
                    person.state.value,
                ]
            )
    return "\ufeff" + buffer.getvalue()


def roster_pdf(
    election: Election, round_number: int, entries: list[PointRoster], *, at: datetime, language: str
) -> bytes:
    """One section per point, each from a new page: the persons expected and their times."""
    title = _("Media at the collection point")
    subject = _("%(election)s, round %(number)d", election=election.display_name, number=round_number)
    return build_pdf(
        lambda width: _story(entries, title, subject, width),
        title=f"{title} – {subject}",
        subject=subject,
        heading=subject,
        created_at=at,
        identity=f"roster\n{election.code}\n{round_number}\n{at.isoformat()}",
        language=language,
        landscape=True,
    )


def _story(entries: list[PointRoster], title: str, subject: str, width: float) -> list[Flowable]:
    story: list[Flowable] = []
    if not entries:
        return [
            *letterhead(_("Czech Statistical Office"), subject, title, width),
            Paragraph(escaped(_("No permits.")), BODY),
        ]
    for index, entry in enumerate(entries):
        if index:
            story.append(PageBreak())
        point = entry.point
        story += letterhead(_("Czech Statistical Office"), subject, title, width)
        story.append(Paragraph(escaped(f"{point.name} ({point.code})"), SECTION))
        story.append(Paragraph(escaped(f"{point.address} · {point.district}, {point.region}"), BODY))
        story.append(Paragraph(escaped(_("Capacity: %(capacity)d persons at a time.", capacity=point.capacity)), SMALL))
        story.append(Spacer(0, 4 * mm))
        story.append(_table(entry.valid, width))
        if entry.revoked:
            story.append(Paragraph(escaped(_("Revoked permits: do not admit")), SECTION))
            story.append(_table(entry.revoked, width))
    return story


def _table(persons: list[PermitPerson], width: float) -> Table:
    heads = (_("From"), _("Until"), _("Full name"), _("Newsroom"), _("Phone"), _("Permit"), _("Arrived"))
    rows: list[list[Flowable]] = [[Paragraph(escaped(head), CELL_HEAD) for head in heads]]
    for person in persons:
        values = (
            format_prague_datetime(person.starts_at),
            format_prague_datetime(person.ends_at),
            person.name,
            person.request.newsroom_name,
            person.phone,
            person.permit_number,
            "",
        )
        rows.append([Paragraph(escaped(value), BODY) for value in values])
    if not persons:
        rows.append([Paragraph(escaped(value), BODY) for value in ("–", "", _("No permits."), "", "", "", "")])
    fixed = [30 * mm, 30 * mm, None, None, 32 * mm, 38 * mm, 20 * mm]
    flexible = (width - sum(w for w in fixed if w)) / 2
    table = Table(rows, colWidths=[w or flexible for w in fixed], repeatRows=1)
    table.setStyle(listing_style(top=3, bottom=5))
    return table
