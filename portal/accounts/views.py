"""Sign-up, sign-in, second factor, password reset, profile and organisation pages."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal import unit_of_work
from portal.accounts import policy, service, tokens
from portal.accounts.access import load_organisation
from portal.accounts.errors import (
    EmailNotConfirmed,
    EmailTaken,
    InvalidCredentials,
    InvalidSecondFactor,
    InvalidToken,
    OrganisationRegistered,
    SignInDelayed,
)
from portal.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    OrganisationForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SecondFactorForm,
    SignUpForm,
)
from portal.accounts.messages import codes_delayed_message, error_message
from portal.accounts.models import Organisation, User
from portal.accounts.policy import Action
from portal.accounts.session import (
    PENDING_SECOND_FACTOR,
    end_session,
    has_second_factor_in_session,
    mark_second_factor,
    start_session,
)
from portal.db import utcnow
from portal.extensions import db, limiter
from portal.navigation import safe_next_url
from portal.notifications.outbox import enqueue

bp = Blueprint("accounts", __name__, template_folder="templates")

PENDING_TOTP_SECRET = "pending_totp_secret"  # noqa: S105 - a session key, not a secret


def _login_limit() -> str:
    return str(current_app.config["PORTAL_LOGIN_RATE_LIMIT"])


def _only_posts() -> bool:
    return request.method != "POST"


def _external(endpoint: str, **values: object) -> str:
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _queue_confirmation(user: User) -> None:
    """Queue the confirmation mail in the request's transaction (the outbox sends it after the commit)."""
    enqueue(
        user.email,
        "accounts/mail/confirm.txt",
        user.language,
        at=utcnow(),
        organisation_name=user.organisation.name if user.organisation else "",
        link=_external("accounts.confirm_email", token=tokens.confirmation_token(user)),
    )


def _queue_signup_notice(user: User) -> None:
    """Tell an account's owner that someone tried to register with their address."""
    enqueue(
        user.email,
        "accounts/mail/signup_existing.txt",
        user.language,
        at=utcnow(),
        login_link=_external("accounts.login"),
        reset_link=_external("accounts.request_reset"),
    )


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, exempt_when=_only_posts)
def signup() -> str | Response:
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = service.sign_up(
                organisation_name=form.organisation_name.data,
                ico=form.ico.data,
                address=form.address.data,
                website=form.website.data or "",
                email=form.email.data,
                password=form.password.data,
                language=form.language.data,
                at=utcnow(),
            )
        except EmailTaken:
            # The same answer as a registration: the address's owner hears of it, nobody else.
            existing = service.find_user_by_email(form.email.data)
            if existing is not None:
                _queue_signup_notice(existing)
            return render_template("accounts/check_email.html", email=service.normalise_email(form.email.data))
        except OrganisationRegistered:
            unit_of_work.refused()
            form.ico.errors.append(
                _("An organisation with this IČO is already registered. Ask its contact person to add you.")
            )
        else:
            _queue_confirmation(user)
            return render_template("accounts/check_email.html", email=user.email)
    return render_template("accounts/signup.html", form=form)


@bp.get("/confirm/<token>")
def confirm_email(token: str) -> str | Response:
    try:
        user_id, email = tokens.user_from_confirmation_token(token)
        service.confirm_address(user_id, email, at=utcnow())
    except InvalidToken:
        return render_template("accounts/invalid_link.html"), 400  # type: ignore[return-value]
    flash(_("Your e-mail address is confirmed. You can sign in now."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, exempt_when=_only_posts)
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.email.data, form.password.data, at=utcnow())
        except (InvalidCredentials, EmailNotConfirmed) as refusal:
            # Answered here, not raised: the request commits the failure's count towards the address's delay.
            form.form_errors.append(error_message(refusal))
        except SignInDelayed as delayed:
            unit_of_work.refused()
            form.form_errors.append(error_message(delayed))
        else:
            next_url = safe_next_url(request.args.get("next"), "dashboard.start")
            if user.has_second_factor:
                session[PENDING_SECOND_FACTOR] = user.session_token
                return redirect(url_for("accounts.second_factor", next=next_url))
            start_session(user, second_factor=False)
            if user.is_staff:
                return redirect(url_for("accounts.enrol_second_factor"))
            return redirect(next_url)
    return render_template("accounts/login.html", form=form)


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, exempt_when=_only_posts)
def second_factor() -> str | Response:
    """The code step of a staff sign-in (or a re-check for an already signed-in user)."""
    pending = session.get(PENDING_SECOND_FACTOR)
    user = current_user if current_user.is_authenticated else None
    if user is None and pending:
        user = db.session.scalar(select(User).where(User.session_token == pending))
    if user is None or not user.has_second_factor:
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            service.verify_second_factor(user, form.code.data, at=utcnow())
        except InvalidSecondFactor as wrong:
            # Answered here, not raised: the request commits the failure's count towards the account's delay.
            form.code.errors.append(error_message(wrong))
        except SignInDelayed as delayed:
            unit_of_work.refused()
            form.code.errors.append(codes_delayed_message(delayed))
        else:
            if current_user.is_authenticated:
                mark_second_factor(user)
            else:
                start_session(user, second_factor=True)
            return redirect(safe_next_url(request.args.get("next"), "dashboard.start"))
    return render_template("accounts/second_factor.html", form=form)


@bp.route("/account/second-factor", methods=["GET", "POST"])
def enrol_second_factor() -> str | Response:
    """Set up TOTP: show a secret and its QR code; store it once a valid code proves it works."""
    if current_user.has_second_factor and has_second_factor_in_session(current_user):
        flash(_("Your second factor is set up."), "info")
        return redirect(url_for("accounts.profile"))
    if current_user.has_second_factor:
        return redirect(url_for("accounts.second_factor"))
    secret = session.get(PENDING_TOTP_SECRET) or service.new_totp_secret()
    session[PENDING_TOTP_SECRET] = secret
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            service.enrol_second_factor(current_user, secret, form.code.data, at=utcnow())
        except InvalidSecondFactor as wrong:
            unit_of_work.refused()
            form.code.errors.append(error_message(wrong))
        else:
            session.pop(PENDING_TOTP_SECRET, None)
            mark_second_factor(current_user)
            flash(_("Your second factor is set up."), "success")
            return redirect(url_for("site.home"))
    uri = service.totp_provisioning_uri(current_user, secret)
    return render_template("accounts/enrol_second_factor.html", form=form, secret=secret, qr=_qr_data_uri(uri))


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@bp.post("/logout")
def logout() -> Response:
    """Sign out here and everywhere else: a copied session cookie stops working too."""
    if current_user.is_authenticated:
        service.end_every_session(current_user)
    end_session()
    flash(_("You have been signed out."), "info")
    return redirect(url_for("site.home"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, exempt_when=_only_posts)
def request_reset() -> str | Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = service.find_user_by_email(form.email.data)
        if user is not None and user.active:
            enqueue(
                user.email,
                "accounts/mail/reset.txt",
                user.language,
                at=utcnow(),
                link=_external("accounts.reset_password", user_id=user.id, token=tokens.reset_token(user)),
            )
        # The same answer whether or not the address has an account.
        return render_template("accounts/check_email.html", email=form.email.data, reset=True)
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<int:user_id>/<token>", methods=["GET", "POST"])
def reset_password(user_id: int, token: str) -> str | Response:
    user = db.session.get(User, user_id)
    try:
        if user is None:
            raise InvalidToken()
        tokens.check_reset_token(token, user)
    except InvalidToken:
        return render_template("accounts/invalid_link.html"), 400  # type: ignore[return-value]
    form = ResetPasswordForm()
    if form.validate_on_submit():
        revoked = service.reset_password(user, form.password.data, at=utcnow())
        enqueue(
            user.email,
            "accounts/mail/password_reset_done.txt",
            user.language,
            at=utcnow(),
            revoked_tokens=revoked,
            reset_link=_external("accounts.request_reset"),
        )
        end_session()
        flash(_("Your password has been changed. Sign in with the new one."), "success")
        if revoked:
            flash(
                _(
                    "Every sign-in of your account has ended; API tokens revoked: %(count)d.",
                    count=len(revoked),
                ),
                "info",
            )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, exempt_when=_only_posts)
def change_password() -> str | Response:
    """A new password; every other session of the person ends, this one starts afresh."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        second_factor = has_second_factor_in_session(user)
        try:
            service.change_password(user, form.current_password.data, form.password.data, at=utcnow())
        except InvalidCredentials:
            # Answered here, not raised: the request commits the failure's count towards the address's delay.
            form.current_password.errors.append(_("This is not your current password."))
        except SignInDelayed as delayed:
            unit_of_work.refused()
            form.current_password.errors.append(error_message(delayed))
        else:
            enqueue(
                user.email,
                "accounts/mail/password_changed.txt",
                user.language,
                at=utcnow(),
                reset_link=_external("accounts.request_reset"),
            )
            start_session(user, second_factor=second_factor)
            flash(_("Your password has been changed. Every other sign-in of your account has ended."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
def profile() -> str | Response:
    form = ProfileForm(language=current_user.language)
    if form.validate_on_submit():
        service.set_language(current_user, form.language.data)
        session["language"] = form.language.data
        flash(_("Saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form)


@bp.get("/organisations/<int:organisation_id>")
def organisation(organisation_id: int) -> str:
    return render_template("accounts/organisation.html", organisation=load_organisation(organisation_id))


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int) -> str | Response:
    organisation = load_organisation(organisation_id, Action.EDIT)
    form = OrganisationForm(obj=organisation, organisation_name=organisation.name)
    if form.validate_on_submit():
        try:
            service.update_organisation(
                organisation,
                name=form.organisation_name.data,
                ico=form.ico.data,
                address=form.address.data,
                website=form.website.data or "",
                actor=current_user,
                at=utcnow(),
            )
        except OrganisationRegistered as taken:
            unit_of_work.refused()
            form.ico.errors.append(error_message(taken))
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.organisation", organisation_id=organisation.id))
    return render_template("accounts/organisation_edit.html", form=form, organisation=organisation)


@bp.get("/staff/organisations")
def organisations() -> str:
    rows = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("accounts/organisations.html", organisations=rows)


@bp.get("/staff/permissions")
def permissions() -> str:
    """The permission matrix, rendered from the access policy's table."""
    return render_template(
        "accounts/permissions.html",
        rows=list(policy.matrix_rows()),
        grantees=list(policy.Grantee),
        routes_of=policy.routes_of,
        scopes_by_role=policy.SCOPES_BY_ROLE,
    )
