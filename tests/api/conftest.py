"""API fixtures: tokens minted through the service, and a client helper that speaks JSON."""

from __future__ import annotations

import json as jsonlib

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.api import service
from portal.db import utcnow
from portal.extensions import db
from portal.registration.models import AddressSettings


@pytest.fixture
def documentation_addresses(app):
    """Accept the documentation ranges (192.0.2.0/24 ...), as the demo does."""
    db.session.add(AddressSettings(id=1, allow_documentation=True))
    db.session.flush()


@pytest.fixture
def make_token():  # type: ignore[no-untyped-def]
    """A token for ``user`` (staff: as minted after the second factor); returns (token, secret). Flushes."""

    def make(user, name: str = "script", lifetime_days: int = 30, at=None, scopes=None):  # type: ignore[no-untyped-def]
        minted = service.mint(
            user, name, lifetime_days=lifetime_days, second_factor_passed=True, at=at or utcnow(), scopes=scopes
        )
        return minted.token, minted.secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def call(
    client: FlaskClient,
    method: str,
    url: str,
    secret: str | None = None,
    json: object = None,
    data: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """One API request: ``json`` is encoded, ``data`` is sent as it is (for broken bodies)."""
    all_headers = {**(bearer(secret) if secret else {}), **(headers or {})}
    body = jsonlib.dumps(json) if json is not None else data
    return client.open(url, method=method, data=body, headers=all_headers, content_type="application/json")


def error_code(response: TestResponse) -> str:
    """The stable code of an API error answer, after checking its shape."""
    assert response.mimetype == "application/json", (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return body["error"]["code"]
