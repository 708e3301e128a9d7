"""render(): snapshot tests per phase, family and format, the timeouts, the comments and every refusal.

The expected scripts live in tests/firewall/expected/; after a deliberate change, regenerate them with
``UPDATE_EXPECTED=1 .venv/bin/pytest tests/firewall/test_render.py`` and review the diff.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from allowlist.addresses import AddressPolicy
from allowlist.phase import LiveWindow, Phase, Schedule, phase_at
from allowlist.snapshot import Entry, Snapshot
from firewall.apply import check
from firewall.errors import RenderError
from firewall.render import (
    COMMENT_MAX,
    MAX_ELEMENT_TIMEOUT,
    Element,
    Ruleset,
    _canonical,
    build,
    render,
    timeouts_capped,
)
from tests.firewall.netns import namespace, nft_in, require_nft_and_netns, run

EXPECTED = Path(__file__).parent / "expected"
UPDATE = os.environ.get("UPDATE_EXPECTED") == "1"
DOCS = AddressPolicy(allow_documentation=True)

ROUND_1 = LiveWindow(1, datetime(2028, 1, 13, 13, tzinfo=UTC), datetime(2028, 1, 14, 13, tzinfo=UTC))
ROUND_2 = LiveWindow(2, datetime(2028, 1, 27, 13, tzinfo=UTC), datetime(2028, 1, 28, 13, tzinfo=UTC))
CLOSES = datetime(2028, 2, 5, 13, tzinfo=UTC)
ENTRIES_V4 = (
    Entry("192.0.2.10", "production", "ČTK", 7),
    Entry("192.0.2.9", "production", "Český rozhlas", 12),
    Entry("198.51.100.7", "test", "ČTK", 7),
    Entry("203.0.113.200", "test", 'Evil"; flush ruleset; #', 66),
)
ENTRIES_V6 = (
    Entry("2001:db8::a", "production", "Seznam.cz, a.s.", 9),
    Entry("2001:db8::5", "test", "ČTK", 7),
    Entry("2001:db8:1::1", "test", "Deník N\n} chain x {", 15),
)


def snapshot(entries: tuple[Entry, ...] = ENTRIES_V4 + ENTRIES_V6, **changes: object) -> Snapshot:
    base = Snapshot(
        election="prez2028",
        version=17,
        generated_at=datetime(2027, 12, 20, 10, tzinfo=UTC),
        live_windows=(ROUND_1, ROUND_2),
        closes_at=CLOSES,
        entries=entries,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


#: name -> (instant, family, entries); each is rendered in both formats.
CASES: dict[str, tuple[datetime, str, tuple[Entry, ...]]] = {
    "testing-inet": (datetime(2028, 1, 10, 12, tzinfo=UTC), "inet", ENTRIES_V4 + ENTRIES_V6),
    "between-rounds-inet": (datetime(2028, 1, 20, 0, 0, 30, tzinfo=UTC), "inet", ENTRIES_V4 + ENTRIES_V6),
    "live-inet": (datetime(2028, 1, 13, 14, tzinfo=UTC), "inet", ENTRIES_V4 + ENTRIES_V6),
    "closed-inet": (CLOSES, "inet", ENTRIES_V4 + ENTRIES_V6),
    "testing-ip": (datetime(2028, 1, 10, 12, tzinfo=UTC), "ip", ENTRIES_V4),
    "live-ip": (datetime(2028, 1, 13, 14, tzinfo=UTC), "ip", ENTRIES_V4),
    "testing-ip6": (datetime(2028, 1, 10, 12, tzinfo=UTC), "ip6", ENTRIES_V6),
    "live-ip6": (datetime(2028, 1, 13, 14, tzinfo=UTC), "ip6", ENTRIES_V6),
}
EXTENSION = {"nft": "nft", "json": "json"}


def rendered(case: str, format: str) -> str:
    at, family, entries = CASES[case]
    return render(snapshot(entries), at, family=family, format=format, policy=DOCS)  # type: ignore[arg-type]


@pytest.mark.parametrize("format", ["nft", "json"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_rendered_ruleset_matches_the_expected_file(case, format):
    path = EXPECTED / f"{case}.{EXTENSION[format]}"
    text = rendered(case, format)
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_EXPECTED=1 and review it"
    assert text == path.read_text(encoding="utf-8")


def test_every_expected_file_belongs_to_a_case():
    assert {p.name for p in EXPECTED.iterdir()} == {f"{c}.{e}" for c in CASES for e in EXTENSION.values()}


def test_the_order_of_the_entries_does_not_matter():
    at, _, entries = CASES["testing-inet"]
    for reordered in (entries[::-1], entries[3:] + entries[:3], entries[1::2] + entries[::2]):
        assert render(snapshot(reordered), at, policy=DOCS) == rendered("testing-inet", "nft")


def test_elements_are_in_numeric_address_order():
    ruleset = build(snapshot(), CASES["testing-inet"][0], policy=DOCS)
    prod4 = next(s for s in ruleset.sets if s.name == "prod4")
    assert [e.address for e in prod4.elements] == ["192.0.2.9", "192.0.2.10"]


# --- phases and timeouts --------------------------------------------------------------------------------


def element_lines(script: str, set_name: str) -> list[str]:
    block = re.search(rf"\tset {set_name} {{\n(.*?)\n\t}}", script, re.S)
    assert block, set_name
    return [line.strip() for line in block.group(1).splitlines() if re.match(r"\t\t\t[0-9a-f]", line)]


def test_testing_gives_test_elements_the_time_until_the_next_window_and_production_none():
    at = datetime(2028, 1, 10, 12, tzinfo=UTC)
    script = render(snapshot(), at, policy=DOCS)
    seconds = int((ROUND_1.starts_at - at).total_seconds())
    assert seconds == 262800
    for name in ("test4", "test6"):
        assert element_lines(script, name)
        assert all(f" timeout {seconds}s " in line for line in element_lines(script, name))
    for name in ("prod4", "prod6"):
        assert element_lines(script, name)
        assert not any("timeout" in line for line in element_lines(script, name))
    assert "flags timeout" not in script.split("set prod4")[1].split("set test4")[0]


def test_between_rounds_the_test_elements_run_until_the_next_round():
    at = ROUND_1.ends_at + timedelta(hours=1)
    ruleset = build(snapshot(), at, policy=DOCS)
    assert ruleset.phase is Phase.TESTING and ruleset.test_cut_at == ROUND_2.starts_at
    assert ruleset.test_timeout_ms(at) == int((ROUND_2.starts_at - at).total_seconds()) * 1000


def test_after_the_last_round_test_elements_run_until_closing():
    at = ROUND_2.ends_at + timedelta(hours=1)
    ruleset = build(snapshot(), at, policy=DOCS)
    assert ruleset.phase is Phase.TESTING and ruleset.test_cut_at == CLOSES


def test_a_window_after_closing_does_not_extend_the_test_elements():
    late = LiveWindow(1, CLOSES + timedelta(days=1), CLOSES + timedelta(days=2))
    at = CLOSES - timedelta(days=1)
    assert build(snapshot(live_windows=(late,)), at, policy=DOCS).test_cut_at == CLOSES


def test_timeouts_round_down_to_the_millisecond_so_the_kernel_cuts_neither_late_nor_a_second_early():
    at = ROUND_1.starts_at - timedelta(seconds=10, milliseconds=900, microseconds=700)
    ruleset = build(snapshot(), at, policy=DOCS)
    assert ruleset.test_timeout_ms(at) == 10_900
    assert all(" timeout 10s900ms " in line for line in element_lines(ruleset.script(at), "test4"))
    # libnftables JSON counts whole seconds: rounded down there.
    assert '"timeout": 10,' in ruleset.script(at, "json")


def test_less_than_a_second_before_the_window_the_test_elements_are_left_out():
    at = ROUND_1.starts_at - timedelta(milliseconds=600)
    ruleset = build(snapshot(), at, policy=DOCS)
    assert ruleset.phase is Phase.TESTING
    script = ruleset.script(at)
    assert element_lines(script, "test4") == [] and element_lines(script, "test6") == []
    assert len(element_lines(script, "prod4")) == 2
    assert ruleset.expected_sets(at)["test4"] == frozenset()


def test_the_timeout_counts_from_the_instant_the_script_is_written():
    at = datetime(2028, 1, 10, 12, tzinfo=UTC)
    ruleset = build(snapshot(), at, policy=DOCS)
    later = at + timedelta(minutes=30)
    assert ruleset.test_timeout_ms(later) == ruleset.test_timeout_ms(at) - 1_800_000
    assert f"timeout {ruleset.test_timeout_ms(later) // 1000}s" in ruleset.script(later)


@pytest.mark.parametrize(
    ("at", "phase", "filled"),
    [
        (datetime(2028, 1, 10, tzinfo=UTC), Phase.TESTING, {"prod4", "prod6", "test4", "test6"}),
        (ROUND_1.starts_at, Phase.LIVE, {"prod4", "prod6"}),
        (ROUND_2.ends_at - timedelta(microseconds=1), Phase.LIVE, {"prod4", "prod6"}),
        (CLOSES, Phase.CLOSED, set()),
        (CLOSES + timedelta(days=400), Phase.CLOSED, set()),
    ],
    ids=["testing", "live-start", "live-end", "closed", "long-closed"],
)
def test_which_sets_are_filled_in_each_phase(at, phase, filled):
    ruleset = build(snapshot(), at, policy=DOCS)
    assert ruleset.phase is phase
    assert {name for name, values in ruleset.expected_sets(at).items() if values} == filled
    assert ruleset.entries == len(ENTRIES_V4 + ENTRIES_V6)
    assert (ruleset.test_cut_at is not None) == ("test4" in filled)


def test_the_phase_is_the_one_allowlist_phase_computes():
    s = snapshot()
    for at in [ROUND_1.starts_at - timedelta(seconds=1), ROUND_1.starts_at, ROUND_1.ends_at, CLOSES]:
        assert build(s, at, policy=DOCS).phase is phase_at(Schedule(s.live_windows, s.closes_at), at)


class RegistrationSnapshot(Snapshot):
    """A snapshot whose schedule has a registration deadline (the portal's own schedule can)."""

    def phase_at(self, at: datetime) -> Phase:
        schedule = Schedule(self.live_windows, self.closes_at, registration_until=datetime(2028, 1, 1, tzinfo=UTC))
        return phase_at(schedule, at)


def test_registration_renders_like_testing():
    at = datetime(2027, 12, 28, tzinfo=UTC)
    s = snapshot()
    registration = RegistrationSnapshot(**{f: getattr(s, f) for f in s.__dataclass_fields__})
    ruleset = build(registration, at, policy=DOCS)
    assert ruleset.phase is Phase.REGISTRATION
    assert ruleset.test_cut_at == ROUND_1.starts_at
    assert ruleset.script(at).replace("phase registration", "phase testing") == render(s, at, policy=DOCS)


# --- the chain ------------------------------------------------------------------------------------------


def test_the_chain_filters_only_the_protected_ports_and_exempts_loopback():
    script = render(snapshot(), datetime(2028, 1, 10, tzinfo=UTC), ports=(8443, 80), policy=DOCS)
    chain = script.split("\tchain input {\n")[1]
    assert chain.splitlines()[:2] == [
        "\t\ttype filter hook input priority filter; policy accept;",
        '\t\tiifname "lo" accept',
    ]
    rules = [line.strip() for line in chain.splitlines()[2:] if line.startswith("\t\t")]
    assert rules == [
        "tcp dport { 80, 8443 } ct state new add @conn4 { ip saddr ct count over 256 } counter drop",
        "tcp dport { 80, 8443 } ct state new add @conn6 { ip6 saddr ct count over 256 } counter drop",
        "tcp dport { 80, 8443 } ip saddr @prod4 accept",
        "tcp dport { 80, 8443 } ip saddr @test4 accept",
        "tcp dport { 80, 8443 } ip6 saddr @prod6 accept",
        "tcp dport { 80, 8443 } ip6 saddr @test6 accept",
        "tcp dport { 80, 8443 } counter drop",
    ]
    # see firewall/render.py: every packet's source is checked; conntrack only counts new connections
    assert "established" not in script and "related" not in script
    assert [line for line in rules if "ct " in line] == rules[:2]
    assert all(line.endswith("drop") for line in rules if "ct " in line)


def test_the_connection_limit_is_configurable_and_zero_leaves_it_out():
    at = datetime(2028, 1, 10, tzinfo=UTC)
    script = render(snapshot(), at, connection_limit=40, policy=DOCS)
    assert "{ ip saddr ct count over 40 } counter drop" in script
    assert "{ ip6 saddr ct count over 40 } counter drop" in script
    unlimited = render(snapshot(), at, connection_limit=0, policy=DOCS)
    assert "ct count" not in unlimited and "conn4" not in unlimited
    v4_only = render(snapshot(ENTRIES_V4), at, family="ip", policy=DOCS)
    assert "@conn4" in v4_only and "conn6" not in v4_only
    listed = json.loads(render(snapshot(), at, connection_limit=40, format="json", policy=DOCS))["nftables"]
    counts = [e for c in listed if "rule" in c.get("add", {}) for e in c["add"]["rule"]["expr"] if "set" in e]
    assert [e["set"]["stmt"] for e in counts] == [[{"ct count": {"val": 40, "inv": True}}]] * 2


@pytest.mark.parametrize("limit", [-1, 1_000_001, 2.5, True, "256"])
def test_a_bad_connection_limit_is_refused(limit):
    with pytest.raises(RenderError) as caught:
        render(snapshot(), datetime(2028, 1, 10, tzinfo=UTC), connection_limit=limit, policy=DOCS)
    assert caught.value.code == "connection_limit"


def test_an_old_state_without_a_limit_keeps_none():
    ruleset = build(snapshot(), datetime(2028, 1, 10, tzinfo=UTC), policy=DOCS)
    state = ruleset.to_state()
    assert state["connection_limit"] == 256
    del state["connection_limit"]
    assert Ruleset.from_state(state).connection_limit == 0


def test_the_script_replaces_one_table_in_one_file():
    script = rendered("testing-inet", "nft")
    commands = [line for line in script.splitlines() if line and not line.startswith(("#", "\t", "}"))]
    assert commands == ["table inet csu_results {}", "delete table inet csu_results", "table inet csu_results {"]
    assert "flush ruleset" not in script.replace('comment "org 66: Evil flush ruleset"', "")


def test_another_table_name():
    script = render(snapshot(), datetime(2028, 1, 10, tzinfo=UTC), table="xml_host", policy=DOCS)
    assert "delete table inet xml_host\n" in script and "csu_results" not in script


# --- comments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("organisation", "comment"),
    [
        ("ČTK", "org 7: CTK"),
        ("Český rozhlas, a.s.", "org 7: Cesky rozhlas, a.s."),
        ('Evil"; flush ruleset; #', "org 7: Evil flush ruleset"),
        ("A\n}\ntable ip x {", "org 7: A table ip x"),
        ("Ω\u202e\x00'`$(id)", "org 7: (id)"),
        ("", "org 7"),
        ("   \t", "org 7"),
        ("x" * 200, ("org 7: " + "x" * 200)[:COMMENT_MAX]),
    ],
    ids=repr,
)
def test_comments_keep_a_safe_subset_of_the_organisation(organisation, comment):
    entry = Entry("192.0.2.1", "production", organisation, 7)
    ruleset = build(snapshot((entry,)), datetime(2028, 1, 10, tzinfo=UTC), policy=DOCS)
    assert ruleset.sets[0].elements[0].comment == comment
    assert len(comment) <= COMMENT_MAX


# --- refusals -------------------------------------------------------------------------------------------


def render_error(s: Snapshot, at: datetime | None = None, **options: object) -> RenderError:
    with pytest.raises(RenderError) as caught:
        render(s, at or datetime(2028, 1, 10, tzinfo=UTC), **{"policy": DOCS, **options})  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("192.0.2.1; flush ruleset", "junk"),
        ("192.0.2.1 }", "junk"),
        ('192.0.2.1 comment "x"', "junk"),
        ("192.0.2.1\n}", "junk"),
        ("192.0.2.0/24", "range"),
        ("10.0.0.1", "private"),
        ("::ffff:192.0.2.1", "ipv4_mapped"),
        ("", "empty"),
    ],
    ids=repr,
)
def test_a_bad_address_refuses_the_whole_snapshot(address, code):
    error = render_error(snapshot((*ENTRIES_V4, Entry(address, "test", "X", 3))))
    assert (error.code, error.address, error.address_code) == ("bad_entry", address, code)


def test_documentation_ranges_need_the_policy():
    error = render_error(snapshot(), policy=AddressPolicy())
    assert (error.code, error.address_code) == ("bad_entry", "documentation")


def test_an_address_that_is_not_a_string_is_a_bad_entry():
    assert render_error(snapshot((Entry(3221225985, "test", "X", 3),))).code == "bad_entry"  # type: ignore[arg-type]


def test_a_repeated_address_is_refused():
    error = render_error(snapshot((*ENTRIES_V4, Entry("2001:DB8::A", "test", "X", 3), *ENTRIES_V6)))
    assert (error.code, error.address) == ("duplicate_entry", "2001:db8::a")


@pytest.mark.parametrize(
    "entry",
    [Entry("192.0.2.1", "staging", "X", 3), Entry("192.0.2.1", "test", "X", 0), Entry("192.0.2.1", "test", "X", True)],  # type: ignore[arg-type]
    ids=["kind", "id-zero", "id-bool"],
)
def test_a_malformed_entry_is_refused(entry):
    assert render_error(snapshot((entry,))).code == "malformed_entry"
    earlier = Entry("198.51.100.1", entry.kind if entry.kind != "staging" else "test", "X", 1)
    assert render_error(snapshot((earlier, entry))).code == "malformed_entry"  # not hidden by the comment cache


@pytest.mark.parametrize(
    ("family", "entries"), [("ip", ENTRIES_V6), ("ip6", ENTRIES_V4), ("bridge", ENTRIES_V4), ("inet; flush", ())]
)
def test_a_family_that_cannot_hold_the_entries_is_refused(family, entries):
    assert render_error(snapshot(entries), family=family).code == "family"


@pytest.mark.parametrize("table", ["", "1table", "csu results", "csu;flush", "t" * 33, "tábor", "x}"])
def test_an_unsafe_table_name_is_refused(table):
    assert render_error(snapshot(), table=table).code == "table"


@pytest.mark.parametrize("ports", [(), (0,), (65536,), (80, 80), (True,), ("80",), "80", (80.0,)], ids=repr)
def test_bad_ports_are_refused(ports):
    assert render_error(snapshot(), ports=ports).code == "ports"


@pytest.mark.parametrize(
    ("field", "value"), [("election", "prez 2028\nflush ruleset"), ("version", 0), ("version", True)]
)
def test_a_bad_election_or_version_is_refused(field, value):
    assert render_error(snapshot(**{field: value})).code == field


def test_a_naive_instant_is_refused():
    assert render_error(snapshot(), at=datetime(2028, 1, 10)).code == "time"


def test_an_unknown_format_is_refused():
    assert render_error(snapshot(), format="yaml").code == "format"


@pytest.mark.parametrize(
    "element",
    [
        Element("192.0.2.1 }", "x"),
        Element("192.0.2.1", 'x" }'),
        Element("192.0.2.1", "a\nb"),
        Element("192.0.2.1", "x" * 49),
    ],
    ids=repr,
)
def test_the_serialiser_refuses_what_the_builder_would_never_make(element):
    at = datetime(2028, 1, 10, tzinfo=UTC)
    ruleset = build(snapshot(ENTRIES_V4), at, policy=DOCS)
    tampered = replace(ruleset, sets=(replace(ruleset.sets[0], elements=(element,)), *ruleset.sets[1:]))
    for format in ("nft", "json"):
        with pytest.raises(RenderError) as caught:
            tampered.script(at, format)  # type: ignore[arg-type]
        assert caught.value.code == "unsafe"


# --- the JSON form is the same ruleset ------------------------------------------------------------------


def test_the_json_form_holds_the_same_sets_and_timeouts():
    at = CASES["testing-inet"][0]
    ruleset = build(snapshot(), at, policy=DOCS)
    commands = json.loads(ruleset.script(at, "json"))["nftables"]
    sets = {c["add"]["set"]["name"]: c["add"]["set"] for c in commands if "set" in c.get("add", {})}
    for address_set in ruleset.sets:
        spec = sets[address_set.name]
        assert [e["elem"]["val"] for e in spec.get("elem", [])] == [e.address for e in address_set.elements]
        assert [e["elem"]["comment"] for e in spec.get("elem", [])] == [e.comment for e in address_set.elements]
        timeouts = {e["elem"].get("timeout") for e in spec.get("elem", [])}
        assert timeouts == ({ruleset.test_timeout_ms(at) // 1000} if address_set.times_out else {None})
        assert spec.get("flags") == (["timeout"] if address_set.times_out else None)
    table = {"family": "inet", "name": "csu_results"}
    assert commands[:4] == [
        {"metainfo": {"json_schema_version": 1}},
        {"add": {"table": table}},
        {"delete": {"table": table}},
        {"add": {"table": table}},
    ]


def test_the_ruleset_survives_its_state_form():
    ruleset = build(snapshot(), CASES["testing-inet"][0], policy=DOCS)
    assert Ruleset.from_state(json.loads(json.dumps(ruleset.to_state()))) == ruleset


def test_a_broken_state_form_is_refused():
    with pytest.raises(RenderError) as caught:
        Ruleset.from_state({"table": "csu_results"})
    assert caught.value.code == "malformed_state"


# --- nft accepts what we render -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nft_namespace():
    require_nft_and_netns()
    with namespace("csu-render") as name:
        yield name


@pytest.mark.netns
@pytest.mark.parametrize("format", ["nft", "json"])
@pytest.mark.parametrize("case", list(CASES))
def test_nft_check_accepts_every_rendered_script(nft_namespace, case, format):
    check(rendered(case, format), nft=nft_in(nft_namespace))


def normalised_listing(name: str) -> list[dict]:
    """``nft -j list table`` without handles and the expiry countdown, sets' elements sorted."""
    listing = json.loads(run("ip", "netns", "exec", name, "nft", "-j", "list", "table", "inet", "csu_results").stdout)
    objects = []
    for item in listing["nftables"]:
        if "metainfo" in item:
            continue
        ((kind, spec),) = item.items()
        spec = {k: v for k, v in spec.items() if k != "handle"}
        if "elem" in spec:
            spec["elem"] = sorted(
                ({k: v for k, v in e["elem"].items() if k != "expires"} for e in spec["elem"]), key=lambda e: e["val"]
            )
        objects.append({kind: spec})
    return objects


@pytest.mark.netns
@pytest.mark.parametrize("case", ["testing-inet", "live-inet", "closed-inet"])
def test_the_nft_and_json_forms_install_the_same_table(nft_namespace, case):
    at, family, entries = CASES[case]
    ruleset = build(snapshot(entries), at, family=family, policy=DOCS)
    listings = []
    for format in ("nft", "json"):
        script = ruleset.script(at, format)  # type: ignore[arg-type]
        run(*nft_in(nft_namespace), *(["-j"] if format == "json" else []), "-f", "-", input=script)
        listings.append(normalised_listing(nft_namespace))
    assert listings[0] == listings[1]
    assert any("rule" in o for o in listings[0])


@pytest.mark.netns
def test_the_first_apply_and_every_later_one_replace_the_table(nft_namespace):
    run(*nft_in(nft_namespace), "delete", "table", "inet", "csu_results", check=False)
    for case in ("testing-inet", "live-inet", "testing-inet"):
        run(*nft_in(nft_namespace), "-f", "-", input=rendered(case, "nft"))
    tables = run(*nft_in(nft_namespace), "list", "tables").stdout.split("\n")
    assert [t for t in tables if t] == ["table inet csu_results"]


def test_the_fast_ipv6_spelling_agrees_with_ipaddress():
    samples = ["2001:db8::1", "2001:db8:0:1:0:0:0:1", "2001:0:0:1:0:0:0:1", "2a00:1:0:0:1::", "2a00::", "2a00:0:1::1"]
    samples += [f"2a00:{i:x}:0:{i % 3}:0:0:{i % 5}:{i:x}" for i in range(0, 65536, 997)]
    samples += ["::1", "::ffff:192.0.2.1", "::192.0.2.1", "64:ff9b::192.0.2.1"]  # the embedded-IPv4 forms
    for text in samples:
        address = ipaddress.ip_address(text)
        assert _canonical(address) == str(address), text


def test_a_cut_further_than_the_longest_timeout_is_written_as_the_longest_timeout():
    """Test elements then expire early (never late); the agent renews them daily. nft refuses longer ones."""
    at = ROUND_1.starts_at - timedelta(days=400)
    ruleset = build(snapshot(), at, policy=DOCS)
    assert ruleset.test_timeout_ms(at) == MAX_ELEMENT_TIMEOUT * 1000
    assert all(f" timeout {MAX_ELEMENT_TIMEOUT}s " in line for line in element_lines(ruleset.script(at), "test4"))
    assert timeouts_capped(snapshot(), at)
    near = ROUND_1.starts_at - timedelta(days=3)
    assert not timeouts_capped(snapshot(), near)
    assert build(snapshot(), near, policy=DOCS).test_timeout_ms(near) == 3 * 86400 * 1000


@pytest.mark.netns
def test_nft_takes_the_longest_timeout(nft_namespace):
    at = ROUND_1.starts_at - timedelta(days=4000)
    run(*nft_in(nft_namespace), "-f", "-", input=render(snapshot(), at, policy=DOCS))
    listing = run(*nft_in(nft_namespace), "list", "set", "inet", "csu_results", "test4").stdout
    assert "timeout 20d " in listing
