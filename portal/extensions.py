"""Flask extensions, created unbound here and bound to an app in ``create_app`` with ``init_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from portal.db import Model

db = SQLAlchemy(model_class=Model)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
#: Storage is chosen in ``create_app``: Redis when PORTAL_REDIS_URL is set, memory otherwise.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
