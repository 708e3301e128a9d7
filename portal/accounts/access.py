"""Who may see what: staff roles with a second factor, and organisation isolation.

Permission is checked when the object is loaded, never sprinkled through view bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Organisation, Role, User
from portal.accounts.session import has_second_factor_in_session
from portal.extensions import db, login_manager

P = ParamSpec("P")
R = TypeVar("R")

ALL_STAFF = (Role.REVIEWER, Role.ADMIN, Role.OPS)


def is_verified_staff(user: User, roles: tuple[Role, ...] = ALL_STAFF) -> bool:
    """Staff in one of ``roles`` who passed the second factor in this session."""
    return user.is_authenticated and user.role in roles and has_second_factor_in_session(user)


def staff_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Only staff with one of ``roles`` (any staff role when none given) and a second factor."""
    allowed = roles or ALL_STAFF

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()  # type: ignore[no-any-return]
            if current_user.role not in allowed:
                abort(403)
            if not has_second_factor_in_session(current_user):
                if current_user.has_second_factor:
                    flash(_("Confirm your identity with a code from your authenticator."), "info")
                    return redirect(url_for("accounts.second_factor", next=request.full_path))  # type: ignore[return-value]
                flash(_("Staff accounts must set up a second factor before doing anything else."), "info")
                return redirect(url_for("accounts.enrol_second_factor"))  # type: ignore[return-value]
            return view(*args, **kwargs)

        wrapped.staff_roles = allowed  # type: ignore[attr-defined]
        return wrapped

    return decorator


def load_organisation(organisation_id: int) -> Organisation:
    """The organisation, if the current user may see it: its own members, or verified staff.

    Anyone else gets 404, so the existence of other organisations does not leak.
    """
    if not current_user.is_authenticated:
        abort(401)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    if current_user.organisation_id == organisation.id or is_verified_staff(current_user):
        return organisation
    abort(404)
