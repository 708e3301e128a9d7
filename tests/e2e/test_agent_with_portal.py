"""The firewall agent against the real portal: it pulls the signed snapshot over HTTP with an ops token,
applies it with the real nft in a network namespace, and its report is what staff see on the hosts page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select

from allowlist.addresses import AddressPolicy
from firewall.agent import Agent, AgentConfig
from firewall.apply import read_table
from portal.access import allowlist
from portal.access import service as decisions
from portal.access.hosts import FirewallHost
from portal.accounts.models import Role
from portal.api import service as tokens
from portal.db import utcnow
from portal.extensions import db
from portal.registration.models import Application
from tests.factories import make_test_election
from tests.firewall.netns import namespace, nft_in, require_nft_and_netns

pytestmark = pytest.mark.netns


@pytest.fixture
def ns() -> Iterator[str]:
    require_nft_and_netns()
    with namespace("csu-agent-portal") as name:
        yield name


def test_the_agent_applies_the_portals_snapshot_and_staff_see_its_report(
    live_server, ns, tmp_path: Path, make_staff, make_application
):
    with live_server.app.app_context():
        election = make_test_election(code="prez2099")
        reviewer = make_staff()
        make_application(election, production=["192.0.2.10"], test=["2001:db8::5"], state="approved", staff=reviewer)
        pending = make_application(election, production=["192.0.2.20"], state="submitted")
        secret = tokens.mint(
            make_staff(role=Role.OPS), "agent", lifetime_days=30, second_factor_passed=True, at=utcnow()
        ).secret
        public_key = load_pem_public_key(allowlist.public_key_pem())
        db.session.commit()
        pending_id = pending.id

    config = AgentConfig(
        portal=live_server.url,
        election="prez2099",
        public_key=public_key,  # type: ignore[arg-type]
        token=secret,
        host="xml-test-1",
        state_dir=tmp_path / "state",
        policy=AddressPolicy(allow_documentation=True),
    )
    agent = Agent(config, nft=nft_in(ns), log=lambda line: None)
    assert agent.once() == 0

    table = read_table("inet", "csu_results", nft=nft_in(ns))
    assert table is not None
    assert table.sets["prod4"] == {"192.0.2.10"} and table.sets["test6"] == {"2001:db8::5"}
    with live_server.app.app_context():
        host = db.session.scalar(select(FirewallHost).where(FirewallHost.host == "xml-test-1"))
        assert host is not None and host.version == 1 and host.status.value == "applied"
        assert host.counts["prod4"] == 1 and host.phase == "testing"

        # A decision in the portal reaches the host at the next poll, as version 2.
        decisions.approve(db.session.get(Application, pending_id).latest, staff=db.session.merge(reviewer), at=utcnow())
        db.session.commit()
    assert agent.once() == 0
    assert read_table("inet", "csu_results", nft=nft_in(ns)).sets["prod4"] == {"192.0.2.10", "192.0.2.20"}
    with live_server.app.app_context():
        db.session.expire_all()
        host = db.session.scalar(select(FirewallHost).where(FirewallHost.host == "xml-test-1"))
        assert host.version == 2
