"""A submission refused after the draft was saved in the same request: nothing of the request is kept, and
the page shows the form with its errors beside the stored draft as it was before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.filming.models import PermitRequest, RequestState
from tests.factories import post_form, sign_in
from tests.filming.test_outlet_views import form_data


@pytest.fixture
def election(app, make_election):  # type: ignore[no-untyped-def]
    return make_election(code="prez2099")


@pytest.fixture
def outlet(app, make_applicant, make_organisation):  # type: ignore[no-untyped-def]
    return make_applicant(organisation=make_organisation(name="Zprávy Brno s.r.o."), email="eva@zpravy.example")


def test_a_refused_submission_keeps_the_stored_draft_and_shows_it(client, election, outlet) -> None:  # type: ignore[no-untyped-def]
    db.session.commit()
    sign_in(client, outlet)
    url = f"/organisations/{outlet.organisation_id}/filming/prez2099"
    assert post_form(client, url, {**form_data(), "save": "1"}).status_code == 302

    changed = {**form_data(newsroom_name="Zprávy Morava", **{"persons-1-phone": ""}), "submit_request": "1"}
    refused = post_form(client, url, changed)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'id="persons-1-phone-error-1"' in page and 'value="Zprávy Morava"' in page  # the form as sent
    assert "Uložená žádost je úplná." in page  # the stored draft, complete, not the refused content

    db.session.expire_all()
    request = db.session.scalar(select(PermitRequest))
    assert request.state is RequestState.DRAFT and request.newsroom_name == "Zprávy Brno"
    assert request.persons[1].phone == "+420602123456"
