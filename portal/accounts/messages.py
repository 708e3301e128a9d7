"""The user's words for the account errors.

The describer gives the general words (a refusal that reaches the unit of work is flashed with them); a
page that asks for something narrower (the current password, a code) picks the words that fit it.
"""

from __future__ import annotations

from flask_babel import gettext as _

from portal.accounts.errors import (
    AccountError,
    EmailNotConfirmed,
    EmailTaken,
    InvalidCredentials,
    InvalidSecondFactor,
    InvalidToken,
    OrganisationRegistered,
    SignInDelayed,
)
from portal.problems import describes


@describes(AccountError)
def error_message(error: AccountError) -> str:
    match error:
        case OrganisationRegistered():
            return _("An organisation with this IČO is already registered.")
        case EmailTaken():
            return _("An account with this e-mail already exists. Sign in, or reset its password.")
        case InvalidCredentials():
            return _("The e-mail or the password is wrong.")
        case EmailNotConfirmed():
            return _("Confirm your e-mail address first: open the link we sent you.")
        case InvalidToken():
            return _("The link has expired, was already used, or was copied incompletely.")
        case InvalidSecondFactor():
            return _("This code is not valid. Enter the current code from your authenticator.")
        case SignInDelayed(seconds=seconds):
            return _(
                "Too many wrong passwords for this e-mail address. Try again in %(seconds)d s.",
                seconds=seconds,
            )
    return _("This change is not possible.")


def codes_delayed_message(delayed: SignInDelayed) -> str:
    """The second factor's delay: counted per account, for wrong codes."""
    return _("Too many wrong codes for this account. Try again in %(seconds)d s.", seconds=delayed.seconds)
