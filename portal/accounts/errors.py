"""What can go wrong in accounts, with the data a view needs to explain it."""

from __future__ import annotations

from dataclasses import dataclass

from portal.problems import PortalError


class AccountError(PortalError):
    """Base of the account errors; each carries the form field it concerns, if any."""

    field: str | None = None


@dataclass
class EmailTaken(AccountError):
    email: str
    field: str | None = "email"


@dataclass
class OrganisationRegistered(AccountError):
    ico: str
    field: str | None = "ico"


class InvalidCredentials(AccountError):
    """Unknown e-mail, wrong password or a deactivated account: deliberately indistinguishable."""


class EmailNotConfirmed(AccountError):
    pass


class InvalidToken(AccountError):
    """A confirmation or reset link that is malformed, expired or already used."""


class InvalidSecondFactor(AccountError):
    field: str | None = "code"


@dataclass
class SignInDelayed(AccountError):
    """Too many wrong passwords for this e-mail address in a row: try again after ``seconds``."""

    seconds: int
