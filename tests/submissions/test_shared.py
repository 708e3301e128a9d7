"""What applications and permit requests share: the shapes of their refusals (each feature keeps its own
words for them), and the one normaliser of phone numbers and e-mail addresses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from portal.filming import errors as filming
from portal.problems import describe
from portal.registration import errors as registration
from portal.registration import signing
from portal.submissions import errors as shared
from portal.submissions.contacts import email_field, normalise_email, normalise_phone, phone_field

CLOSES = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["DeadlinePassed", "IllegalTransition", "ContentInvalid", "SignatureRequired"])
def test_each_feature_s_error_is_the_shared_shape_under_its_feature_s_base(name: str) -> None:
    shape = getattr(shared, name)
    for feature, base in ((registration, registration.RegistrationError), (filming, filming.FilmingError)):
        error_class = getattr(feature, name)
        assert issubclass(error_class, shape) and issubclass(error_class, base)
        assert error_class.code == shape.code


def test_a_refused_signature_likewise_and_a_stale_pdf_keeps_its_own_code() -> None:
    for error_class in (signing.SignatureRefused, filming.SignatureRefused):
        assert issubclass(error_class, shared.SignatureRefused) and error_class.code == "signature_refused"
    stale = signing.PdfStale(verdict=None)  # type: ignore[arg-type]
    assert isinstance(stale, registration.RegistrationError) and stale.code == "pdf_stale"


def test_the_errors_carry_their_data_and_the_feature_s_words(app) -> None:  # type: ignore[no-untyped-def]
    invalid = registration.ContentInvalid({"production": ("too_many", {"max": 5})}, {"production": []})
    assert invalid.code == "content_invalid"
    assert invalid.data == {"errors": {"production": ("too_many", {"max": 5})}, "entries": {"production": []}}
    assert filming.IllegalTransition(action="submit", state="submitted").data == {
        "action": "submit",
        "state": "submitted",
    }
    with app.test_request_context(), force_locale("en"):
        assert "applications were accepted" in describe(registration.DeadlinePassed(CLOSES))
        assert "permit requests were accepted" in describe(filming.DeadlinePassed(CLOSES))
        assert describe(registration.DeadlinePassed(CLOSES)) != describe(filming.DeadlinePassed(CLOSES))


def test_phones_are_e164_czech_by_default() -> None:
    assert normalise_phone("274 051 111") == "+420274051111"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("12") is None
    assert normalise_phone("not a number") is None


def test_fields_say_what_is_wrong_and_blank_is_allowed_unless_required() -> None:
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    assert phone_field("phone", "  ", False, errors) == "" and errors == {}
    assert phone_field("phone", "  ", True, errors) == "" and errors == {"phone": ("required", {})}
    assert phone_field("other", "12", False, errors) == "" and errors["other"] == ("invalid_phone", {})
    assert email_field("email", "nobody", True, errors) == "" and errors["email"] == ("invalid_email", {})
    assert email_field("ok", " eva@Zpravy.EXAMPLE ", True, errors) == "eva@zpravy.example"
    assert normalise_email("eva@") is None
