"""The application PDF's bytes, pinned: an outlet may be signing a downloaded copy right now, and its
upload is bound to exactly these bytes. A change to the PDF's look, the font or reportlab shows here
(and then needs a plan for the pending signatures), not in the outlets' refused uploads."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.registration.pdf import render_application_pdf

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)

#: SHA-256 of the rendering of the version below, by language.
PINNED = {
    "cs": "7b0f3c4b39993ad6df50f002a5ba89a58c31f4bb523371eccc7ea0c52d787561",
    "en": "a33b5479293accd8264cf599be921538326f84df23ad24da70fbee94dd858a4c",
}


@pytest.mark.parametrize("language", ["cs", "en"])
def test_the_application_pdf_keeps_its_bytes(  # type: ignore[no-untyped-def]
    language, app, make_election, make_organisation, make_applicant, make_application
):
    election = make_election(code="prez2099")
    # Every input fixed: the factories number names, IČOs and e-mail addresses otherwise.
    organisation = make_organisation(name="Žluťoučký kůň, s.r.o.", ico="27074358")
    organisation.address = "Příčná 1892/4, 110 00 Praha 1"
    applicant = make_applicant(organisation=organisation, email="redakce@kun.example")
    application = make_application(
        election, applicant=applicant, production=("192.0.2.10", "2001:db8::10"), test=("198.51.100.5",), at=NOW
    )
    version = application.latest
    version.created_at = NOW
    version.note = "Připojujeme se přes dva nezávislé okruhy."
    db.session.flush()
    digest = hashlib.sha256(render_application_pdf(version, language=language)).hexdigest()
    assert digest == PINNED[language]
