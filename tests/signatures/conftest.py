"""Fixtures of the signature tests: the application PDF they sign and a validator with the test PKI's trust."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.signatures import Verdict, validate_signed_pdf
from tests.signatures.helpers import Validate
from tests.signatures.pki import TestPKI, unsigned_pdf


@pytest.fixture(scope="session")
def application_pdf() -> bytes:
    """The "generated application" the tests sign: three pages."""
    return unsigned_pdf(3)


@pytest.fixture
def validate_pdf(test_pki: TestPKI) -> Validate:
    """``validate_pdf(data, **overrides)``: the public entry point with the test PKI's trust, at now."""

    def run(data: bytes, **overrides: object) -> Verdict:
        overrides.setdefault("trust", test_pki.trust_config())
        overrides.setdefault("received_at", datetime.now(UTC))
        return validate_signed_pdf(data, **overrides)  # type: ignore[arg-type]

    return run
