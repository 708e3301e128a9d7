"""Who is signed in: Flask-Login in a signed cookie, with idle and absolute expiry.

The cookie names the user by their session token (``User.session_token``), looked up on every
request. Replacing the token ends every session of that person on the server side: sign-out, a
password reset and a role change do so, so a copied cookie stops working with them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import event, select
from sqlalchemy.orm.attributes import NEVER_SET, NO_VALUE

from portal.accounts.models import User, new_session_token
from portal.db import utcnow
from portal.extensions import db, login_manager

SIGNED_IN_AT = "signed_in_at"
SECOND_FACTOR = "second_factor_for"
PENDING_SECOND_FACTOR = "pending_second_factor"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        user = db.session.scalar(select(User).where(User.session_token == session_token))
        if user is None or not user.active or _login_too_old(app):
            return None
        return user

    @app.before_request
    def keep_session_fresh() -> None:
        # Permanent: the cookie carries an expiry and Flask refuses it after the idle lifetime.
        session.permanent = True


@event.listens_for(User.role, "set", active_history=True)
def _a_new_role_ends_every_session(target: User, value: object, oldvalue: object, initiator: object) -> None:
    """Whoever changes a role, however (a page, the API, the command line), the person signs in
    again under it: the sessions carrying the old session token end."""
    if oldvalue not in (NO_VALUE, NEVER_SET, None) and value != oldvalue:
        target.session_token = new_session_token()


def _login_too_old(app: Flask) -> bool:
    started = session.get(SIGNED_IN_AT)
    if started is None:
        return True
    age = utcnow() - datetime.fromtimestamp(float(started), UTC)
    return age > app.config["PORTAL_LOGIN_MAX_AGE"]


def _fresh_session() -> None:
    """Drop everything but the chosen language; clearing also drops Flask's permanent flag."""
    language = session.get("language")
    session.clear()
    session.permanent = True
    if language:
        session["language"] = language


def start_session(user: User, *, second_factor: bool) -> None:
    """Sign ``user`` in on a fresh session (no fixation): the old session's contents are dropped."""
    _fresh_session()
    login_user(user)
    session[SIGNED_IN_AT] = utcnow().timestamp()
    if second_factor:
        mark_second_factor(user)


def mark_second_factor(user: User) -> None:
    session[SECOND_FACTOR] = user.id


def has_second_factor_in_session(user: User) -> bool:
    return session.get(SECOND_FACTOR) == user.id and user.has_second_factor


def end_session() -> None:
    logout_user()
    _fresh_session()
