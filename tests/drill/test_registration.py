"""The drill's portal side without a running portal: data messages, the allowlist, the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drill.office import ensure_databox_signer, portal_environment, round_plans
from drill.plan import Fate, make_plan
from drill.registration import data_message, expected_entries

T0 = datetime(2027, 3, 28, 0, 30, 17, tzinfo=UTC)  # the night Prague switches to summer time


def test_data_message_is_what_the_portal_reads_from_the_data_box(tmp_path: Path) -> None:
    from portal.signatures.databox import DataboxError, parse_zfo

    signer = ensure_databox_signer(tmp_path)
    delivered = datetime(2027, 3, 27, 10, 15, 30, 250_000, tzinfo=UTC)
    pdf = b"%PDF-1.7\n%drill\n"
    zfo = data_message(
        pdf,
        message_id="1000000007",
        sender_box_id="drl0007",
        sender="Drill Media 08",
        delivered_at=delivered,
        signer_certificate=signer.certificate,
        signer_key=signer.key,
    )
    message = parse_zfo(zfo, trust_roots=[signer.root.read_bytes()])
    assert (message.message_id, message.sender_box_id, message.delivered_at) == ("1000000007", "drl0007", delivered)
    assert [a.data for a in message.attachments] == [pdf]
    other = ensure_databox_signer(tmp_path / "other")
    with pytest.raises(DataboxError) as refused:
        parse_zfo(zfo, trust_roots=[other.root.read_bytes()])
    assert refused.value.code == "signer_not_trusted"


def test_rounds_open_on_whole_minutes_so_a_permit_window_can_be_typed() -> None:
    plan = make_plan(T0)
    rounds = round_plans(plan)
    assert len(rounds) == 2
    for (opens, closes, starts, ends), (live_start, live_end) in zip(rounds, plan.schedule.live, strict=True):
        assert opens.second == opens.microsecond == 0
        assert opens < closes == starts == live_start < ends == live_end
        assert ends.replace(second=0) - opens >= timedelta(minutes=1)
    assert rounds[0][0] <= plan.schedule.applications_close_at < rounds[0][2]


def test_expected_allowlist_is_the_admitted_outlets_addresses() -> None:
    plan = make_plan(T0)
    admitted = {o.index for o in plan.outlets if o.admitted_ever}
    entries = expected_entries(plan, admitted)
    rejected = plan.outlet(Fate.REJECTED)
    assert all((a, "production") not in entries for a in rejected.production)
    duplicate = plan.outlet(Fate.DUPLICATE)
    assert (duplicate.production[0], "production") in entries
    assert len({a for a, _ in entries}) == len(entries)  # no address in both kinds


def test_environment_is_accepted_by_the_portal(tmp_path: Path) -> None:
    from portal.config import load_settings
    from portal.filming.office import load_signer

    env = portal_environment(tmp_path, "postgresql+psycopg://postgres@127.0.0.1/drill", 2525, "http://10.0.0.1:8000/")
    settings = load_settings(environ=env)
    assert settings["PORTAL_BASE_URL"] == "http://10.0.0.1:8000"
    assert settings["PORTAL_SMTP_PORT"] == 2525 and settings["PORTAL_MAIL_BACKEND"] == "smtp"
    assert len(settings["SECRET_KEY"]) >= 32
    assert all(Path(p).exists() for p in (*settings["PORTAL_TRUST_ROOTS"], *settings["PORTAL_DATABOX_ROOTS"]))
    assert load_signer(env["PORTAL_OFFICE_SIGNING_KEY"], env["PORTAL_OFFICE_SIGNING_CERT"]) is not None
    assert (
        portal_environment(tmp_path, "postgresql://x/y", 2525, "http://h")["PORTAL_SECRET_KEY"]
        == env["PORTAL_SECRET_KEY"]
    )
