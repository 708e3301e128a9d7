"""The user's words for the service's error codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.problems import describes
from portal.registration.errors import (
    ConflictsNotAcknowledged,
    ContentInvalid,
    DeadlinePassed,
    FourEyesRequired,
    IllegalTransition,
    QuotaExceeded,
    RegistrationError,
    SignatureRequired,
    StaleVersion,
)
from portal.signatures.databox_errors import DataboxError
from portal.submissions.messages import SIGNATURE_REASONS as SIGNATURE_REASONS  # re-exported: shared words
from portal.submissions.messages import deadline_day, signature_refused_message

if TYPE_CHECKING:
    from portal.registration.completeness import Problem

ADDRESS_REFUSALS = {
    "empty": _l("is empty"),
    "junk": _l("contains something other than one address"),
    "range": _l("is a range of addresses; enter single addresses"),
    "zone_id": _l("has a zone index (the part after the percent sign); enter the address alone"),
    "leading_zero": _l("has a number with a leading zero"),
    "not_an_address": _l("is not an IP address"),
    "private": _l("is a private address, not reachable from the internet"),
    "unique_local": _l("is a private (unique local) IPv6 address"),
    "loopback": _l("is a loopback address"),
    "link_local": _l("is a link-local address"),
    "multicast": _l("is a multicast address"),
    "reserved": _l("is in a reserved range"),
    "broadcast": _l("is the broadcast address"),
    "unspecified": _l("is the unspecified address"),
    "this_network": _l("is in the range 0.0.0.0/8"),
    "cgnat": _l("is a shared address of a provider's NAT (100.64.0.0/10); ask your provider for a public address"),
    "documentation": _l("is reserved for documentation"),
    "benchmarking": _l("is reserved for benchmarking"),
    "6to4": _l("is a 6to4 address; enter the IPv4 address behind it"),
    "nat64": _l("is a NAT64 address; enter the IPv4 or native IPv6 address"),
    "teredo": _l("is a Teredo tunnel address"),
    "ipv4_mapped": _l("is an IPv4-mapped IPv6 address; enter the IPv4 address"),
    "ipv4_compatible": _l("is a deprecated IPv4-compatible IPv6 address"),
    "ipv6_disabled": _l("is an IPv6 address, which the office does not accept for this election"),
    "site_local": _l("is a site-local IPv6 address"),
    "orchid": _l("is an ORCHID identifier, not an address"),
    "not_global": _l("is not a public internet address"),
    "duplicate": _l("is listed twice"),
}

FIELD_ERRORS = {
    "required": _l("This field is required."),
    "invalid_email": _l("Enter a valid e-mail address."),
    "invalid_phone": _l("Enter a valid phone number, for example +420 274 051 111."),
    "too_many": _l("At most %(max)d addresses."),
    "too_long": _l("At most %(max)d characters."),
    "production_and_test": _l("%(address)s is listed as both a production and a test address."),
}


def field_error_message(code: str, detail: dict[str, object]) -> str:
    if code == "address_empty" or (code.startswith("address_") and not detail.get("address")):
        return _("An address is empty.")
    if code.startswith("address_"):
        reason = ADDRESS_REFUSALS.get(code.removeprefix("address_"), ADDRESS_REFUSALS["not_global"])
        return _("%(address)s %(reason)s.", address=detail.get("address", ""), reason=reason)
    return str(FIELD_ERRORS[code]) % detail if detail else str(FIELD_ERRORS[code])


FIELD_NAMES = {
    "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Contact phone"),
    "production": _l("Production addresses"),
    "test": _l("Test addresses"),
    "accept_terms": _l("Terms"),
    "note": _l("Note"),
}


def field_name(name: str, position: int | None = None) -> str:
    """How the form names a field: ``Contact phone``, ``Production address 3`` (``position`` 0-based)."""
    if position is not None and name == "production":
        return _("Production address %(number)d", number=position + 1)
    if position is not None and name == "test":
        return _("Test address %(number)d", number=position + 1)
    return str(FIELD_NAMES.get(name, name))


def problem_message(problem: Problem) -> str:
    """The words for one problem of a draft: the service's error, or the field's own message."""
    if problem.error is not None:
        return error_message(problem.error)
    return field_error_message(problem.code, problem.detail)


@describes(RegistrationError)
def error_message(error: RegistrationError) -> str:
    if isinstance(error, DeadlinePassed):
        return _(
            "The deadline has passed: applications were accepted until the end of %(day)s (Prague time).",
            day=deadline_day(error),
        )
    if isinstance(error, QuotaExceeded):
        kind = _("production") if error.kind == "production" else _("test")
        return _(
            "Your organisation would have %(claimed)d %(kind)s addresses in this election; at most %(limit)d "
            "are allowed across all its applications.",
            claimed=error.claimed,
            kind=kind,
            limit=error.limit,
        )
    if isinstance(error, SignatureRequired):
        return _(
            "This election requires a submission signed with a recognised electronic signature or sent "
            "through the data box."
        )
    if isinstance(error, FourEyesRequired):
        return _(
            "You recorded this submission from the data box yourself, so another reviewer must approve it (four eyes)."
        )
    if isinstance(error, ConflictsNotAcknowledged):
        return _(
            "Another organisation claims %(addresses)s. Check the conflict and confirm the approval.",
            addresses=", ".join(error.addresses),
        )
    from portal.registration.signing import AttachmentNotBound, PdfStale, SignatureRefused

    if isinstance(error, PdfStale):
        return _(
            "The signed PDF is out of date: the application changed after the PDF was downloaded, so the "
            "signature covers different content. Download the PDF again, sign it and upload it."
        )
    if isinstance(error, SignatureRefused):
        return signature_refused_message(error)
    if isinstance(error, AttachmentNotBound):
        return _("The attachment is neither the PDF the portal generated for this application nor a signed copy of it.")
    if isinstance(error, ContentInvalid):
        from portal.registration.completeness import content_problems

        problems = " ".join(f"{field_name(p.field, p.position)}: {problem_message(p)}" for p in content_problems(error))
        return _("The application is not complete or not valid: %(problems)s", problems=problems)
    if isinstance(error, IllegalTransition):
        return _("This is not possible in the application's current state.")
    if isinstance(error, StaleVersion):
        return _("The application has changed since you opened it; check the new version.")
    return _("The application could not be changed.")


DATABOX_ERRORS = {
    "not_cms": _l("This is not a data message (.zfo) file."),
    "signature_invalid": _l("The data message's signature is not valid: the file was changed."),
    "weak_algorithm": _l(
        "The data message is signed with %(algorithm)s, an algorithm retired for signatures: "
        "it cannot prove today that it was not changed."
    ),
    "revoked": _l("The data-box system's certificate was revoked before the message was signed."),
    "signer_not_trusted": _l("The data message is not signed by the data-box system."),
    "not_a_message": _l("The file does not contain a data message."),
    "wrong_recipient": _l("The message was not sent to the office's data box."),
    "malformed_xml": _l("The data message cannot be read."),
    "too_large": _l("The file is too large."),
}


@describes(DataboxError)
def databox_error_message(error: DataboxError) -> str:
    code = getattr(error, "code", "")
    text = str(DATABOX_ERRORS.get(code, DATABOX_ERRORS["malformed_xml"]))
    if code == "weak_algorithm":
        return text % {"algorithm": getattr(error, "algorithm", None) or "?"}
    return text
