"""The drill's verdict: what the clients saw, judged against the plan, and the report in text and HTML.

Pure functions over the collected evidence (client observations, the simulator's upstream hits, the
mail tally, the flows' checks), so the judging is tested without a network.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from drill.plan import Check, Fate, Plan

#: Answers past the access check: a 404 is the proxy's answer for a batch the office has not published yet.
ADMITTED = ("ok", "not_modified", "not_found")
#: A published batch must reach the clients within one proxy refresh interval plus this (seconds).
PUBLICATION_LEEWAY = 1.0
#: Leeway for the gap between two upstream fetches of one document (network and timer jitter).
FETCH_GAP_LEEWAY = 0.1
#: How long after the revocation call the firewall may still admit the outlet, beyond one agent poll:
#: the agent's fetch, verification and ``nft -f``.
APPLY_LEEWAY = 2.0
#: The probes' step around a phase switch: the precision of its measured time.
PROBE_STEP = 0.2


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def _offset(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:+.2f} s"


def instant(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%S.%f")[:-3]


@dataclass(frozen=True)
class Evidence:
    """Everything the drill collected."""

    plan: Plan
    observations: list[dict[str, Any]]  #: the clients' polls and probes
    upstream_hits: dict[str, list[float]]  #: the simulator's arrival times per URL
    revoked_at: float | None  #: when the portal confirmed the revocation
    mail: Mapping[str, Any]  #: the mail tally: queued, sent, received, lost (a list)
    checks: list[Check]
    boundaries_applied: dict[str, float] = field(default_factory=dict)  #: agent applies seen per boundary
    #: Each numbered batch the clients poll (appdata path) and when the simulator published it (epoch s).
    publications: dict[str, float] = field(default_factory=dict)


class Judge:
    """Who may fetch when, by the plan: the rules the firewall and the proxy enforce, with the leeway the
    issue grants at each switch (cut within ``cut_tolerance``; revocation within one agent poll)."""

    def __init__(self, plan: Plan, revoked_at: float | None) -> None:
        self.plan = plan
        self.revoked_at = revoked_at
        schedule = plan.schedule
        self.windows = [(epoch(a), epoch(b)) for a, b in schedule.live]
        self.closes_at = epoch(schedule.closes_at)
        self.boundaries = [epoch(b) for _, b in schedule.boundaries()]
        self.owners: dict[str, list[tuple[str, Fate]]] = defaultdict(list)
        for outlet in plan.outlets:
            if outlet.admitted_ever:
                for address in outlet.production:
                    self.owners[address].append(("production", outlet.fate))
                for address in outlet.test:
                    self.owners[address].append(("test", outlet.fate))

    def phase(self, t: float) -> str:
        if t >= self.closes_at:
            return "closed"
        return "live" if any(a <= t < b for a, b in self.windows) else "testing"

    def allowed(self, address: str, t: float) -> bool | None:
        """True or False; None inside a switch's leeway, where either answer is acceptable."""
        tolerance = self.plan.timing.cut_tolerance
        if any(b <= t < b + tolerance for b in self.boundaries):
            return None
        revoked = self.revoked_at is not None and t >= self.revoked_at
        in_leeway = revoked and t < self.revoked_at + self.plan.timing.agent_interval + APPLY_LEEWAY  # type: ignore[operator]
        if in_leeway and any(fate is Fate.REVOKED for _, fate in self.owners.get(address, ())):
            return None
        phase = self.phase(t)
        for kind, fate in self.owners.get(address, ()):
            if fate is Fate.REVOKED and revoked:
                continue
            if phase == "testing" or (phase == "live" and kind == "production"):
                return True
        return False

    def allowed_during(self, observation: Mapping[str, Any]) -> bool | None:
        """``allowed`` over the whole request, from its start to its answer: a request under way while a
        switch passes may meet either side of it (None)."""
        start = self.allowed(observation["a"], observation["t"])
        end = self.allowed(observation["a"], observation["t"] + observation.get("d", 0.0))
        return start if start == end else None


@dataclass
class Gate:
    name: str
    ok: bool
    value: str
    bound: str


@dataclass
class OutletRow:
    outlet: str
    fate: str
    served: int = 0
    refused: int = 0  #: 403 from the proxy
    dropped: int = 0  #: connect timeouts: the firewall's drop
    last_seen: float | None = None


@dataclass
class Verdict:
    gates: list[Gate]
    switches: list[dict[str, Any]]
    outlets: list[OutletRow]
    upstream: list[dict[str, Any]]
    failed_checks: list[Check]
    checks: int
    requests: int
    batches: list[dict[str, Any]] = field(default_factory=list)  #: see ``_batches``

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.gates)


def judge(evidence: Evidence) -> Verdict:
    plan = evidence.plan
    judge_rules = Judge(plan, evidence.revoked_at)
    observations = evidence.observations

    malformed = [o for o in observations if o.get("m")]
    wrongly_admitted = [o for o in observations if o["o"] in ADMITTED and judge_rules.allowed_during(o) is False]
    wrongly_refused = [o for o in observations if o["o"] not in ADMITTED and judge_rules.allowed_during(o) is True]
    switches = _switches(plan, observations, judge_rules)
    cuts = [s for s in switches if s["name"].startswith("live-")]
    revocation = _revocation(plan, observations, evidence.revoked_at)
    upstream = _upstream(evidence.upstream_hits, plan.timing.proxy_refresh)
    worst_gap = min((u["min_gap"] for u in upstream if u["min_gap"] is not None), default=None)
    batches = _batches(evidence.publications, observations, plan.timing.proxy_refresh)
    late = max((b["last_404_after"] for b in batches if b["last_404_after"] is not None), default=None)
    bound = plan.timing.proxy_refresh + PUBLICATION_LEEWAY
    lost = list(evidence.mail.get("lost", ()))
    failed_checks = [c for c in evidence.checks if not c.ok]
    gates = [
        Gate("malformed documents served", not malformed, str(len(malformed)), "0"),
        Gate("requests admitted from a refused address", not wrongly_admitted, str(len(wrongly_admitted)), "0"),
        Gate(
            "requests refused to an allowed address",
            len(wrongly_refused) <= len(observations) * 0.001,
            str(len(wrongly_refused)),
            "at most 0.1 %",
        ),
        Gate("mail lost", not lost and evidence.mail.get("sent", 0) > 0, str(len(lost)), "0 (of some sent)"),
        Gate(
            "test addresses cut at the live start",
            bool(cuts) and all(_cut_on_time(s, plan.timing.cut_tolerance, PROBE_STEP) for s in cuts),
            "; ".join(f"last admitted {_offset(s['before'])}, first refused {_offset(s['after'])}" for s in cuts),
            f"admitted until the start ({PROBE_STEP:.1f} s probes), refused within {plan.timing.cut_tolerance:.0f} s",
        ),
        Gate(
            "revocation at the firewall",
            revocation is not None and revocation <= plan.timing.agent_interval + APPLY_LEEWAY,
            "n/a" if revocation is None else f"{revocation:.2f} s",
            f"<= one agent poll ({plan.timing.agent_interval:.0f} s) + {APPLY_LEEWAY:.0f} s",
        ),
        Gate(
            "upstream fetches per document per interval",
            bool(upstream) and worst_gap is not None and worst_gap >= plan.timing.proxy_refresh - FETCH_GAP_LEEWAY,
            f"max {max((u['max_per_interval'] for u in upstream), default=0)}; shortest gap "
            + ("n/a" if worst_gap is None else f"{worst_gap:.2f} s"),
            f"1 (gap >= {plan.timing.proxy_refresh:.0f} s less {FETCH_GAP_LEEWAY} s of timer jitter)",
        ),
        Gate(
            "published batches reached the clients",
            bool(batches)
            and all(b["served"] for b in batches)
            and (late is None or late <= bound)
            and not any(b["errors_before"] for b in batches),
            f"{sum(1 for b in batches if b['served'])}/{len(batches)} served; last 404 "
            + ("never after publication" if late is None else f"{late:.2f} s after publication")
            + f"; {sum(b['errors_before'] for b in batches)} 5xx before publication",
            f"all served; no 404 later than {plan.timing.proxy_refresh:.0f} s + {PUBLICATION_LEEWAY:.0f} s "
            "after publication; no 5xx for a batch not yet published",
        ),
        Gate("flows and checks", not failed_checks, f"{len(evidence.checks) - len(failed_checks)} ok", "all ok"),
    ]
    return Verdict(
        gates=gates,
        switches=switches,
        outlets=_outlets(plan, observations),
        upstream=upstream,
        failed_checks=failed_checks,
        checks=len(evidence.checks),
        requests=len(observations),
        batches=batches,
    )


def _switches(plan: Plan, observations: list[dict[str, Any]], rules: Judge) -> list[dict[str, Any]]:
    """Each phase switch as the probes' new connections saw it, in seconds from its scheduled instant.

    A cut happened between the last admitted attempt and the first refused one after it; a return
    (test addresses after a round) between the last refused attempt and the first admitted one after it.
    """
    tests = {a for o in plan.outlets if o.fate in (Fate.APPROVED, Fate.DUPLICATE) for a in o.test}
    productions = {a for o in plan.outlets if o.fate is Fate.APPROVED for a in o.production}
    rows = []
    for name, moment in plan.schedule.boundaries():
        at = epoch(moment)
        watched = productions if name == "closed" else tests
        near = sorted(
            (o for o in observations if o["a"] in watched and at - 3 <= o["t"] <= at + 6), key=lambda o: o["t"]
        )
        admitted = [o["t"] for o in near if o["o"] in ADMITTED]
        refused = [o["t"] for o in near if o["o"] not in ADMITTED]
        if name.startswith("testing-after"):
            what = "test addresses admitted again"
            after = [t for t in admitted if t >= at - 1]
            last = max((t for t in refused if not after or t < min(after)), default=None)
            before, switched = last, min(after, default=None)
        else:
            what = "test addresses cut" if name.startswith("live-") else "everybody cut"
            before = max(admitted, default=None)
            switched = min((t for t in refused if before is None or t > before), default=None)
        rows.append(
            {
                "name": name,
                "scheduled": at,
                "what": what,
                # The last attempt in the old state and the first in the new one, from the scheduled instant.
                "before": None if before is None else before - at,
                "after": None if switched is None else switched - at,
                "attempts": len(near),
            }
        )
    return rows


def _cut_on_time(switch: dict[str, Any], tolerance: float, step: float) -> bool:
    """Admitted until one probe step before the switch, refused within ``tolerance`` after it."""
    before, after = switch["before"], switch["after"]
    return before is not None and after is not None and before >= -(step + 0.1) and after <= tolerance


def _revocation(plan: Plan, observations: list[dict[str, Any]], revoked_at: float | None) -> float | None:
    """Seconds from the staff's revocation to the last admitted request of the revoked outlet (0 if none)."""
    if revoked_at is None:
        return None
    outlet = plan.outlet(Fate.REVOKED)
    addresses = set(outlet.production)
    after = [o["t"] for o in observations if o["a"] in addresses and o["t"] >= revoked_at]
    if not after:
        return None  # nobody looked: the probe did not run
    admitted = [o["t"] for o in observations if o["a"] in addresses and o["t"] >= revoked_at and o["o"] in ADMITTED]
    return (max(admitted) - revoked_at) if admitted else 0.0


def _upstream(hits: Mapping[str, list[float]], refresh: float) -> list[dict[str, Any]]:
    rows = []
    for url, times in sorted(hits.items()):
        times = sorted(times)
        gaps = [b - a for a, b in pairwise(times)]
        span = times[-1] - times[0] if times else 0.0
        # The most fetches inside any window of one refresh interval.
        most, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= refresh - FETCH_GAP_LEEWAY:
                start += 1
            most = max(most, end - start + 1)
        rows.append(
            {
                "url": url,
                "fetches": len(times),
                "intervals": round(span / refresh) + 1 if times else 0,
                "min_gap": min(gaps) if gaps else None,
                "max_per_interval": most,
            }
        )
    return rows


def _batches(
    publications: Mapping[str, float], observations: Iterable[dict[str, Any]], refresh: float
) -> list[dict[str, Any]]:
    """Per published batch the clients polled: served after publication at all; the latest request start
    (seconds after publication) still answered 404; the 5xx answers to requests started before publication.

    Only publications up to the last request for the batch count: a batch published after the clients
    stopped was never theirs to see.
    """
    by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in observations:
        if o["p"] in publications:
            by_path[o["p"]].append(o)
    rows = []
    for path, published in sorted(publications.items(), key=lambda item: item[1]):
        seen = by_path.get(path, [])
        if not any(o["t"] >= published + refresh + PUBLICATION_LEEWAY for o in seen):
            continue
        after = [o for o in seen if o["t"] >= published]
        late = [o["t"] - published for o in after if o["o"] == "not_found"]
        rows.append(
            {
                "path": path,
                "published": published,
                "served": any(o["o"] in ("ok", "not_modified") for o in after),
                "first_served_after": min((o["t"] - published for o in after if o["o"] == "ok"), default=None),
                "last_404_after": max(late, default=None),
                "errors_before": sum(1 for o in seen if o["t"] < published and (o.get("s") or 0) >= 500),
            }
        )
    return rows


def _outlets(plan: Plan, observations: Iterable[dict[str, Any]]) -> list[OutletRow]:
    owner = {address: (name, kind) for address, name, kind in plan.clients()}
    fates = {o.name: o.fate.value for o in plan.outlets}
    rows: dict[str, OutletRow] = {}
    for o in observations:
        name, _kind = owner.get(o["a"], ("", "unknown"))
        label = name or "(unknown addresses)"
        row = rows.setdefault(label, OutletRow(label, fates.get(name, "unknown")))
        if o["o"] in ADMITTED:
            row.served += 1
            row.last_seen = max(row.last_seen or 0.0, o["t"])
        elif o["o"] == "refused":
            row.refused += 1
        elif o["o"] == "timeout":
            row.dropped += 1
    return sorted(rows.values(), key=lambda r: r.outlet)


# --- rendering --------------------------------------------------------------------------------------------


def summary_json(verdict: Verdict, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ok": verdict.ok,
        "gates": [asdict(g) for g in verdict.gates],
        "switches": verdict.switches,
        "upstream": verdict.upstream,
        "batches": verdict.batches,
        "outlets": [asdict(r) for r in verdict.outlets],
        "failed_checks": [asdict(c) for c in verdict.failed_checks],
        "checks": verdict.checks,
        "requests": verdict.requests,
        **extra,
    }


def text(verdict: Verdict, extra: Mapping[str, Any]) -> str:
    lines = [f"Election-night drill: {'PASSED' if verdict.ok else 'FAILED'}", ""]
    for gate in verdict.gates:
        lines.append(f"{'ok  ' if gate.ok else 'FAIL'}  {gate.name}: {gate.value} (bound {gate.bound})")
    lines += ["", "Phase switches (scheduled, and what the firewall did, seen by new connections):"]
    for s in verdict.switches:
        lines.append(
            f"  {s['name']:<16} {instant(s['scheduled'])}  {s['what']}: last before {_offset(s['before'])},"
            f" first after {_offset(s['after'])}  ({s['attempts']} probes)"
        )
    served = sum(r.served for r in verdict.outlets)
    lines += ["", f"Requests observed: {verdict.requests}; served {served}; checks: {verdict.checks}"]
    for key, value in extra.items():
        lines.append(f"{key}: {value}")
    for check in verdict.failed_checks:
        lines.append(f"FAILED CHECK [{check.stage}] {check.name}: {check.detail}")
    return "\n".join(lines) + "\n"


def html_report(verdict: Verdict, extra: Mapping[str, Any], checks: list[Check]) -> str:
    e = html.escape

    def table(headers: list[str], rows: Iterable[Iterable[object]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Election-night drill</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}.FAIL{color:#b00;font-weight:bold}"
        ".ok{color:#070}</style></head><body>",
        f"<h1>Election-night drill: <span class='{'ok' if verdict.ok else 'FAIL'}'>"
        f"{'passed' if verdict.ok else 'FAILED'}</span></h1>",
        "<h2>Gates</h2>",
        table(
            ["", "gate", "value", "bound"],
            (("ok" if g.ok else "FAIL", g.name, g.value, g.bound) for g in verdict.gates),
        ),
        "<h2>Phase switches</h2>",
        table(
            ["switch", "scheduled (UTC)", "what", "last attempt before", "first attempt after", "probes"],
            (
                (
                    s["name"],
                    instant(s["scheduled"]),
                    s["what"],
                    _offset(s["before"]),
                    _offset(s["after"]),
                    s["attempts"],
                )
                for s in verdict.switches
            ),
        ),
        "<h2>Outlets</h2>",
        table(
            ["outlet", "fate", "served", "refused (403)", "dropped (firewall)", "last seen (UTC)"],
            (
                (r.outlet, r.fate, r.served, r.refused, r.dropped, "" if r.last_seen is None else instant(r.last_seen))
                for r in verdict.outlets
            ),
        ),
        "<h2>Upstream fetches per document</h2>",
        table(
            ["document", "fetches", "intervals", "shortest gap", "most in one interval"],
            (
                (
                    u["url"],
                    u["fetches"],
                    u["intervals"],
                    "" if u["min_gap"] is None else f"{u['min_gap']:.2f} s",
                    u["max_per_interval"],
                )
                for u in verdict.upstream
            ),
        ),
        "<h2>Published batches (appdata)</h2>",
        table(
            ["batch", "published (UTC)", "served", "first 200 after", "last 404 after", "5xx before"],
            (
                (
                    b["path"],
                    instant(b["published"]),
                    "yes" if b["served"] else "NO",
                    _offset(b["first_served_after"]),
                    _offset(b["last_404_after"]),
                    b["errors_before"],
                )
                for b in verdict.batches
            ),
        ),
        "<h2>Run</h2>",
        table(["", ""], ((k, json.dumps(v) if not isinstance(v, str) else v) for k, v in extra.items())),
        "<h2>Checks</h2>",
        table(
            ["", "stage", "check", "detail"], (("ok" if c.ok else "FAIL", c.stage, c.name, c.detail) for c in checks)
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def write(directory: Path, verdict: Verdict, extra: Mapping[str, Any], checks: list[Check]) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    summary = text(verdict, extra)
    (directory / "report.txt").write_text(summary)
    (directory / "report.html").write_text(html_report(verdict, extra, checks))
    (directory / "summary.json").write_text(json.dumps(summary_json(verdict, extra), indent=2, default=str))
    return summary
