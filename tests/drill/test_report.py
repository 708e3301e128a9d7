"""The drill's judging, without a network: who may fetch when, and each gate failing on its own evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drill import report
from drill.plan import Check, Fate, Plan, make_plan

T0 = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # the night Prague switches to summer time: times are UTC


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan(T0)


def seconds(plan: Plan, which: str) -> float:
    return dict((name, moment.timestamp()) for name, moment in plan.schedule.boundaries())[which]


def observation(address: str, t: float, outcome: str = "ok", malformed: bool = False) -> dict[str, Any]:
    return {"t": t, "d": 0.01, "a": address, "p": "/pls/prez2023/vysledky", "o": outcome, "s": 200, "m": malformed}


def test_outcome(plan: Plan) -> None:
    judge = report.Judge(plan, revoked_at=None)
    approved = plan.outlet(Fate.APPROVED)
    rejected = plan.outlet(Fate.REJECTED)
    live = seconds(plan, "live-1")
    assert judge.allowed(approved.test[0], live - 1) is True
    assert judge.allowed(approved.test[0], live + 0.5) is None  # inside the cut's leeway
    assert judge.allowed(approved.test[0], live + 3) is False
    assert judge.allowed(approved.production[0], live + 3) is True
    assert judge.allowed(rejected.production[0], live - 10) is False
    assert judge.allowed(plan.unknown[0], live - 10) is False
    closed = seconds(plan, "closed")
    assert judge.allowed(approved.production[0], closed + 3) is False
    assert judge.allowed(approved.test[0], seconds(plan, "testing-after-1") + 3) is True


def test_a_request_under_way_while_a_switch_passes_may_meet_either_side(plan: Plan) -> None:
    judge = report.Judge(plan, revoked_at=None)
    test_address = plan.outlet(Fate.APPROVED).test[0]
    start = seconds(plan, "live-2")
    refused_at_the_switch = {**observation(test_address, start - 0.001, "refused"), "d": 0.003}
    assert judge.allowed_during(refused_at_the_switch) is None
    refused_before_it = {**observation(test_address, start - 0.5, "refused"), "d": 0.003}
    assert judge.allowed_during(refused_before_it) is True


def test_a_revoked_outlet_is_allowed_until_revocation_and_judged_after_one_poll(plan: Plan) -> None:
    revoked = plan.outlet(Fate.REVOKED)
    at = plan.schedule.revoke_at.timestamp()
    judge = report.Judge(plan, revoked_at=at)
    assert judge.allowed(revoked.production[0], at - 1) is True
    assert judge.allowed(revoked.production[0], at + 1) is None
    assert judge.allowed(revoked.production[0], at + plan.timing.agent_interval + report.APPLY_LEEWAY + 0.1) is False


def test_the_duplicate_address_stays_allowed_for_its_other_owner(plan: Plan) -> None:
    first, second = [o for o in plan.outlets if o.fate is Fate.DUPLICATE]
    assert first.production[0] == second.production[0]
    judge = report.Judge(plan, revoked_at=None)
    assert judge.allowed(first.production[0], seconds(plan, "live-1") + 10) is True


BATCH = "/appdata/prez2023/20230127/odata/okrsky/vysledky_okrsky_00003.xml"


def batch_seen(plan: Plan, after: float, outcome: str, status: int) -> dict[str, Any]:
    """A production address's request for BATCH, ``after`` seconds after its publication (10 s into live-2)."""
    address = plan.outlet(Fate.APPROVED).production[1]
    published = seconds(plan, "live-2") + 10
    return {"t": published + after, "d": 0.01, "a": address, "p": BATCH, "o": outcome, "s": status, "m": False}


def clean_evidence(plan: Plan, **changes: Any) -> report.Evidence:
    approved = plan.outlet(Fate.APPROVED)
    revoked = plan.outlet(Fate.REVOKED)
    live = seconds(plan, "live-1")
    revoked_at = plan.schedule.revoke_at.timestamp()
    observations = [
        observation(approved.test[0], live - 0.2),
        observation(approved.test[0], live + 0.1, "timeout"),
        observation(approved.production[0], live + 1),
        observation(revoked.production[0], revoked_at + 1.5),
        observation(revoked.production[0], revoked_at + 3, "timeout"),
    ]
    observations += [
        batch_seen(plan, -1.0, "not_found", 404),
        batch_seen(plan, 2.9, "not_found", 404),  # within one refresh interval (2 s) + 1 s
        batch_seen(plan, 3.1, "ok", 200),
        batch_seen(plan, 4.5, "not_modified", 304),
    ]
    for name, moment in plan.schedule.boundaries():
        if name != "live-1":
            watched = approved.production[0] if name == "closed" else approved.test[0]
            at = moment.timestamp()
            before, after = ("ok", "timeout") if name != "testing-after-1" else ("timeout", "ok")
            observations += [observation(watched, at - 0.2, before), observation(watched, at + 0.2, after)]
    values: dict[str, Any] = {
        "plan": plan,
        "observations": observations,
        "upstream_hits": {"/pls/prez2023/vysledky": [100.0, 102.0, 104.05, 106.1]},
        "revoked_at": revoked_at,
        "mail": {"sent": 12, "received": 12, "lost": []},
        "checks": [Check("registration", "something", True)],
        "publications": {BATCH: seconds(plan, "live-2") + 10},
    }
    values.update(changes)
    return report.Evidence(**values)


def gates(verdict: report.Verdict) -> dict[str, bool]:
    return {g.name: g.ok for g in verdict.gates}


def test_clean_evidence_passes_every_gate(plan: Plan) -> None:
    verdict = report.judge(clean_evidence(plan))
    assert gates(verdict) == dict.fromkeys(gates(verdict), True)
    live = next(s for s in verdict.switches if s["name"] == "live-1")
    assert (round(live["before"], 3), round(live["after"], 3)) == (-0.2, 0.1)
    back = next(s for s in verdict.switches if s["name"] == "testing-after-1")
    assert (round(back["before"], 3), round(back["after"], 3)) == (-0.2, 0.2)


@pytest.mark.parametrize(
    ("change", "gate"),
    [
        ("malformed", ["malformed documents served"]),
        ("test-admitted-in-live", ["requests admitted from a refused address"]),
        # A late cut or revocation is also an admission of a refused address, once past its leeway.
        ("late-cut", ["requests admitted from a refused address", "test addresses cut at the live start"]),
        ("early-cut", ["requests refused to an allowed address", "test addresses cut at the live start"]),
        ("lost-mail", ["mail lost"]),
        ("double-fetch", ["upstream fetches per document per interval"]),
        ("slow-revocation", ["requests admitted from a refused address", "revocation at the firewall"]),
        ("failed-check", ["flows and checks"]),
        ("late-batch", ["published batches reached the clients"]),
        # A 5xx or a broken answer to an allowed address is also counted against the access gate.
        (
            "batch-5xx-before-publication",
            ["requests refused to an allowed address", "published batches reached the clients"],
        ),
        ("batch-never-served", ["requests refused to an allowed address", "published batches reached the clients"]),
        ("no-publications", ["published batches reached the clients"]),
    ],
)
def test_each_gate_fails_on_its_own_evidence(plan: Plan, change: str, gate: list[str]) -> None:
    evidence = clean_evidence(plan)
    approved = plan.outlet(Fate.APPROVED)
    live = seconds(plan, "live-1")
    observations = list(evidence.observations)
    changes: dict[str, Any] = {}
    if change == "malformed":
        observations.append(observation(approved.production[0], live + 5, malformed=True))
    elif change == "test-admitted-in-live":
        observations.append(observation(approved.test[0], live + 10))
    elif change == "late-cut":
        observations.append(observation(approved.test[0], live + 2.5))
    elif change == "early-cut":
        # The run-off's test addresses refused a second before the start, admitted never after.
        second = seconds(plan, "live-2")
        observations = [o for o in observations if not (o["a"] == approved.test[0] and o["t"] == second - 0.2)]
        observations += [
            observation(approved.test[0], second - 1.6),
            observation(approved.test[0], second - 1.0, "timeout"),
        ]
    elif change == "lost-mail":
        changes["mail"] = {"sent": 12, "received": 11, "lost": ["invitation to outlet03@drill.example"]}
    elif change == "double-fetch":
        changes["upstream_hits"] = {"/pls/prez2023/vysledky": [100.0, 100.4, 102.5]}
    elif change == "slow-revocation":
        revoked = plan.outlet(Fate.REVOKED)
        observations.append(observation(revoked.production[0], plan.schedule.revoke_at.timestamp() + 7.5))
    elif change == "late-batch":
        observations.append(batch_seen(plan, 3.2, "not_found", 404))
    elif change == "batch-5xx-before-publication":
        observations.append(batch_seen(plan, -0.5, "status", 502))
    elif change == "batch-never-served":
        observations = [o for o in observations if not (o["p"] == BATCH and o["t"] > seconds(plan, "live-2") + 10)]
        observations.append(batch_seen(plan, 3.5, "error", 0))
    elif change == "no-publications":
        changes["publications"] = {}
    elif change == "failed-check":
        changes["checks"] = [Check("registration", "late application refused", False, "201 Created")]
    verdict = report.judge(clean_evidence(plan, observations=observations, **changes))
    failed = [name for name, ok in gates(verdict).items() if not ok]
    assert failed == gate


def test_the_report_is_written_as_text_html_and_json(plan: Plan, tmp_path: Path) -> None:
    verdict = report.judge(clean_evidence(plan))
    summary = report.write(tmp_path, verdict, {"duration_seconds": 300}, [Check("set-up", "office <ready>", True)])
    assert summary.startswith("Election-night drill: PASSED")
    page = (tmp_path / "report.html").read_text()
    assert "office &lt;ready&gt;" in page and "<h2>Phase switches</h2>" in page
    assert BATCH in page and "+3.10 s" in page  # the batch table: first 200 after publication
    assert '"ok": true' in (tmp_path / "summary.json").read_text()
