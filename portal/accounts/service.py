"""Account rules: sign-up, confirmation, sign-in, passwords and the second factor.

Services flush and return; the request or command that called them commits once. A change someone makes
to an account or an organisation is recorded in the audit log here, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts import passwords, throttle
from portal.accounts.errors import (
    EmailNotConfirmed,
    EmailTaken,
    InvalidCredentials,
    InvalidSecondFactor,
    InvalidToken,
    OrganisationRegistered,
    SignInDelayed,
)
from portal.accounts.ico import normalise_ico
from portal.accounts.models import Organisation, Role, User, new_session_token
from portal.audit.service import record, snapshot
from portal.extensions import db

#: Codes from the previous and the next 30-second step are accepted (clock drift).
TOTP_VALID_WINDOW = 1
#: What the audit log keeps of an organisation.
ORGANISATION_FIELDS = ("name", "ico", "address", "website")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _ensure_email_free(email: str) -> None:
    if find_user_by_email(email) is not None:
        raise EmailTaken(email)


def register_outlet(
    *,
    organisation_name: str,
    ico: str,
    address: str,
    website: str,
    email: str,
    password: str,
    language: str,
) -> User:
    """Create a media organisation and its first applicant, unconfirmed."""
    ico = normalise_ico(ico)
    if _ico_taken(ico):
        raise OrganisationRegistered(ico)  # public knowledge (the company register), checked first
    # Hashed before the e-mail check, so a taken address answers as slowly as a new one.
    password_hash = passwords.hash_password(password)
    _ensure_email_free(email)
    organisation = Organisation(
        name=organisation_name.strip(), ico=ico, address=address.strip(), website=website.strip()
    )
    user = User(
        email=normalise_email(email),
        password_hash=password_hash,
        role=Role.APPLICANT,
        organisation=organisation,
        language=language,
    )
    try:
        # A savepoint: a concurrent sign-up that won the race fails only this part, not the request.
        with db.session.begin_nested():
            db.session.add_all([organisation, user])
    except IntegrityError as error:
        _ensure_email_free(email)
        raise OrganisationRegistered(ico) from error
    return user


def sign_up(
    *,
    organisation_name: str,
    ico: str,
    address: str,
    website: str,
    email: str,
    password: str,
    language: str,
    at: datetime,
    actor_label: str | None = None,
) -> User:
    """:func:`register_outlet`, recorded as "organisation.registered" by its first applicant."""
    user = register_outlet(
        organisation_name=organisation_name,
        ico=ico,
        address=address,
        website=website,
        email=email,
        password=password,
        language=language,
    )
    record(
        "organisation.registered",
        user.organisation,
        actor=user,
        at=at,
        after={**snapshot(user.organisation, ORGANISATION_FIELDS), "applicant": user.email},
        actor_label=actor_label,
    )
    return user


def update_organisation(
    organisation: Organisation, *, name: str, ico: str, address: str, website: str, actor: User, at: datetime
) -> None:
    """Change the organisation's details; recorded as "organisation.updated" when anything changed."""
    ico = normalise_ico(ico)
    if _ico_taken(ico, besides=organisation.id):
        raise OrganisationRegistered(ico)
    before = snapshot(organisation, ORGANISATION_FIELDS)
    organisation.name = name.strip()
    organisation.ico = ico
    organisation.address = address.strip()
    organisation.website = website.strip()
    db.session.flush()
    after = snapshot(organisation, ORGANISATION_FIELDS)
    if after != before:
        record("organisation.updated", organisation, actor=actor, at=at, before=before, after=after)


def _ico_taken(ico: str, besides: int | None = None) -> bool:
    query = select(func.count()).select_from(Organisation).where(Organisation.ico == ico)
    if besides is not None:
        query = query.where(Organisation.id != besides)
    return bool(db.session.scalar(query))


def create_staff(
    *,
    email: str,
    role: Role,
    password: str,
    language: str,
    at: datetime,
    actor: User | None = None,
    actor_label: str | None = None,
) -> User:
    """A staff account, confirmed by whoever creates it (recorded); it must still enrol a second factor."""
    if not role.is_staff:
        raise ValueError(f"{role} is not a staff role")
    _ensure_email_free(email)
    user = User(
        email=normalise_email(email),
        password_hash=passwords.hash_password(password),
        role=role,
        language=language,
        email_confirmed_at=at,
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user.staff_created",
        user,
        actor=actor,
        at=at,
        after={"email": user.email, "role": role.value},
        actor_label=actor_label,
    )
    return user


def _check_password(email: str, password: str, *, at: datetime) -> User:
    """The user whose password this is, counted per address with the sign-in delays."""
    wait = throttle.seconds_to_wait(email, at=at)
    if wait:
        raise SignInDelayed(wait)
    user = find_user_by_email(email)
    if not passwords.password_matches(user.password_hash if user else None, password):
        throttle.note_failure(email, at=at)
        raise InvalidCredentials()
    assert user is not None
    throttle.forget(email)
    return user


def authenticate(email: str, password: str, *, at: datetime) -> User:
    """The user with these credentials, or an error that does not say which part was wrong.

    A wrong password is counted per e-mail address (``throttle``) and flushed: the caller keeps the
    count although it refuses the sign-in (a page answers the refusal itself, so its request commits;
    a refusal left to escape would roll the count back). While the address must wait, the password is
    not even looked at (:class:`SignInDelayed`).
    """
    user = _check_password(email, password, at=at)
    if not user.active:
        raise InvalidCredentials()
    if user.email_confirmed_at is None:
        raise EmailNotConfirmed()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = at
    db.session.flush()
    return user


def confirm_email(user: User, *, at: datetime) -> None:
    """Mark the address confirmed (unrecorded: a reset link or a set-up proves it); see :func:`confirm_address`."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = at
        db.session.flush()


def confirm_address(user_id: int, email: str, *, at: datetime) -> User:
    """Follow a confirmation link naming ``user_id`` and ``email``: the account must still have that
    address (:class:`InvalidToken` otherwise). The first confirmation is recorded; a repeated click is not."""
    user = db.session.get(User, user_id)
    if user is None or user.email != email:
        raise InvalidToken()
    if user.email_confirmed_at is None:
        confirm_email(user, at=at)
        record("user.email_confirmed", user, actor=user, at=at)
    return user


def set_language(user: User, language: str) -> None:
    """The language of the person's pages and mails."""
    user.language = language
    db.session.flush()


def end_every_session(user: User) -> None:
    """Sign ``user`` out everywhere: every session cookie names the old session token."""
    user.session_token = new_session_token()
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """Replace the password and sign out every existing session of the user."""
    user.password_hash = passwords.hash_password(password)
    end_every_session(user)


def change_password(user: User, current: str, new: str, *, at: datetime) -> None:
    """A signed-in person's new password: the current one is checked like a sign-in (the same
    per-address delays), then every session of theirs ends."""
    _check_password(user.email, current, at=at)
    set_password(user, new)
    record("user.password_changed", user, actor=user, at=at)


def reset_password(user: User, password: str, *, at: datetime) -> list[str]:
    """A password reset: the new password, every session ended, every API token revoked (a reset
    means the old password may be known to someone else, and so may a token made with it).
    Returns the names of the revoked tokens, for the notice mail."""
    from portal.api import service as api_tokens

    set_password(user, password)
    confirm_email(user, at=at)
    record("user.password_changed", user, actor=user, at=at)
    revoked = [token for token in api_tokens.tokens_of(user) if token.revoked_at is None]
    for token in revoked:
        api_tokens.revoke(token, actor=user, at=at)
    return [token.name for token in revoked]


def change_role(user: User, role: Role, *, actor: User | None, at: datetime, actor_label: str | None = None) -> None:
    """Move a staff member to another staff role; every session of theirs ends (the session module
    also ends them on any role change, however it is made)."""
    if not user.is_staff or not role.is_staff:
        raise ValueError("only staff change roles, and only to another staff role")
    if user.role is role:
        return
    before = user.role
    user.role = role
    end_every_session(user)
    record(
        "user.role_changed",
        user,
        actor=actor,
        at=at,
        before={"role": before},
        after={"role": role},
        actor_label=actor_label,
    )


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="ČSÚ volby média")


def _accepted_step(secret: str, code: str, at: datetime, last_step: int | None) -> int:
    """The time step that ``code`` belongs to; refuses wrong, stale and replayed codes."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise InvalidSecondFactor()
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                raise InvalidSecondFactor()
            return step
    raise InvalidSecondFactor()


def enrol_second_factor(user: User, secret: str, code: str, *, at: datetime) -> None:
    """Store ``secret`` once the user has proved with a code that the authenticator has it; recorded
    (without the secret)."""
    user.totp_last_step = _accepted_step(secret, code, at, None)
    user.totp_secret = secret
    db.session.flush()
    record("user.second_factor_enrolled", user, actor=user, at=at)


def verify_second_factor(user: User, code: str, *, at: datetime) -> None:
    """Accept a fresh code; wrong codes are counted per account with the sign-in delays (the caller keeps
    the count although it refuses, as for :func:`authenticate`), so the code cannot be guessed from many
    addresses."""
    key = f"second-factor:{user.id}"
    wait = throttle.seconds_to_wait(key, at=at)
    if wait:
        raise SignInDelayed(wait)
    if user.totp_secret is None:
        raise InvalidSecondFactor()
    try:
        user.totp_last_step = _accepted_step(user.totp_secret, code, at, user.totp_last_step)
    except InvalidSecondFactor:
        throttle.note_failure(key, at=at)
        raise
    throttle.forget(key)
    db.session.flush()
