"""The media access portal of the Czech Statistical Office: the Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.accounts import passwords
from portal.config import load_settings
from portal.unit_of_work import PortalApp

MIGRATIONS_DIRECTORY = str(Path(__file__).resolve().parent / "migrations")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal. ``config`` overrides the environment (tests pass their database here)."""
    app = PortalApp(__name__)
    app.config.update(load_settings(config))
    if app.config["PORTAL_TRUSTED_PROXIES"]:
        hops = app.config["PORTAL_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    passwords.configure(app.config["PORTAL_PASSWORD_PROFILE"])
    _init_extensions(app)
    _register_blueprints(app)

    from portal import errors, labels, security, templating, unit_of_work
    from portal.accounts import guard

    guard.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    labels.init_app(app)
    errors.init_app(app)
    unit_of_work.init_app(app)

    from portal.notifications import outbox

    outbox.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import i18n
    from portal.accounts import session as account_session
    from portal.extensions import babel, csrf, db, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIRECTORY)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    redis_url = app.config["PORTAL_REDIS_URL"]
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal")
    # Explicit per app: Flask-Limiter otherwise inherits the last app's setting (one extension object).
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    account_session.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from portal import views
    from portal.access.host_views import bp as hosts_bp
    from portal.access.views import bp as access_bp
    from portal.accounts.views import bp as accounts_bp
    from portal.audit.views import bp as audit_bp
    from portal.dashboard.views import bp as dashboard_bp
    from portal.elections.views import bp as elections_bp
    from portal.filming.staff_views import bp as filming_staff_bp
    from portal.filming.views import bp as filming_bp
    from portal.meetings.views import bp as meetings_bp
    from portal.night.views import bp as night_bp
    from portal.registration.views import bp as registration_bp

    app.register_blueprint(views.bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(elections_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(access_bp)
    app.register_blueprint(hosts_bp)
    app.register_blueprint(filming_bp)
    app.register_blueprint(filming_staff_bp)
    app.register_blueprint(meetings_bp)
    app.register_blueprint(night_bp)
    app.register_blueprint(dashboard_bp)

    from portal.legal.views import init_app as init_legal

    init_legal(app)

    from portal import api

    api.init_app(app)
