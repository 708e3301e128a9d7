"""The portal's one PDF look and frame: the font, colours, paragraph and table styles, the letterhead, the
page footer and the deterministic canvas every generated PDF is laid out with (the application PDF, the
permit request, the permit, the roster).

The same arguments give the same bytes: reportlab runs in invariant mode (no clock), the document date
is the caller's ``created_at``, the /ID a digest of the caller's ``identity``, and the font subsets are
named by their order (``AAAAAA+``). Nothing here reads the request, the clock or the process
environment. A reportlab or font upgrade changes the bytes (both pinned in pyproject.toml): a signed
upload is bound to the bytes the portal generated (see :mod:`portal.registration.pdf`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from portal.signatures.databox import OFFICE_BOX_ID

OFFICE_ADDRESS = "Na padesátém 81, 100 82 Praha 10"
#: The office's data box (datová schránka): the other way to deliver a signed document (R6).
OFFICE_DATA_BOX = OFFICE_BOX_ID  # the office's data box (DOMAIN.md, R6)

# Source Sans Pro (Adobe) from the PyPI package ``font-source-sans-pro``: TrueType outlines covering
# the whole Czech alphabet, under the SIL Open Font License 1.1, which allows embedding the font in
# documents (the licence ships as font_source_sans_pro/files/LICENSE.txt). Embedded as subsets.
FONT = "PortalSans"
FONT_BOLD = "PortalSans-Bold"
_FONT_FILES = {FONT: "SourceSansPro-Regular.ttf", FONT_BOLD: "SourceSansPro-Bold.ttf"}

BLUE = colors.HexColor("#0b4a8b")
INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#5a6470")
LINE = colors.HexColor("#d5dbe2")
TINT = colors.HexColor("#eaf2fb")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 20 * mm  #: left and right
TOP = 16 * mm
FOOTER = 12 * mm  #: the footer's baseline; the text frame ends 10 mm above it
WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH = 48 * mm
SHORT_LABEL_WIDTH = 30 * mm
SHORT_VALUE_WIDTH = 30 * mm


@cache
def register_fonts() -> None:
    """Register the font with reportlab once per process (its registry is global)."""
    directory = files("font_source_sans_pro") / "files"
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(directory / filename)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


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
    author: str = "Český statistický úřad / Czech Statistical Office",
    keywords: str | None = None,
) -> bytes:
    """Lay out ``story(width)`` twice (the first pass counts the pages for the footer) and return the PDF.

    The same arguments give the same bytes: the date is ``created_at``, the /ID a digest of ``identity``.
    """
    register_fonts()
    page_width, page_height = (A4[1], A4[0]) if landscape else A4
    width = page_width - 2 * MARGIN
    extra: dict[str, Any] = {} if keywords is None else {"keywords": keywords}
    pages = 0
    buffer = io.BytesIO()
    for _pass in range(2):
        buffer = io.BytesIO()
        frame = Frame(MARGIN, FOOTER + 10 * mm, width, page_height - TOP - FOOTER - 10 * mm, 0, 0, 0, 0)
        document = BaseDocTemplate(
            buffer,
            pagesize=(page_width, page_height),
            pageTemplates=[PageTemplate("page", [frame], onPage=_footer(heading, pages, page_width))],
            title=title,
            author=author,
            subject=subject,
            creator="csu-media-portal",
            lang=language,
            invariant=True,
            pageCompression=1,
            initialFontName=FONT,  # else every page also lists an unembedded Helvetica
            **extra,
        )
        document.build(story(width), canvasmaker=_canvas_maker(created_at, identity))
        pages = document.page
    return buffer.getvalue()


def _canvas_maker(created_at: datetime, identity: str) -> Callable[..., Canvas]:
    """A canvas dating the document ``created_at`` and identifying it by a digest of ``identity``.

    Invariant mode alone would date it 2000-01-01, and derive the /ID from the document information
    and the ``SOURCE_DATE_EPOCH`` environment variable, if set: a setting outside the version.
    """
    stamp = created_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    file_id = b"<" + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32].encode("ascii") + b">"

    def make(*args: Any, **kwargs: Any) -> Canvas:
        # PDF 1.7 from the start: PAdES signing tools otherwise add /Version to the catalog when they
        # sign, a change to the portal's document that the binding check must then tolerate.
        canvas = Canvas(*args, **{**kwargs, "pdfVersion": (1, 7)})
        canvas.setDateFormatter(lambda *_ymdhms: stamp)
        # reportlab writes PDFDocument._ID as the trailer's /ID when it is set: both parts the same, as
        # for a document that has not been updated.
        canvas._doc._ID = b"\n[" + file_id + file_id + b"]\n"
        return canvas

    return make


def _footer(heading: str, pages: int, page_width: float) -> Callable[[Canvas, Any], None]:
    """A rule, the heading, "page x of y", on a page of any width."""

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


# The look ---------------------------------------------------------------------------------------------

BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11, textColor=MUTED)
LABEL = ParagraphStyle("label", parent=BODY, textColor=MUTED)
STRONG = ParagraphStyle("strong", parent=BODY, fontName=FONT_BOLD)
_OFFICE = ParagraphStyle("office", parent=BODY, fontName=FONT_BOLD, fontSize=15, leading=19, textColor=BLUE)
_OFFICE_DETAILS = ParagraphStyle("office_details", parent=SMALL, alignment=TA_RIGHT)
_TITLE = ParagraphStyle("title", parent=BODY, fontName=FONT_BOLD, fontSize=18, leading=22, spaceBefore=2, spaceAfter=2)
SECTION = ParagraphStyle(
    "section", parent=BODY, fontName=FONT_BOLD, fontSize=12, leading=15, textColor=BLUE, spaceBefore=9, spaceAfter=3
)
SUBSECTION = ParagraphStyle("subsection", parent=STRONG, spaceAfter=3)
CELL_HEAD = ParagraphStyle("cell_head", parent=STRONG, fontSize=9.5)
BULLET = ParagraphStyle("bullet", parent=BODY, leftIndent=11, bulletIndent=1, bulletFontName=FONT, spaceAfter=2)
NOTICE_STYLE = ParagraphStyle("notice", parent=BODY, spaceAfter=4)

#: Tables set their cells' font even when every cell is a flowable: name ours, or Helvetica gets listed.
TABLE = [("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP")]
NO_PADDING = [(side, (0, 0), (-1, -1), 0) for side in ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")]


def escaped(value: str) -> str:
    """Text from the database or the catalogue as Paragraph markup: escaped, line breaks kept."""
    return escape(value).replace("\r\n", "\n").replace("\n", "<br/>")


def letterhead(office: str, details: str, title: str, width: float = WIDTH) -> list[Flowable]:
    """The office's name and address over a blue rule, then the document's title."""
    office_details = escaped(OFFICE_ADDRESS) + "<br/>" + escaped(details)
    return [
        Table(
            [[Paragraph(escaped(office), _OFFICE), Paragraph(office_details, _OFFICE_DETAILS)]],
            colWidths=[width * 0.6, width * 0.4],
            style=TableStyle([*TABLE, ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), *NO_PADDING]),
        ),
        HRFlowable(width="100%", thickness=1.5, color=BLUE, spaceBefore=5, spaceAfter=9),
        Paragraph(escaped(title), _TITLE),
    ]


def section(heading: str, *content: Flowable) -> list[Flowable]:
    """A heading kept on the page of what follows it."""
    first, *rest = content
    return [KeepTogether([Paragraph(escaped(heading), SECTION), first]), *rest]


def facts(*rows: list[tuple[str, str]]) -> Table:
    """Label and value rows, as on the application's page; a row may hold a second, short fact."""
    cells = [
        [
            cell
            for label, value in row
            for cell in (Paragraph(escaped(label), LABEL), Paragraph(escaped(value) or "–", BODY))
        ]
        for row in rows
    ]
    if any(len(row) > 1 for row in rows):
        widths = [LABEL_WIDTH, WIDTH - LABEL_WIDTH - SHORT_LABEL_WIDTH - SHORT_VALUE_WIDTH]
        widths += [SHORT_LABEL_WIDTH, SHORT_VALUE_WIDTH]
    else:
        widths = [LABEL_WIDTH, WIDTH - LABEL_WIDTH]
    table = Table(cells, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                *TABLE,
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ]
        )
    )
    return table


def listing_style(top: float = 2.5, bottom: float = 3.5) -> TableStyle:
    """A list with a tinted head row, in a box, each row ruled below."""
    return TableStyle(
        [
            *TABLE,
            ("BACKGROUND", (0, 0), (-1, 0), TINT),
            ("BOX", (0, 0), (-1, -1), 0.5, LINE),
            ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
            ("TOPPADDING", (0, 0), (-1, -1), top),
            ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
        ]
    )


def notice(paragraphs: list[str]) -> Table:
    """The instructions in a tinted box with a blue edge, like the portal's notices."""
    table = Table([[[Paragraph(escaped(text), NOTICE_STYLE) for text in paragraphs]]], colWidths=[WIDTH])
    table.setStyle(
        TableStyle(
            [
                *TABLE,
                ("BACKGROUND", (0, 0), (-1, -1), TINT),
                ("LINEBEFORE", (0, 0), (0, -1), 3, BLUE),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 7),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table
