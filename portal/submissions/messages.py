"""The words for what every submission shares: a passed deadline's day and a refused signature's reasons."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.elections.prague import prague_day_of_deadline
from portal.submissions.errors import DeadlinePassed, SignatureRefused
from portal.templating import format_prague_date

#: Why a signed PDF was refused, by the validator's reason code, in words an editor can act on.
SIGNATURE_REASONS = {
    "malformed_pdf": _l("The file is not a readable PDF (or it is encrypted)."),
    "not_signed": _l("The PDF carries no electronic signature."),
    "integrity": _l("The signature does not match the document: the file was changed or damaged after signing."),
    "modified_after_signing": _l(
        "The document was changed after it was signed. Sign the downloaded PDF and upload it without further edits."
    ),
    "not_bound_to_original": _l(
        "This is not the PDF the portal generated for this application (or the application changed since you "
        "downloaded it). Download the PDF again, sign it and upload it."
    ),
    "not_trusted": _l("The signing certificate was not issued by a trusted certification authority."),
    "not_qualified": _l(
        "The signature is not a recognised electronic signature: it needs a qualified certificate for electronic "
        "signatures (for example from I.CA, PostSignum or eIdentity)."
    ),
    "seal_not_allowed": _l("The document is sealed with a company seal; this election needs a personal signature."),
    "expired": _l("The signing certificate had expired when the document was signed."),
    "revoked": _l("The signing certificate was revoked when the document was signed."),
    "revocation_unknown": _l("The revocation status of the signing certificate could not be checked."),
    "after_deadline": _l("The document was signed after the deadline."),
    "too_large": _l("The file is too large."),
    "timeout": _l("The file took too long to check; it may be damaged."),
}


def signature_reason_messages(reasons: Iterable[object]) -> list[str]:
    """The outlet's words for each refusal reason (codes without a message are named as they are)."""
    return [str(SIGNATURE_REASONS.get(str(reason), reason)) for reason in reasons]


def signature_refused_message(error: SignatureRefused) -> str:
    """Why the signed PDF was refused, reason by reason."""
    return _(
        "The signed PDF was not accepted: %(reasons)s",
        reasons=" ".join(signature_reason_messages(error.verdict.reasons)),
    )


def deadline_day(error: DeadlinePassed) -> str:
    """The last day (Prague time) on which the deadline still accepted submissions."""
    return format_prague_date(prague_day_of_deadline(error.closes_at))
