"""The application PDF the outlet downloads, signs in its own signing tool and uploads back (R6).

The same version always renders to the same bytes, so the signed upload can be bound to what the
portal generated: reportlab runs in invariant mode (no clock), the document dates are the version's
``created_at``, the /ID is a digest of the version's identity and content, the font subsets are named
by their order (``AAAAAA+``), and nothing here reads the request, the clock or the process
environment, or stores anything. The caller stores the SHA-256 of the bytes. What does change the
bytes besides the version: its organisation and election records, the translations, the setting
``PORTAL_BASE_URL`` (quoted as where to upload), the portal's PDF look (:mod:`portal.pdfdoc`), and a
reportlab or font upgrade (both pinned in pyproject.toml).

``created_at`` and not ``submitted_at``: a signed upload submits the version, and the submission sets
``submitted_at`` to the upload time, after the outlet signed the PDF; deriving the date from it would
change the bytes of the document that was signed.

The output is a plain single-revision PDF (one classic cross-reference table, no incremental
updates, no encryption, no forms), which signing tools extend with an incremental update.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from portal.i18n import supported_languages
from portal.pdfdoc import (
    BODY,
    BULLET,
    CELL_HEAD,
    LABEL,
    NO_PADDING,
    SMALL,
    STRONG,
    SUBSECTION,
    TABLE,
    WIDTH,
    build_pdf,
    escaped,
    facts,
    letterhead,
    listing_style,
    notice,
    section,
)
from portal.pdfdoc import OFFICE_DATA_BOX as OFFICE_DATA_BOX  # re-exported for the page
from portal.registration.content import TERMS_VERSION, content_digest
from portal.registration.models import AddressKind, ApplicationVersion
from portal.registration.terms import terms_lines


def render_application_pdf(version: ApplicationVersion, *, language: str = "cs") -> bytes:
    """The application PDF of ``version`` in ``language``; the same version gives the same bytes."""
    if language not in supported_languages():
        raise ValueError(f"unsupported language: {language!r}")
    if version.created_at is None:
        raise ValueError("the version has no created_at yet: flush it before rendering")
    with force_locale(language):
        return _render(version, language)


def _render(version: ApplicationVersion, language: str) -> bytes:
    reference = version.application.reference
    digest = version.content_sha256 or content_digest(version)
    title = _("Application for media access to election results")
    heading = _("Application %(reference)s, version %(number)d", reference=reference, number=version.number)
    return build_pdf(
        lambda _width: _story(version, title, digest),
        heading=heading,
        # The document information; the keywords let a stale signed copy be recognised (signing.py).
        title=f"{title} – {reference}",
        subject=heading,
        author=_("Czech Statistical Office"),
        keywords=f"{reference}, SHA-256 {digest}",
        language=language,
        created_at=version.created_at,
        identity=f"{reference}\n{version.number}\n{language}\n{digest}",
    )


def _story(version: ApplicationVersion, title: str, digest: str) -> list[Flowable]:
    application = version.application
    organisation = application.organisation
    election = application.election
    terms_version = version.terms_version or TERMS_VERSION
    portal_url = str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")
    return [
        *letterhead(_("Czech Statistical Office"), _("Data box ID %(box)s", box=OFFICE_DATA_BOX), title),
        *section(
            _("Application"),
            facts(
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
        *section(
            _("Applicant"),
            facts(
                [(_("Organisation"), organisation.name)],
                [(_("IČO"), organisation.ico)],
                [(_("Address"), organisation.address)],
                [(_("Contact e-mail"), version.contact_email)],
                [(_("Contact phone"), version.contact_phone)],
            ),
        ),
        *section(
            _("IP addresses"),
            _side_by_side(
                [
                    Paragraph(escaped(_("Production addresses")), SUBSECTION),
                    _addresses(version.addresses_of(AddressKind.PRODUCTION)),
                ],
                [
                    Paragraph(escaped(_("Test addresses")), SUBSECTION),
                    _addresses(version.addresses_of(AddressKind.TEST)),
                ],
            ),
        ),
        *section(
            _("Terms of access (version %(version)s)", version=terms_version),
            *[Paragraph(escaped(line), BULLET, bulletText="•") for line in terms_lines(terms_version)],
            Spacer(0, 3),
            Paragraph(
                escaped(
                    _("The applicant accepts these terms.")
                    if version.terms_version
                    else _("The terms have not been accepted yet.")
                ),
                STRONG,
            ),
        ),
        *section(_("Note"), Paragraph(escaped(version.note) if version.note.strip() else "–", BODY)),
        *section(
            _("Content fingerprint"),
            facts([(_("SHA-256 of the content"), digest)]),
            Spacer(0, 3),
            Paragraph(
                escaped(_("The office compares this fingerprint with the application stored in the portal.")), SMALL
            ),
        ),
        *section(
            _("Signature and submission"),
            notice(
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


def _side_by_side(left: list[Flowable], right: list[Flowable]) -> Table:
    gap = 8 * mm
    half = (WIDTH - gap) / 2
    return Table(
        [[left, Spacer(0, 0), right]],
        colWidths=[half, gap, half],
        style=TableStyle([*TABLE, *NO_PADDING]),
    )


def _addresses(addresses: list[str]) -> Table:
    """The numbered addresses of one kind, or a row saying there are none."""
    rows: list[list[Any]] = [[Paragraph(escaped(_("No.")), CELL_HEAD), Paragraph(escaped(_("IP address")), CELL_HEAD)]]
    rows += [
        [Paragraph(f"{number}.", BODY), Paragraph(escaped(address), BODY)]
        for number, address in enumerate(addresses, 1)
    ]
    if not addresses:
        rows.append([Spacer(0, 0), Paragraph(escaped(_("None")), LABEL)])
    table = Table(rows, colWidths=[12 * mm, None], repeatRows=1)
    table.setStyle(listing_style())
    return table
