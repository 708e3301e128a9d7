"""The drill's news outlets: many source addresses polling the feed proxy, run inside the client namespace.

    python -m drill.clients {poll,sweep,probe} --config FILE [--out FILE]

Every request is a new TCP connection from one client address (``Connection: close``), so each one meets
the firewall anew, and records one observation::

    {"t": start (epoch s), "d": seconds taken, "a": source address, "p": path, "o": outcome,
     "s": HTTP status or null, "b": body bytes as received, "m": malformed (bool)}

plus, only when they apply: ``"e"`` the error or the reason a 200 is malformed, ``"r"`` the start of a
non-200 answer's text (the proxy's refusal reason), ``"c": true`` a conditional request (If-None-Match
sent), ``"g": true`` a gzip-encoded answer.

Outcomes: ``ok`` 200, ``not_modified`` 304, ``refused`` 403, ``not_found`` 404, ``status`` any other
status, ``timeout`` the connection was not established in ``connect_timeout`` (a firewall drop), ``reset``
connection refused or reset, ``error`` anything else (a read timeout, a broken answer), with ``"e"``.

A 200 is malformed unless its body is complete (Content-Length met, or the chunks read to the last one),
gunzips when ``Content-Encoding: gzip``, is well-formed XML by a streaming expat parse that refuses DTDs
and entity declarations, and its root element is not ``html``.

Modes (the config is JSON; see :class:`Config`):

* ``poll`` -- every address loops until ``until``: a request for the next of ``paths``, then a pause of
  ``interval`` +-20 %. JSON lines to ``--out`` (or stdout), flushed every 0.5 s; SIGTERM/SIGINT stop it
  cleanly (requests under way are dropped, everything recorded is written).
* ``sweep`` -- one request per address, all at once (at most ``concurrency`` in flight); a JSON list.
* ``probe`` -- per address, a request started every ``every`` seconds from ``from`` until ``until``
  (``connect_timeout`` defaults to 0.3 s), to time a phase switch; JSON lines like ``poll``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypedDict

from drill.bodycheck import BodyCheck
from drill.network import server_address_for

Outcome = Literal["ok", "not_modified", "refused", "not_found", "status", "timeout", "reset", "error"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "not_modified", "refused", "not_found", "status", "timeout", "reset", "error")
STATUS_OUTCOMES: dict[int, Outcome] = {200: "ok", 304: "not_modified", 403: "refused", 404: "not_found"}
USER_AGENT = "csu-drill-client/1"
CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024
REASON_BYTES = 300  #: how much of a non-200 answer's text an observation keeps
FLUSH_SECONDS = 0.5


class Observation(TypedDict, total=False):
    t: float
    d: float
    a: str
    p: str
    o: Outcome
    s: int | None
    b: int
    m: bool
    e: str
    r: str
    c: bool
    g: bool


# --- HTTP/1.1, one request per connection ---------------------------------------------------------------


class BrokenAnswer(Exception):
    """The server's answer is not HTTP we understand."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body_bytes: int = 0
    malformed: str | None = None  #: why a 200 is malformed (None for good ones and other statuses)
    text: str = ""  #: the start of a non-200 answer's body


def request_bytes(host: str, path: str, *, etag: str | None = None, gzip: bool = False) -> bytes:
    authority = f"[{host}]" if ":" in host else host
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {authority}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        "Connection: close",
    ]
    if gzip:
        lines.append("Accept-Encoding: gzip")
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise BrokenAnswer(f"bad status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise BrokenAnswer(f"bad header line {line[:80]!r}")
        name = name.strip().lower()
        headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
    return int(parts[1]), headers


async def _body_chunks(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
    """Yield the body's chunks; raise ``BrokenAnswer`` when it ends early (the caller marks it malformed)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            try:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
                raise BrokenAnswer("chunked body ends early or has a bad chunk size") from error
            if size == 0:
                with contextlib.suppress(asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                return
            while size:
                data = await reader.read(min(size, CHUNK))
                if not data:
                    raise BrokenAnswer("chunked body ends early")
                size -= len(data)
                yield data
            if await reader.read(2) != b"\r\n":
                raise BrokenAnswer("chunk not followed by CRLF")
    elif "content-length" in headers:
        try:
            remaining = int(headers["content-length"])
        except ValueError as error:
            raise BrokenAnswer(f"bad Content-Length {headers['content-length']!r}") from error
        expected = remaining
        while remaining > 0:
            data = await reader.read(min(remaining, CHUNK))
            if not data:
                raise BrokenAnswer(f"body ends after {expected - remaining} of {expected} bytes (Content-Length)")
            remaining -= len(data)
            yield data
    else:  # delimited by the end of the connection
        while data := await reader.read(CHUNK):
            yield data


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """Read one HTTP/1.1 answer; a 200's body is checked as it arrives (see :class:`BodyCheck`)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        raise BrokenAnswer(
            "the connection closed before a whole answer head" if error.partial else "no answer"
        ) from error
    except asyncio.LimitOverrunError as error:
        raise BrokenAnswer("answer head too long") from error
    status, headers = _parse_head(head[:-4])
    answer = Answer(status, headers)
    if status in (204, 304) or 100 <= status < 200:
        return answer
    encoding = headers.get("content-encoding", "").strip().lower()
    check = BodyCheck(gzip=encoding == "gzip") if status == 200 else None
    if check is not None and encoding not in ("", "identity", "gzip"):
        check.error = f"unexpected Content-Encoding {encoding!r}"
    text = bytearray()
    try:
        async for chunk in _body_chunks(reader, headers):
            answer.body_bytes += len(chunk)
            if check is not None:
                check.feed(chunk)
            elif len(text) < REASON_BYTES:
                text += chunk[: REASON_BYTES - len(text)]
    except BrokenAnswer as error:
        if check is None:
            raise
        answer.malformed = f"incomplete: {error}"
    else:
        if check is not None:
            answer.malformed = check.finish()
    answer.text = text.decode("utf-8", "replace").strip()
    return answer


@dataclass
class Request:
    source: str
    path: str
    port: int = 80
    server: str | None = None  #: default: the server address on the source's network
    etag: str | None = None
    gzip: bool = False


@dataclass
class Timeouts:
    connect: float = 1.0
    read: float = 5.0  #: from the connection's establishment to the end of the answer


async def fetch(request: Request, timeouts: Timeouts) -> tuple[Observation, str | None]:
    """One request on a new connection: its observation and the ETag of a 200 (for the next If-None-Match)."""
    server = request.server or server_address_for(request.source)
    started, clock = time.time(), time.monotonic()
    observation: Observation = {"t": round(started, 3), "a": request.source, "p": request.path, "s": None, "b": 0}
    if request.etag:
        observation["c"] = True
    etag: str | None = None
    outcome: Outcome
    writer: asyncio.StreamWriter | None = None
    try:
        try:
            async with asyncio.timeout(timeouts.connect):
                reader, writer = await asyncio.open_connection(
                    server, request.port, local_addr=(request.source, 0), limit=MAX_HEAD
                )
        except TimeoutError:
            outcome, observation["e"] = "timeout", f"no connection within {timeouts.connect:g} s"
        else:
            async with asyncio.timeout(timeouts.read):
                writer.write(request_bytes(server, request.path, etag=request.etag, gzip=request.gzip))
                answer = await read_answer(reader)
            outcome = STATUS_OUTCOMES.get(answer.status, "status")
            observation["s"], observation["b"] = answer.status, answer.body_bytes
            if answer.headers.get("content-encoding", "").strip().lower() == "gzip":
                observation["g"] = True
            if answer.malformed:
                observation["e"] = answer.malformed
            elif answer.status == 200:
                etag = answer.headers.get("etag")
            if answer.status not in (200, 304) and answer.text:
                observation["r"] = answer.text
    except TimeoutError:
        outcome, observation["e"] = "error", f"read timeout: no whole answer within {timeouts.read:g} s"
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError) as error:
        outcome, observation["e"] = "reset", str(error) or type(error).__name__
    except BrokenAnswer as error:
        outcome, observation["e"] = "error", str(error)
    except OSError as error:
        outcome, observation["e"] = "error", f"{type(error).__name__}: {error}"
    finally:
        if writer is not None:
            writer.close()
    observation["o"] = outcome
    observation["d"] = round(time.monotonic() - clock, 4)
    observation["m"] = outcome == "ok" and "e" in observation
    return observation, etag


# --- the configuration ----------------------------------------------------------------------------------


@dataclass
class Client:
    address: str
    conditional: bool = False  #: sends If-None-Match with the last ETag of the path
    gzip: bool = False  #: sends Accept-Encoding: gzip
    server: str | None = None


@dataclass
class Config:
    """The JSON config: ``clients`` is a list of ``{"address": ...}`` (optionally ``conditional``, ``gzip``,
    ``server`` per client); ``conditional``/``gzip`` true make every other client use them."""

    clients: list[Client]
    paths: list[str]
    port: int = 80
    interval: float = 3.0
    until: float = math.inf  #: epoch seconds; without it, poll and probe run until a signal
    start: float = 0.0  #: ``from`` in the JSON (probe)
    every: float = 0.1
    concurrency: int = 64
    timeouts: Timeouts = field(default_factory=Timeouts)

    @classmethod
    def from_json(cls, data: dict[str, Any], mode: str = "poll") -> Config:
        paths = [str(p) for p in data.get("paths") or []]
        if not paths or not all(p.startswith("/") for p in paths):
            raise ValueError("paths: a non-empty list of paths starting with /")
        conditional, gzip = bool(data.get("conditional", False)), bool(data.get("gzip", False))
        clients: list[Client] = []
        for index, row in enumerate(data.get("clients") or []):
            row = {"address": row} if isinstance(row, str) else row
            address = str(row["address"])
            if row.get("server") is None:
                server_address_for(address)  # ValueError unless in a client network
            clients.append(
                Client(
                    address=address,
                    # alternate conditional by index and gzip by index // 2: all four combinations occur
                    conditional=bool(row.get("conditional", conditional and index % 2 == 0)),
                    gzip=bool(row.get("gzip", gzip and (index // 2) % 2 == 0)),
                    server=row.get("server"),
                )
            )
        if not clients:
            raise ValueError("clients: at least one")
        connect = float(data.get("connect_timeout", 0.3 if mode == "probe" else 1.0))
        return cls(
            clients=clients,
            paths=paths,
            port=int(data.get("port", 80)),
            interval=float(data.get("interval", 3.0)),
            until=float(data.get("until", math.inf)),
            start=float(data.get("from", 0.0)),
            every=float(data.get("every", 0.1)),
            concurrency=max(1, int(data.get("concurrency", 64))),
            timeouts=Timeouts(connect=connect, read=float(data.get("read_timeout", 2.0 if mode == "probe" else 5.0))),
        )

    def request(self, client: Client, path: str, etag: str | None = None) -> Request:
        return Request(
            client.address, path, self.port, client.server, etag if client.conditional else None, client.gzip
        )


# --- output ---------------------------------------------------------------------------------------------


class Sink:
    """JSON lines to a stream, written every ``FLUSH_SECONDS`` and at ``close``; counts outcomes."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.pending: list[str] = []
        self.counts: Counter[str] = Counter()
        self.malformed = 0

    def add(self, observation: Observation) -> None:
        self.pending.append(json.dumps(observation, ensure_ascii=False, separators=(",", ":")))
        self.counts[observation["o"]] += 1
        self.malformed += observation["m"]

    def flush(self) -> None:
        if self.pending:
            self.stream.write("\n".join(self.pending) + "\n")
            self.pending.clear()
        self.stream.flush()

    async def flush_every(self, seconds: float = FLUSH_SECONDS) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.flush()

    def summary(self) -> str:
        listed = ", ".join(f"{name} {self.counts[name]}" for name in OUTCOMES if self.counts[name])
        return f"{sum(self.counts.values())} requests ({listed or 'none'}), {self.malformed} malformed"


def read_observations(path: str | Path) -> list[Observation]:
    """The observations in a ``poll``/``probe`` JSON-lines file or a ``sweep`` JSON list (a torn last line
    is skipped: the file may be read while the poller still writes)."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    rows: list[Observation] = []
    for line in text.splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


# --- the modes ------------------------------------------------------------------------------------------


async def _sleep_until(instant: float) -> None:
    delay = instant - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def poll(config: Config, sink: Sink) -> None:
    rng = random.Random()

    async def one(index: int, client: Client) -> None:
        etags: dict[str, str] = {}
        turn = index  # offset per client, so the documents are spread over the clients
        await asyncio.sleep(rng.uniform(0, config.interval))
        while time.time() < config.until:
            path = config.paths[turn % len(config.paths)]
            turn += 1
            observation, etag = await fetch(config.request(client, path, etags.get(path)), config.timeouts)
            if etag:
                etags[path] = etag
            sink.add(observation)
            pause = min(config.interval * rng.uniform(0.8, 1.2), config.until - time.time())
            if pause > 0:
                await asyncio.sleep(pause)

    await asyncio.gather(*(one(i, c) for i, c in enumerate(config.clients)))


async def sweep(config: Config) -> list[Observation]:
    limit = asyncio.Semaphore(config.concurrency)

    async def one(index: int, client: Client) -> Observation:
        async with limit:
            path = config.paths[index % len(config.paths)]
            return (await fetch(config.request(client, path), config.timeouts))[0]

    return list(await asyncio.gather(*(one(i, c) for i, c in enumerate(config.clients))))


async def probe(config: Config, sink: Sink) -> None:
    """A request started every ``every`` seconds per address, on a fixed grid from ``from``: starts do not
    wait for earlier requests, so a dropped connection does not blur the timing."""
    tasks: set[asyncio.Task[None]] = set()

    async def request(client: Client, path: str) -> None:
        sink.add((await fetch(config.request(client, path), config.timeouts))[0])

    begin = max(config.start, time.time())
    tick = 0
    while (instant := begin + tick * config.every) < config.until:
        await _sleep_until(instant)
        for index, client in enumerate(config.clients):
            task = asyncio.create_task(request(client, config.paths[(index + tick) % len(config.paths)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        tick += 1
    if tasks:
        await asyncio.wait(tasks)


async def _until_signal(work: Awaitable[Any]) -> bool:
    """Run ``work`` until it ends or SIGTERM/SIGINT arrive; whether it ended by itself."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False
    task.result()
    return True


async def _streaming(mode: Callable[[Config, Sink], Awaitable[None]], config: Config, stream: IO[str]) -> Sink:
    sink = Sink(stream)
    flusher = asyncio.create_task(sink.flush_every())
    try:
        await _until_signal(mode(config, sink))
    finally:
        flusher.cancel()
        sink.flush()
    return sink


def _run(coroutine: Awaitable[Any]) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of the proxy; asyncio works too
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    return uvloop.run(coroutine)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drill.clients", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("poll", "sweep", "probe"))
    parser.add_argument("--config", required=True, help="the JSON config")
    parser.add_argument("--out", help="where the observations go (default stdout)")
    args = parser.parse_args(argv)
    try:
        config = Config.from_json(json.loads(Path(args.config).read_text(encoding="utf-8")), args.mode)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"drill.clients: bad config {args.config}: {error}", file=sys.stderr)
        return 2
    with _output(args.out) as stream:
        if args.mode == "sweep":
            observations = _run(sweep(config))
            stream.write("[\n" + ",\n".join(json.dumps(o, ensure_ascii=False) for o in observations) + "\n]\n")
            summary = summarize(observations)
        else:
            sink = _run(_streaming(poll if args.mode == "poll" else probe, config, stream))
            summary = sink.summary()
    print(f"drill.clients {args.mode}: {summary}", file=sys.stderr)
    return 0


def summarize(observations: Iterable[Observation]) -> str:
    """``"N requests (ok N, refused N, ...), N malformed"``."""
    counts = Counter(o["o"] for o in observations if "o" in o)
    malformed = sum(1 for o in observations if o.get("m"))
    listed = ", ".join(f"{name} {counts[name]}" for name in OUTCOMES if counts[name])
    return f"{sum(counts.values())} requests ({listed or 'none'}), {malformed} malformed"


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as stream:
        yield stream


if __name__ == "__main__":
    raise SystemExit(main())
