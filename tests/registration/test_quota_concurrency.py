"""Two simultaneous submissions can never take an organisation over 5 production addresses."""

import threading

import pytest
from flask.testing import FlaskClient

from portal.accounts.models import Role
from portal.extensions import db
from portal.registration.models import AddressKind, AddressQuota, AddressSettings, Application
from portal.registration.quota import claimed_addresses
from tests.conftest import uses_postgresql
from tests.factories import csrf_token, sign_in

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not uses_postgresql(), reason="needs PostgreSQL: SQLite serialises all writers by itself"),
]

ROUNDS = 5


def submission(client: FlaskClient, application: Application) -> tuple[str, dict[str, str]]:
    data = {
        "contact_email": "redakce@outlet.example",
        "contact_phone": "274 051 111",
        "accept_terms": "y",
        "submit_application": "1",
        "csrf_token": csrf_token(client),
    }
    for index, address in enumerate(application.latest.addresses_of(AddressKind.PRODUCTION)):
        data[f"production-{index}"] = address
    return f"/organisations/{application.organisation_id}/applications/{application.id}", data


def post_together(requests: list[tuple[FlaskClient, str, dict[str, str]]]) -> list[int]:
    """Send the requests from parallel threads released at the same instant; their status codes."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def post(client: FlaskClient, url: str, data: dict[str, str]) -> None:
        barrier.wait()
        statuses.append(client.post(url, data=data).status_code)

    threads = [threading.Thread(target=post, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


def test_parallel_submissions_respect_the_production_limit(
    app, make_applicant, make_staff, make_election, make_application
):
    db.session.add(AddressSettings(id=1, allow_documentation=True))
    staff = make_staff(role=Role.REVIEWER)
    election = make_election(code="prez2099")
    db.session.commit()
    for round_ in range(ROUNDS):
        applicant = make_applicant()
        in_force = [f"192.0.2.{round_ * 10 + i}" for i in (1, 2, 3)]
        make_application(election, applicant, production=in_force, state="approved", staff=staff)
        # Each draft alone fits (3 + 2 = 5); both together would make 7.
        drafts = [
            make_application(election, applicant, production=[f"198.51.100.{round_ * 10 + n * 2 + i}" for i in (1, 2)])
            for n in (0, 1)
        ]
        db.session.commit()
        requests = []
        for draft in drafts:
            client = app.test_client()
            sign_in(client, applicant)
            requests.append((client, *submission(client, draft)))

        statuses = post_together(requests)

        assert sorted(statuses) == [200, 302], statuses  # one submitted, the other told about the limit
        db.session.expire_all()
        states = sorted(db.session.get(Application, draft.id).latest.state.value for draft in drafts)
        assert states == ["draft", "submitted"]
        claimed = claimed_addresses(applicant.organisation_id, election.id)
        quota = db.session.get(AddressQuota, (applicant.organisation_id, election.id))
        assert len(claimed[AddressKind.PRODUCTION]) == quota.production_count == 5
