"""The form that creates a personal API token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.policy import Scope

LIFETIME_LABELS = {
    30: _l("30 days"),
    90: _l("90 days"),
    365: _l("1 year"),
    0: _l("No expiry (until revoked)"),
}

SCOPE_LABELS = {
    Scope.APPLICATIONS: _l("Your organisation's applications: read, change, submit, withdraw"),
    Scope.REVIEW: _l("Review: read applications and decide on them"),
    Scope.ALLOWLIST_READ: _l("Allowlist: read the signed snapshot and its public key (firewall agents, feed proxies)"),
    Scope.ALLOWLIST_REPORT: _l("Allowlist reports: a firewall host reports what it enforces"),
}


class MultiCheckboxField(SelectMultipleField):
    """A choice of several, as checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name of the token"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What the token is for, such as “newsroom importer”."),
    )
    lifetime = SelectField(_l("Valid for"), coerce=int)
    scopes = MultiCheckboxField(
        _l("What the token may do"),
        validators=[DataRequired(message=_l("Choose at least one."))],
        description=_l("Give a program only what it needs: a firewall agent or a feed proxy needs the allowlist only."),
    )

    def offer(self, lifetimes: tuple[int, ...], scopes: tuple[Scope, ...]) -> TokenForm:
        self.lifetime.choices = [SelectChoice(days, LIFETIME_LABELS[days]) for days in lifetimes]
        if self.lifetime.data is None:
            self.lifetime.data = 90
        if len(scopes) == 1:
            del self.scopes  # nothing to choose: the token gets the role's one scope
        else:
            self.scopes.choices = [SelectChoice(scope.value, SCOPE_LABELS[scope]) for scope in scopes]
        return self

    def chosen_scopes(self, allowed: tuple[Scope, ...]) -> list[Scope]:
        return [Scope(name) for name in self.scopes.data] if "scopes" in self else list(allowed)
