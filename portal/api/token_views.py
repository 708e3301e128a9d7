"""The page where people create and revoke their personal API tokens (``/account/tokens``)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from portal.accounts.policy import scopes_allowed
from portal.accounts.session import has_second_factor_in_session
from portal.api import service
from portal.api.forms import TokenForm
from portal.db import utcnow

bp = Blueprint("api_tokens", __name__, template_folder="templates")


def _offer(form: TokenForm) -> TokenForm:
    return form.offer(service.lifetimes_for(current_user), scopes_allowed(current_user.role))


def _page(form: TokenForm, minted: service.MintedToken | None = None) -> str:
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=service.tokens_of(current_user),
        minted=minted,
        revoke_form=FlaskForm(),
        can_mint=not current_user.is_staff or has_second_factor_in_session(current_user),
        now=utcnow(),
    )


@bp.get("/account/tokens")
def index() -> str:
    return _page(_offer(TokenForm()))


@bp.post("/account/tokens")
def create() -> str | Response:
    """Mint a token and show its secret once, on this answer only (it is not stored)."""
    if current_user.is_staff and not has_second_factor_in_session(current_user):
        flash(_("Confirm your identity with the second factor before creating a token."), "info")
        if current_user.has_second_factor:
            return redirect(url_for("accounts.second_factor", next=url_for("api_tokens.index")))
        return redirect(url_for("accounts.enrol_second_factor"))
    form = _offer(TokenForm())
    if not form.validate_on_submit():
        return _page(form)
    try:
        minted = service.mint(
            current_user,
            form.name.data,
            lifetime_days=form.lifetime.data,
            second_factor_passed=has_second_factor_in_session(current_user),
            at=utcnow(),
            scopes=form.chosen_scopes(scopes_allowed(current_user.role)),
        )
    except service.TokenRefused:
        abort(400)
    return _page(_offer(TokenForm(formdata=None)), minted)


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> Response:
    token = service.token_of(current_user, token_id)
    if token is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.revoke(token, actor=current_user, at=utcnow())
    flash(_("The token %(prefix)s… has been revoked.", prefix=token.prefix), "success")
    return redirect(url_for("api_tokens.index"))
