"""The application PDF the outlet downloads, signs in its own signing tool and uploads back (R6).

The same version always renders to the same bytes, so the signed upload can be bound to what the
portal generated: reportlab runs in invariant mode (no clock), the document dates are the version's
``created_at``, the /ID is a digest of the version's identity and content, the font subsets are named
by their order (``AAAAAA+``), and nothing here reads the request, the clock or the process
environment, or stores anything. The caller stores the SHA-256 of the bytes. What does change the
bytes besides the version: its organisation and election records, the translations, the setting
``PORTAL_BASE_URL`` (quoted as where to upload), and a reportlab or font upgrade (both pinned in
pyproject.toml).

``created_at`` and not ``submitted_at``: a signed upload submits the version, and the submission sets
``submitted_at`` to the upload time, after the outlet signed the PDF; deriving the date from it would
change the bytes of the document that was signed.

The output is a plain single-revision PDF (one classic cross-reference table, no incremental
updates, no encryption, no forms), which signing tools extend with an incremental update.
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

from flask import current_app
from flask_babel import force_locale
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
    Spacer,
    Table,
    TableStyle,
)

from portal.i18n import supported_languages
from portal.registration.content import TERMS_VERSION, content_digest
from portal.registration.models import AddressKind, ApplicationVersion
from portal.registration.terms import terms_lines
from portal.signatures.databox import OFFICE_BOX_ID

#: The office's data box (datová schránka): the other way to deliver a signed application (R6).
OFFICE_DATA_BOX = OFFICE_BOX_ID  # the office's data box (DOMAIN.md, R6)
OFFICE_ADDRESS = "Na padesátém 81, 100 82 Praha 10"

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


def render_application_pdf(version: ApplicationVersion, *, language: str = "cs") -> bytes:
    """The application PDF of ``version`` in ``language``; the same version gives the same bytes."""
    if language not in supported_languages():
        raise ValueError(f"unsupported language: {language!r}")
    if version.created_at is None:
        raise ValueError("the version has no created_at yet: flush it before rendering")
    _register_fonts()
    with force_locale(language):
        return _render(version, language)


@cache
def _register_fonts() -> None:
    """Register the font with reportlab once per process (its registry is global)."""
    directory = files("font_source_sans_pro") / "files"
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(directory / filename)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def _render(version: ApplicationVersion, language: str) -> bytes:
    reference = version.application.reference
    digest = version.content_sha256 or content_digest(version)
    title = _("Application for media access to election results")
    heading = _("Application %(reference)s, version %(number)d", reference=reference, number=version.number)

    canvas_maker = _canvas_maker(version.created_at, f"{reference}\n{version.number}\n{language}\n{digest}")

    # Two passes: the first counts the pages for the "page x of y" footer.
    pages = 0
    for _pass in range(2):
        buffer = io.BytesIO()
        frame = Frame(MARGIN, FOOTER + 10 * mm, WIDTH, PAGE_HEIGHT - TOP - FOOTER - 10 * mm, 0, 0, 0, 0)
        document = BaseDocTemplate(
            buffer,
            pagesize=A4,
            pageTemplates=[PageTemplate("page", [frame], onPage=_footer(heading, pages))],
            title=f"{title} – {reference}",
            author=_("Czech Statistical Office"),
            subject=heading,
            keywords=f"{reference}, SHA-256 {digest}",
            creator="csu-media-portal",
            lang=language,
            invariant=True,
            pageCompression=1,
            initialFontName=FONT,  # else every page also lists an unembedded Helvetica
        )
        document.build(_story(version, title, digest), canvasmaker=canvas_maker)
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


def _footer(heading: str, pages: int) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, FOOTER + 4 * mm, PAGE_WIDTH - MARGIN, FOOTER + 4 * mm)
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, FOOTER, heading)
        number = _("Page %(page)d of %(pages)d", page=document.page, pages=max(pages, document.page))
        canvas.drawRightString(PAGE_WIDTH - MARGIN, FOOTER, number)
        canvas.restoreState()

    return draw


# The content -----------------------------------------------------------------------------------------

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13, textColor=INK)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=11, textColor=MUTED)
_LABEL = ParagraphStyle("label", parent=_BODY, textColor=MUTED)
_STRONG = ParagraphStyle("strong", parent=_BODY, fontName=FONT_BOLD)
_OFFICE = ParagraphStyle("office", parent=_BODY, fontName=FONT_BOLD, fontSize=15, leading=19, textColor=BLUE)
_OFFICE_DETAILS = ParagraphStyle("office_details", parent=_SMALL, alignment=TA_RIGHT)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName=FONT_BOLD, fontSize=18, leading=22, spaceBefore=2, spaceAfter=2)
_SECTION = ParagraphStyle(
    "section", parent=_BODY, fontName=FONT_BOLD, fontSize=12, leading=15, textColor=BLUE, spaceBefore=9, spaceAfter=3
)
_SUBSECTION = ParagraphStyle("subsection", parent=_STRONG, spaceAfter=3)
_CELL_HEAD = ParagraphStyle("cell_head", parent=_STRONG, fontSize=9.5)
_BULLET = ParagraphStyle("bullet", parent=_BODY, leftIndent=11, bulletIndent=1, bulletFontName=FONT, spaceAfter=2)
_NOTICE = ParagraphStyle("notice", parent=_BODY, spaceAfter=4)

#: Tables set their cells' font even when every cell is a flowable: name ours, or Helvetica gets listed.
_TABLE = [("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP")]
_NO_PADDING = [(side, (0, 0), (-1, -1), 0) for side in ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")]


def _text(value: str) -> str:
    """Text from the database or the catalogue as Paragraph markup: escaped, line breaks kept."""
    return escape(value).replace("\r\n", "\n").replace("\n", "<br/>")


def _story(version: ApplicationVersion, title: str, digest: str) -> list[Flowable]:
    application = version.application
    organisation = application.organisation
    election = application.election
    terms_version = version.terms_version or TERMS_VERSION
    portal_url = str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")
    office_details = _text(OFFICE_ADDRESS) + "<br/>" + _text(_("Data box ID %(box)s", box=OFFICE_DATA_BOX))
    return [
        Table(
            [[Paragraph(_text(_("Czech Statistical Office")), _OFFICE), Paragraph(office_details, _OFFICE_DETAILS)]],
            colWidths=[WIDTH * 0.6, WIDTH * 0.4],
            style=TableStyle([*_TABLE, ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), *_NO_PADDING]),
        ),
        HRFlowable(width="100%", thickness=1.5, color=BLUE, spaceBefore=5, spaceAfter=9),
        Paragraph(_text(title), _TITLE),
        *_section(
            _("Application"),
            _facts(
                [
                    (_("Application number"), application.reference),
                    (_("Version"), str(version.number)),
                ],
                [
                    (_("Election"), election.display_name),
                    (_("Election code"), election.code),
                ],
            ),
        ),
        *_section(
            _("Applicant"),
            _facts(
                [(_("Organisation"), organisation.name)],
                [(_("IČO"), organisation.ico)],
                [(_("Address"), organisation.address)],
                [(_("Contact e-mail"), version.contact_email)],
                [(_("Contact phone"), version.contact_phone)],
            ),
        ),
        *_section(
            _("IP addresses"),
            _side_by_side(
                [
                    Paragraph(_text(_("Production addresses")), _SUBSECTION),
                    _addresses(version.addresses_of(AddressKind.PRODUCTION)),
                ],
                [
                    Paragraph(_text(_("Test addresses")), _SUBSECTION),
                    _addresses(version.addresses_of(AddressKind.TEST)),
                ],
            ),
        ),
        *_section(
            _("Terms of access (version %(version)s)", version=terms_version),
            *[Paragraph(_text(line), _BULLET, bulletText="•") for line in terms_lines(terms_version)],
            Spacer(0, 3),
            Paragraph(
                _text(
                    _("The applicant accepts these terms.")
                    if version.terms_version
                    else _("The terms have not been accepted yet.")
                ),
                _STRONG,
            ),
        ),
        *_section(_("Note"), Paragraph(_text(version.note) if version.note.strip() else "–", _BODY)),
        *_section(
            _("Content fingerprint"),
            _facts([(_("SHA-256 of the content"), digest)]),
            Spacer(0, 3),
            Paragraph(
                _text(_("The office compares this fingerprint with the application stored in the portal.")), _SMALL
            ),
        ),
        *_section(
            _("Signature and submission"),
            _notice(
                [
                    _(
                        "Sign this document with a recognised electronic signature (uznávaný elektronický podpis): "
                        "a qualified electronic signature, or an advanced electronic signature based on a qualified "
                        "certificate. Sign the document as it is, without changing it."
                    ),
                    _(
                        "Upload the signed PDF in the media portal at %(url)s, on the page of application "
                        "%(reference)s. You can also send it to the office's data box (ID %(box)s).",
                        url=portal_url,
                        reference=application.reference,
                        box=OFFICE_DATA_BOX,
                    ),
                ]
            ),
        ),
    ]


def _section(heading: str, *content: Flowable) -> list[Flowable]:
    """A heading kept on the page of what follows it."""
    first, *rest = content
    return [KeepTogether([Paragraph(_text(heading), _SECTION), first]), *rest]


def _facts(*rows: list[tuple[str, str]]) -> Table:
    """Label and value rows, as on the application's page; a row may hold a second, short fact."""
    cells = [
        [
            cell
            for label, value in row
            for cell in (Paragraph(_text(label), _LABEL), Paragraph(_text(value) or "–", _BODY))
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
                *_TABLE,
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ]
        )
    )
    return table


def _side_by_side(left: list[Flowable], right: list[Flowable]) -> Table:
    gap = 8 * mm
    half = (WIDTH - gap) / 2
    return Table(
        [[left, Spacer(0, 0), right]],
        colWidths=[half, gap, half],
        style=TableStyle([*_TABLE, *_NO_PADDING]),
    )


def _addresses(addresses: list[str]) -> Table:
    """The numbered addresses of one kind, or a row saying there are none."""
    rows: list[list[Any]] = [[Paragraph(_text(_("No.")), _CELL_HEAD), Paragraph(_text(_("IP address")), _CELL_HEAD)]]
    rows += [
        [Paragraph(f"{number}.", _BODY), Paragraph(_text(address), _BODY)]
        for number, address in enumerate(addresses, 1)
    ]
    if not addresses:
        rows.append([Spacer(0, 0), Paragraph(_text(_("None")), _LABEL)])
    table = Table(rows, colWidths=[12 * mm, None], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                *_TABLE,
                ("BACKGROUND", (0, 0), (-1, 0), TINT),
                ("BOX", (0, 0), (-1, -1), 0.5, LINE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ]
        )
    )
    return table


def _notice(paragraphs: list[str]) -> Table:
    """The instructions in a tinted box with a blue edge, like the portal's notices."""
    table = Table([[[Paragraph(_text(text), _NOTICE) for text in paragraphs]]], colWidths=[WIDTH])
    table.setStyle(
        TableStyle(
            [
                *_TABLE,
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
