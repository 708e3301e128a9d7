"""The permit a person shows at the collection point: Czech and English on one page, with a QR code
leading to the public verification page. The office signs the PDF afterwards (see permits.py)."""

from __future__ import annotations

from datetime import datetime

import qrcode
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from portal.elections.prague import to_prague
from portal.filming.models import PermitPerson
from portal.pdfdoc import (  # the portal's one PDF look
    BODY,
    INK,
    LABEL,
    LINE,
    OFFICE_DATA_BOX,
    SMALL,
    STRONG,
    TABLE,
    build_pdf,
    escaped,
    letterhead,
    notice,
    section,
)
from portal.templating import format_prague_datetime

LANGUAGES = ("cs", "en")
TITLE = _l("Permit to make audio and video recordings at a collection point")
OFFICE = _l("Czech Statistical Office")
CONDITIONS = _l(
    "The holder may record at the collection point named here during the time stated. The holder follows "
    "the instructions of the collection point's staff; the recording must not disturb its work. The permit "
    "is personal; show it with an identity document."
)
FIELDS = {
    "number": _l("Permit number"),
    "holder": _l("Holder"),
    "newsroom": _l("Newsroom"),
    "election": _l("Election"),
    "point": _l("Collection point"),
    "time": _l("Time (Prague)"),
    "issued": _l("Issued"),
}
CHECK = _l("Check that the permit is valid")
SIGNED = _l("Signed electronically by the Czech Statistical Office.")
ROUND = _l("round %(number)d")


def _both(message: object, separator: str = " / ", **values: object) -> str:
    """``message`` in Czech, then in English."""
    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            text = str(message)
            texts.append(text % values if values else text)
    return separator.join(texts)


def _label(message: object) -> str:
    """A label as Paragraph markup: Czech, and English under it."""
    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            texts.append(escaped(str(message)))
    return "<br/>".join(texts)


def _window(start: datetime, end: datetime) -> str:
    def one() -> str:
        same_day = to_prague(start).date() == to_prague(end).date()
        until = f"{to_prague(end):%H:%M}" if same_day else format_prague_datetime(end)
        return f"{format_prague_datetime(start)} – {until}"

    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            texts.append(one())
    return texts[0] if texts[0] == texts[1] else " / ".join(texts)


def render_permit_pdf(person: PermitPerson, *, verify_url: str, issued_at: datetime) -> bytes:
    """The unsigned permit of an approved ``person``; ``verify_url`` goes into the QR code."""
    if person.point is None or person.starts_at is None or person.ends_at is None:
        raise ValueError("only an approved person with a place and a time has a permit")
    title = _both(TITLE)
    return build_pdf(
        lambda width: _story(person, verify_url, issued_at, title, width),
        title=f"{title} – {person.permit_number}",
        subject=person.permit_number,
        heading=f"{person.permit_number} · {person.name}",
        created_at=issued_at,
        identity=f"{person.permit_number}\n{verify_url}",
        language="cs",
    )


def _story(person: PermitPerson, verify_url: str, issued_at: datetime, title: str, width: float) -> list[Flowable]:
    request = person.request
    point = person.point
    assert point is not None and person.starts_at is not None and person.ends_at is not None
    election = request.election
    election_text = (
        f"{election.name_cs} ({_both(ROUND, number=request.round_number, separator=' / ')})"
        if election.name_cs == election.name_en
        else f"{election.name_cs} / {election.name_en} ({_both(ROUND, number=request.round_number)})"
    )
    rows = [
        ("number", person.permit_number, True),
        ("holder", person.name, True),
        ("newsroom", request.newsroom_name, False),
        ("election", election_text, False),
        ("point", f"{point.name}, {point.address} ({point.district}, {point.region})", True),
        ("time", _window(person.starts_at, person.ends_at), True),
        ("issued", _both_date(issued_at), False),
    ]
    facts = Table(
        [
            [Paragraph(_label(FIELDS[key]), LABEL), Paragraph(escaped(value), STRONG if strong else BODY)]
            for key, value, strong in rows
        ],
        colWidths=[52 * mm, width - 52 * mm],
        style=TableStyle(
            [
                *TABLE,
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        ),
    )
    conditions = []
    for language in LANGUAGES:
        with force_locale(language):
            conditions.append(str(CONDITIONS))
    link = [Paragraph(escaped(_both(CHECK)), STRONG), Spacer(0, 3), Paragraph(escaped(verify_url), SMALL)]
    check = Table(
        [[QrCode(verify_url, 34 * mm), link]],
        colWidths=[40 * mm, width - 40 * mm],
        style=TableStyle([*TABLE, ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, -1), 0)]),
    )
    return [
        *letterhead(_both(OFFICE), f"ID DS {OFFICE_DATA_BOX}", title, width),
        Spacer(0, 4),
        facts,
        *section(_both(_l("Conditions")), notice(conditions)),
        Spacer(0, 6),
        check,
        Spacer(0, 6),
        Paragraph(escaped(_both(SIGNED, " ")), SMALL),
    ]


def _both_date(instant: datetime) -> str:
    texts = []
    for language in LANGUAGES:
        with force_locale(language):
            texts.append(format_prague_datetime(instant))
    return " / ".join(dict.fromkeys(texts))


class QrCode(Flowable):
    """A QR code drawn as vector squares (no bitmap), ``size`` points wide, with a quiet zone."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=1)
        code.add_data(data)
        code.make(fit=True)
        self.matrix: list[list[bool]] = code.get_matrix()
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        cells = len(self.matrix)
        cell = self.size / cells
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(INK)
        for row_number, row in enumerate(self.matrix):
            y = self.size - (row_number + 1) * cell
            column = 0
            while column < cells:  # one rectangle per run of dark cells
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < cells and row[column]:
                    column += 1
                canvas.rect(start * cell, y, (column - start) * cell, cell, stroke=0, fill=1)
        canvas.restoreState()


__all__ = ["QrCode", "render_permit_pdf"]
