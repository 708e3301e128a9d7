"""The signed allowlist snapshot served to ops: what goes in, versioning, ETag, signature, access."""

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from allowlist.addresses import AddressPolicy
from allowlist.snapshot import load_snapshot
from portal.access import service as decisions
from portal.accounts.models import Role
from portal.db import utcnow
from portal.extensions import db
from tests.factories import sign_in

URL = "/api/v1/elections/prez2099/allowlist"


@pytest.fixture
def election(app, make_election):
    return make_election(code="prez2099")


@pytest.fixture
def ops_client(app, make_staff):
    ops = make_staff(role=Role.OPS)
    db.session.commit()
    client = app.test_client()
    sign_in(client, ops)
    return client


def public_key(client):
    response = client.get("/api/v1/allowlist/public-key")
    assert response.status_code == 200
    return load_pem_public_key(response.get_data())


def snapshot_of(client, response):
    return load_snapshot(
        response.get_data(), public_key=public_key(client), policy=AddressPolicy(allow_documentation=True)
    )


def test_the_snapshot_lists_the_addresses_in_force_and_verifies(ops_client, election, make_application, make_staff):
    staff = make_staff()
    approved = make_application(
        election, production=["192.0.2.1"], test=["198.51.100.1"], state="approved", staff=staff
    )
    make_application(election, production=["192.0.2.2"], state="submitted")  # not decided: not in
    rejected = make_application(election, production=["192.0.2.3"], state="submitted")
    decisions.reject(rejected.latest, staff=staff, at=utcnow())
    db.session.commit()

    response = ops_client.get(URL)
    assert response.status_code == 200 and response.headers["ETag"]
    snapshot = snapshot_of(ops_client, response)
    assert snapshot.election == "prez2099" and snapshot.version == 1
    assert {(e.address, e.kind) for e in snapshot.entries} == {("192.0.2.1", "production"), ("198.51.100.1", "test")}
    assert {e.organisation_id for e in snapshot.entries} == {approved.organisation_id}
    assert [w.starts_at for w in snapshot.live_windows] == [r.processing_starts_at for r in election.rounds]


def test_the_version_grows_only_when_the_content_changes(ops_client, election, make_application, make_staff):
    staff = make_staff()
    make_application(election, production=["192.0.2.1"], state="approved", staff=staff)
    db.session.commit()
    first = ops_client.get(URL)
    again = ops_client.get(URL)
    assert first.headers["ETag"] == again.headers["ETag"]
    assert ops_client.get(URL, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    make_application(election, production=["192.0.2.9"], state="approved", staff=staff)
    db.session.commit()
    changed = ops_client.get(URL, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert snapshot_of(ops_client, changed).version == 2


def test_a_revoked_approval_leaves_the_next_version(ops_client, election, make_application, make_staff):
    staff = make_staff()
    kept = make_application(election, production=["192.0.2.1"], state="approved", staff=staff)
    revoked = make_application(election, production=["192.0.2.2"], test=["198.51.100.2"], state="approved", staff=staff)
    db.session.commit()
    before = ops_client.get(URL)
    assert {e.address for e in snapshot_of(ops_client, before).entries} == {"192.0.2.1", "192.0.2.2", "198.51.100.2"}

    decisions.revoke(revoked, staff=staff, at=utcnow())
    db.session.commit()
    after = ops_client.get(URL, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    snapshot = snapshot_of(ops_client, after)
    assert snapshot.version == snapshot_of(ops_client, before).version + 1
    assert {(e.address, e.organisation_id) for e in snapshot.entries} == {("192.0.2.1", kept.organisation_id)}


def test_a_tampered_snapshot_does_not_verify(ops_client, election, make_application, make_staff):
    from allowlist.snapshot import SnapshotError

    make_application(election, production=["192.0.2.1"], state="approved", staff=make_staff())
    db.session.commit()
    body = ops_client.get(URL).get_data().replace(b"192.0.2.1", b"192.0.2.7")
    with pytest.raises(SnapshotError):
        load_snapshot(body, public_key=public_key(ops_client), policy=AddressPolicy(allow_documentation=True))


@pytest.mark.parametrize("role", [Role.REVIEWER, None])
def test_only_ops_and_admins_may_fetch_it(app, election, make_staff, make_applicant, role):
    user = make_staff(role=role) if role else make_applicant()
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    assert client.get(URL).status_code == 403
    assert client.get("/api/v1/allowlist/public-key").status_code == 403


def test_an_unknown_election_is_404(ops_client, election):
    assert ops_client.get("/api/v1/elections/nope2099/allowlist").status_code == 404
