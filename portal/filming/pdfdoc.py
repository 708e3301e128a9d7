"""The frame the filming PDFs share with the application PDF: its font, styles, page footer and the
deterministic canvas (see :mod:`portal.registration.pdf` for why the bytes are reproducible)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, HRFlowable, PageTemplate, Paragraph, Table, TableStyle

from portal.registration.pdf import (  # the portal's one PDF look, reused rather than copied
    _NO_PADDING,
    _OFFICE,
    _OFFICE_DETAILS,
    _TABLE,
    _TITLE,
    BLUE,
    FONT,
    FOOTER,
    LINE,
    MARGIN,
    MUTED,
    OFFICE_ADDRESS,
    TOP,
    _canvas_maker,
    _register_fonts,
    _text,
)

__all__ = ["build_pdf", "letterhead"]


def build_pdf(
    story: Callable[[float], list[Flowable]],
    *,
    title: str,
    subject: str,
    heading: str,
    created_at: datetime,
    identity: str,
    language: str,
    landscape: bool = False,
) -> bytes:
    """Lay out ``story(width)`` twice (the first pass counts the pages for the footer) and return the PDF.

    The same arguments give the same bytes: the date is ``created_at``, the /ID a digest of ``identity``.
    """
    _register_fonts()
    page_width, page_height = (A4[1], A4[0]) if landscape else A4
    width = page_width - 2 * MARGIN
    pages = 0
    buffer = io.BytesIO()
    for _pass in range(2):
        buffer = io.BytesIO()
        frame = Frame(MARGIN, FOOTER + 10 * mm, width, page_height - TOP - FOOTER - 10 * mm, 0, 0, 0, 0)
        document = BaseDocTemplate(
            buffer,
            pagesize=(page_width, page_height),
            pageTemplates=[PageTemplate("page", [frame], onPage=_footer_for(heading, pages, page_width))],
            title=title,
            author="Český statistický úřad / Czech Statistical Office",
            subject=subject,
            creator="csu-media-portal",
            lang=language,
            invariant=True,
            pageCompression=1,
            initialFontName=FONT,
        )
        document.build(story(width), canvasmaker=_canvas_maker(created_at, identity))
        pages = document.page
    return buffer.getvalue()


def _footer_for(heading: str, pages: int, page_width: float) -> Callable[[Canvas, Any], None]:
    """The application PDF's footer (a rule, the heading, "page x of y"), on a page of any width."""

    def draw(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, FOOTER + 4 * mm, page_width - MARGIN, FOOTER + 4 * mm)
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, FOOTER, heading)
        number = _("Page %(page)d of %(pages)d", page=document.page, pages=max(pages, document.page))
        canvas.drawRightString(page_width - MARGIN, FOOTER, number)
        canvas.restoreState()

    return draw


def letterhead(office: str, details: str, title: str, width: float) -> list[Flowable]:
    """The office's name and address over a blue rule, then the document's title."""
    office_details = _text(OFFICE_ADDRESS) + "<br/>" + _text(details)
    return [
        Table(
            [[Paragraph(_text(office), _OFFICE), Paragraph(office_details, _OFFICE_DETAILS)]],
            colWidths=[width * 0.6, width * 0.4],
            style=TableStyle([*_TABLE, ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), *_NO_PADDING]),
        ),
        HRFlowable(width="100%", thickness=1.5, color=BLUE, spaceBefore=5, spaceAfter=9),
        Paragraph(_text(title), _TITLE),
    ]
