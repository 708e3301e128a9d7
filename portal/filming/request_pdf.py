"""The permit request as a PDF: what the outlet signs where the election requires a recognised
signature (R6 applies as to applications). The same draft renders to the same bytes, so the signed
upload can be bound to it; any change to the draft changes the bytes (its content digest is in them).
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Table

from portal import pdfdoc as look  # the portal's one PDF look
from portal.filming.content import content_digest
from portal.filming.models import PermitRequest
from portal.i18n import supported_languages
from portal.labels import label


def render_request_pdf(request: PermitRequest, *, language: str = "cs") -> bytes:
    """The request in ``language``; the same content gives the same bytes."""
    if language not in supported_languages():
        raise ValueError(f"unsupported language: {language!r}")
    if request.created_at is None:
        raise ValueError("the request has no created_at yet: flush it before rendering")
    digest = content_digest(request)
    with force_locale(language):
        title = _("Request for a permit to record at collection points")
        heading = _("Permit request %(reference)s", reference=request.reference)
        return look.build_pdf(
            lambda width: _story(request, title, digest, width),
            title=f"{title} – {request.reference}",
            subject=heading,
            heading=heading,
            created_at=request.created_at,
            identity=f"{request.reference}\n{language}\n{digest}",
            language=language,
        )


def _story(request: PermitRequest, title: str, digest: str, width: float) -> list[Flowable]:
    organisation = request.organisation
    area = request.preferred_region + (f", {request.preferred_district}" if request.preferred_district else "")
    return [
        *look.letterhead(
            _("Czech Statistical Office"), _("Data box ID %(box)s", box=look.OFFICE_DATA_BOX), title, width
        ),
        *look.section(
            _("Request"),
            look.facts(
                [(_("Request number"), request.reference)],
                [(_("Election"), request.election.display_name)],
                [(_("Round"), str(request.round_number))],
            ),
        ),
        *look.section(
            _("Applicant"),
            look.facts(
                [(_("Organisation"), f"{organisation.name} ({_('IČO')} {organisation.ico})")],
                [(_("Newsroom"), request.newsroom_name)],
                [(_("Newsroom address"), request.newsroom_address)],
                [(_("Applicant"), request.applicant_name)],
                [(_("Phone"), request.applicant_phone)],
                [(_("E-mail"), request.applicant_email)],
            ),
        ),
        *look.section(_("Persons to hold a permit"), _persons(request, width)),
        *look.section(
            _("Recording"),
            look.facts(
                [(_("Kind of recording"), ", ".join(label("recording_kind", kind) for kind in request.kinds))],
                [(_("Intended scope"), request.scope)],
            ),
        ),
        *look.section(
            _("Preferred place and time"),
            look.facts(
                [(_("Region or district"), area)],
                [(_("Collection points"), ", ".join(p.label for p in request.preferred_points))],
                [(_("Time"), request.preferred_times)],
            ),
            Paragraph(
                look.escaped(
                    _("The office decides the place and the time so that the collection point's work is not disturbed.")
                ),
                look.SMALL,
            ),
        ),
        *look.section(_("Content fingerprint"), look.facts([(_("SHA-256 of the content"), digest)])),
        *look.section(
            _("Signature and submission"),
            look.notice(
                [
                    _(
                        "Sign this document with a recognised electronic signature without changing it, and upload "
                        "it in the media portal on the page of the permit requests for this election."
                    ),
                ]
            ),
        ),
    ]


def _persons(request: PermitRequest, width: float) -> Table:
    rows: list[list[Flowable]] = [
        [Paragraph(look.escaped(text), look.CELL_HEAD) for text in (_("No."), _("Full name"), _("Phone"), _("E-mail"))]
    ]
    rows += [
        [
            Paragraph(f"{number}.", look.BODY),
            *(Paragraph(look.escaped(value) or "–", look.BODY) for value in (p.name, p.phone, p.email)),
        ]
        for number, p in enumerate(request.persons, 1)
    ]
    if not request.persons:
        rows.append(
            [
                Paragraph("–", look.BODY),
                Paragraph(look.escaped(_("None")), look.BODY),
                Paragraph("", look.BODY),
                Paragraph("", look.BODY),
            ]
        )
    number_width = 12 * mm
    rest = (width - number_width) / 3
    table = Table(rows, colWidths=[number_width, rest, rest, rest], repeatRows=1)
    table.setStyle(look.listing_style())
    return table
