"""The HTTP server end to end on 127.0.0.1 (port 0, a thread): documents, validators, faults, control API."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from email.utils import format_datetime
from xml.etree.ElementTree import ParseError

import pytest
from defusedxml import ElementTree

from feedproxy.simulator import Clock, FaultRule, Simulation, SimulatorServer
from tests.feedproxy.simulator.conftest import child, local, parse

NATIONAL = "/pls/prez2023/vysledky"
BATCHES = "/pls/prez2023/vysledky_okrsky"


@pytest.fixture(scope="module")
def server(prez: Simulation) -> Iterator[SimulatorServer]:
    with SimulatorServer(prez, "127.0.0.1", 0, Clock(300.0, frozen=True)) as running:
        yield running


@pytest.fixture(autouse=True)
def clean(server: SimulatorServer) -> None:
    server.faults.clear()
    server.stats.reset()
    server.clock.set(300.0, frozen=True)


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()


def request(
    server: SimulatorServer, path: str, method: str = "GET", headers: dict[str, str] | None = None, body: object = None
) -> Answer:
    host, port = server.address
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=payload, headers=headers or {})
        return Answer(connection.getresponse())
    finally:
        connection.close()


def control(server: SimulatorServer, path: str, body: object = None, method: str | None = None) -> object:
    answer = request(server, f"/_control/{path}", method or ("GET" if body is None else "POST"), body=body)
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(answer.body)


def well_formed(body: bytes) -> bool:
    try:
        ElementTree.fromstring(body)
    except ParseError:
        return False
    return True


# -- documents --------------------------------------------------------------------------------------------


def test_serves_the_simulation_at_the_clocks_time(server: SimulatorServer, prez: Simulation) -> None:
    answer = request(server, NATIONAL)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert answer.body == prez.document(NATIONAL, "", 300.0).body
    assert int(answer.headers["Content-Length"]) == len(answer.body)
    rendered = prez.resolve(NATIONAL, "", 300.0)
    assert answer.headers["ETag"] == rendered.etag
    assert answer.headers["Last-Modified"] == format_datetime(rendered.last_modified, usegmt=True)

    batch = request(server, f"{BATCHES}?kolo=1&davka=2")
    assert batch.status == 200 and batch.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert child(parse(batch.body), "DAVKA").get("PORADI_DAVKY") == "2"
    newest = request(server, f"{BATCHES}?kolo=1")
    assert child(parse(newest.body), "DAVKA").get("PORADI_DAVKY") == str(prez.batch_at(300.0))


def test_head_has_the_headers_without_the_body(server: SimulatorServer) -> None:
    answer = request(server, NATIONAL, "HEAD")
    assert answer.status == 200 and answer.body == b""
    assert int(answer.headers["Content-Length"]) == len(request(server, NATIONAL).body)


def test_unchanged_document_is_not_modified_until_the_next_batch(server: SimulatorServer, prez: Simulation) -> None:
    first = request(server, NATIONAL)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert request(server, NATIONAL, headers={"If-None-Match": etag}).status == 304
    not_modified = request(server, NATIONAL, headers={"If-Modified-Since": modified})
    assert not_modified.status == 304 and not_modified.body == b"" and not_modified.headers["ETag"] == etag
    assert request(server, NATIONAL, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status == 200

    server.clock.set(prez.count.published_at(prez.batch_at(300.0) + 1), frozen=True)
    changed = request(server, NATIONAL, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert request(server, NATIONAL, headers={"If-Modified-Since": modified}).status == 200


def test_one_connection_serves_one_request_after_another(server: SimulatorServer) -> None:
    """Keep-alive, as a pooling proxy uses it: a 304 without a body must not upset the next answer."""
    host, port = server.address
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", NATIONAL)
        first = connection.getresponse()
        body, etag = first.read(), first.headers["ETag"]
        connection.request("GET", NATIONAL, headers={"If-None-Match": etag})
        second = connection.getresponse()
        assert (second.status, second.read()) == (304, b"")
        connection.request("GET", f"{BATCHES}?kolo=1&davka=1")
        third = connection.getresponse()
        assert third.status == 200 and child(parse(third.read()), "DAVKA") is not None
        connection.request("HEAD", NATIONAL)
        fourth = connection.getresponse()
        assert (fourth.status, fourth.read()) == (200, b"")
        connection.request("GET", NATIONAL)
        assert connection.getresponse().read() == body
    finally:
        connection.close()


def test_unknown_path_is_404_text(server: SimulatorServer) -> None:
    for path in ("/pls/prez2023/vysledky_kraj?nuts=CZ010", "/pls/ps2021/vysledky", "/", "/favicon.ico"):
        answer = request(server, path)
        assert answer.status == 404
        assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert 0 < len(answer.body) < 200
    assert request(server, f"{BATCHES}?davka=abc").status == 400
    assert request(server, NATIONAL, "POST", body={}).status == 405


def test_before_the_count_the_batches_answer_with_the_error_document(server: SimulatorServer) -> None:
    server.clock.set(-60.0, frozen=True)
    answer = request(server, f"{BATCHES}?kolo=1")
    assert answer.status == 200
    assert child(parse(answer.body), "CHYBA").get("KOD_CHYBY") == "30"


def test_running_clock_moves_the_count_on(prez: Simulation) -> None:
    with SimulatorServer(prez, clock=Clock(prez.count.published_at(1) - 0.2)) as running:
        before = request(running, NATIONAL).headers["ETag"]
        time.sleep(0.3)
        assert request(running, NATIONAL).headers["ETag"] != before


# -- faults -----------------------------------------------------------------------------------------------


def add_fault(server: SimulatorServer, **spec: object) -> dict[str, object]:
    answer = request(server, "/_control/fault", "POST", body=spec)
    assert answer.status == 201, answer.body
    return json.loads(answer.body)


def test_truncated_is_cut_mid_element_with_a_fitting_length(server: SimulatorServer, prez: Simulation) -> None:
    add_fault(server, kind="truncated")
    answer = request(server, NATIONAL)
    good = prez.document(NATIONAL, "", 300.0).body
    assert answer.status == 200 and answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert int(answer.headers["Content-Length"]) == len(answer.body) < len(good)
    assert good.startswith(answer.body) and not well_formed(answer.body)
    assert answer.body.rpartition(b"<")[2].isalpha()  # stops inside a tag name
    assert answer.headers["ETag"] != prez.resolve(NATIONAL, "", 300.0).etag
    assert request(server, NATIONAL).body == good  # count 1: the next answer is whole again


def test_short_announces_the_whole_length_and_hangs_up(server: SimulatorServer) -> None:
    add_fault(server, kind="short")
    with pytest.raises(http.client.IncompleteRead):
        request(server, NATIONAL)


def test_garbage_html_and_500(server: SimulatorServer) -> None:
    add_fault(server, kind="garbage")
    add_fault(server, kind="html")
    add_fault(server, kind="status500")
    add_fault(server, kind="html", content_type="text/xml; charset=utf-8")
    garbage = request(server, NATIONAL)
    assert garbage.status == 200 and garbage.headers["Content-Type"].startswith("text/xml")
    assert not well_formed(garbage.body)
    html = request(server, NATIONAL)
    assert html.status == 200 and html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert local(ElementTree.fromstring(html.body.partition(b"\n")[2])) == "html"  # well-formed, but not a result
    error = request(server, NATIONAL)
    assert error.status == 500 and b"Internal Server Error" in error.body
    disguised = request(server, NATIONAL)
    assert disguised.status == 200 and disguised.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert b"<html" in disguised.body
    assert request(server, NATIONAL).status == 200 and well_formed(request(server, NATIONAL).body)


def test_slow_answers_rightly_but_late_and_counts_on_arrival(server: SimulatorServer, prez: Simulation) -> None:
    add_fault(server, kind="slow", seconds=0.6)
    answers: list[Answer] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: answers.append(request(server, NATIONAL)))
    worker.start()
    time.sleep(0.2)
    assert control(server, "stats")["paths"] == {NATIONAL: 1}  # the single-flight test reads this mid-request
    worker.join()
    assert time.monotonic() - started >= 0.6
    assert answers[0].status == 200 and answers[0].body == prez.document(NATIONAL, "", 300.0).body


def test_reset_closes_the_connection_without_an_answer(server: SimulatorServer) -> None:
    add_fault(server, kind="reset")
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        request(server, NATIONAL)
    assert request(server, NATIONAL).status == 200


def test_rules_match_paths_and_use_up_their_count(server: SimulatorServer) -> None:
    add_fault(server, kind="status500", count=2, path=BATCHES)
    add_fault(server, kind="status500", path=f"{BATCHES}?kolo=1&davka=1")
    assert request(server, NATIONAL).status == 200
    assert request(server, f"{BATCHES}?kolo=1&davka=1").status == 500
    assert request(server, f"{BATCHES}?kolo=1").status == 500
    assert request(server, f"{BATCHES}?kolo=1&davka=1").status == 500  # the second rule
    assert request(server, f"{BATCHES}?kolo=1&davka=1").status == 200
    add_fault(server, kind="status500", count=None, for_seconds=0.3, path="/pls/*")
    assert [request(server, NATIONAL).status for _ in range(3)] == [500, 500, 500]
    time.sleep(0.35)
    assert request(server, NATIONAL).status == 200
    assert control(server, "fault") == {"pending": []}


def test_rules_can_be_listed_and_dropped(server: SimulatorServer) -> None:
    rule = add_fault(server, kind="garbage", count=5, path=NATIONAL)
    assert control(server, "fault")["pending"] == [rule]
    assert control(server, "fault", method="DELETE") == {"pending": []}
    assert request(server, NATIONAL).status == 200 and well_formed(request(server, NATIONAL).body)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "explode"}, "kind"),
        ({"kind": "slow", "count": 0}, "count"),
        ({"kind": "slow", "count": None}, "count"),
        ({"kind": "html", "path": "vysledky"}, "path"),
        ({"kind": "html", "probability": 2}, "probability"),
        ({"kind": "html", "colour": "red"}, "colour"),
    ],
)
def test_bad_fault_specs_are_refused_with_the_field(
    server: SimulatorServer, spec: dict[str, object], field: str
) -> None:
    answer = request(server, "/_control/fault", "POST", body=spec)
    assert answer.status == 400 and json.loads(answer.body)["field"] == field


def test_in_process_rules_and_probability(server: SimulatorServer) -> None:
    server.faults.add(FaultRule("status500", count=None, probability=0.5, for_seconds=30))
    statuses = [request(server, NATIONAL).status for _ in range(40)]
    assert 5 < statuses.count(500) < 35


# -- control API ------------------------------------------------------------------------------------------


def test_stats_count_upstream_hits_per_path_and_outcome(server: SimulatorServer) -> None:
    add_fault(server, kind="truncated")
    request(server, NATIONAL)
    request(server, NATIONAL)
    etag = request(server, NATIONAL).headers["ETag"]
    request(server, NATIONAL, headers={"If-None-Match": etag})
    request(server, f"{BATCHES}?kolo=1&davka=1")
    request(server, "/nowhere")
    control(server, "")  # control requests are not counted
    assert control(server, "stats") == {
        "total": 6,
        "paths": {NATIONAL: 4, BATCHES: 1, "/nowhere": 1},
        "urls": {NATIONAL: 4, f"{BATCHES}?kolo=1&davka=1": 1, "/nowhere": 1},
        "statuses": {"200": 4, "304": 1, "404": 1},
        "faults": {"truncated": 1},
    }
    assert control(server, "stats/reset", body={})["total"] == 0
    assert control(server, "stats")["total"] == 0


def test_clock_can_be_read_and_set(server: SimulatorServer, prez: Simulation) -> None:
    assert control(server, "clock") == {"elapsed": 300.0, "frozen": True, "batch": prez.batch_at(300.0)}
    assert control(server, "clock", body={"elapsed": 600, "frozen": True})["batch"] == prez.batches
    cr = child(parse(request(server, NATIONAL).body), "CR")
    assert child(cr, "UCAST").get("OKRSKY_ZPRAC_PROC") == "100.00"
    assert request(server, "/_control/clock", "POST", body={"elapsed": "soon"}).status == 400


def test_index_describes_the_simulation(server: SimulatorServer) -> None:
    index = control(server, "")
    assert index["election"] == "prez2023" and index["batches"] == 40
    assert {d["path"] for d in index["documents"]} >= {NATIONAL, f"{BATCHES}?kolo=1"}
    publications = index["publications"]
    assert len(publications) == 2 * 40  # both rounds
    sim = server.simulation
    first = publications[0]
    assert first["path"] == "/appdata/prez2023/20230113/odata/okrsky/vysledky_okrsky_00001.xml"
    assert first["at"] == sim.start.timestamp() + sim.count.published_at(1)
    assert publications[40]["path"].startswith("/appdata/prez2023/20230127/")
    assert publications[40]["at"] == sim.start.timestamp() + sim.rounds[1].offset + sim.rounds[1].count.published_at(1)
    assert request(server, "/_control/nothing").status == 404


def test_hits_give_each_urls_arrival_times_in_order(server: SimulatorServer) -> None:
    before = time.time()
    request(server, NATIONAL)
    request(server, NATIONAL)
    request(server, f"{BATCHES}?kolo=1&davka=1")
    control(server, "stats")  # control requests are not hits
    hits = control(server, "hits")
    assert sorted(hits) == sorted([NATIONAL, f"{BATCHES}?kolo=1&davka=1"])
    national = hits[NATIONAL]
    assert len(national) == 2 and before <= national[0] <= national[1] <= time.time()
    control(server, "stats/reset", body={})
    assert control(server, "hits") == {}


def test_the_listen_backlog_takes_a_proxys_burst_of_revalidations(prez: Simulation) -> None:
    """With the default backlog of 5, a burst of connections loses SYNs, retried a second later: the upstream
    would see one document's requests less than a refresh interval apart."""
    with SimulatorServer(prez) as running:
        port = running.address[1]
        listed = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()
    assert int(listed[2]) >= 128  # Send-Q of a listening socket: its backlog
