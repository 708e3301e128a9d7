"""``feedproxy serve``: the fetcher process, which starts the server workers and feeds them.

Processes: this one (the fetcher: upstream requests, snapshot reloads, accounting) and granian's
supervisor with N worker processes (``feedproxy.server``). Workers connect to a Unix socket here; each
gets the settings, the snapshot table and every cached document, then every change as it happens.
The upstream sees one request per document per refresh interval for the whole proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from allowlist.addresses import AddressPolicy
from allowlist.snapshot import Snapshot
from feedproxy import connlimit, snapshots
from feedproxy.cache import Fetcher, FetcherSettings, Listener, Miss
from feedproxy.config import ServeConfig
from feedproxy.documents import Version
from feedproxy.ipc import encode, read_message
from feedproxy.metrics import Accounting, render_metrics, stats_document
from feedproxy.upstream import Upstream
from feedproxy.worker import IPC_ENVIRONMENT

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JSON_TYPE = "application/json"


class StartupError(Exception):
    """The proxy cannot start (no valid snapshot, the port taken, workers not coming up)."""


class WorkerLink:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.sent: dict[str, str] = {}  #: document key -> etag of the version sent

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(header, payload))

    def send_version(self, version: Version, validated_at: float) -> None:
        self.sent[version.key] = version.etag
        self.send({"op": "doc", "meta": version.meta(), "validated_at": validated_at}, version.payload())


class Coordinator(Listener):
    def __init__(self, config: ServeConfig, keeper: snapshots.SnapshotKeeper) -> None:
        self.config = config
        self.keeper = keeper
        self.accounting = Accounting()
        self.fetcher = Fetcher(
            Upstream.parse(config.upstream),
            FetcherSettings(
                refresh=config.refresh,
                timeout=config.timeout,
                max_bytes=config.max_document_bytes,
                max_documents=config.max_documents,
                concurrency=config.upstream_concurrency,
            ),
            self,
        )
        self.links: set[WorkerLink] = set()
        self.connected = asyncio.Event()
        snapshot = keeper.status.snapshot
        assert snapshot is not None
        self.accounting.use_snapshot(snapshot)

    # --- Listener: the fetcher's news goes to every worker ---------------------------------------

    def version(self, version: Version, validated_at: float) -> None:
        for link in list(self.links):
            link.send_version(version, validated_at)

    def fresh(self, key: str, validated_at: float) -> None:
        for link in list(self.links):
            link.send({"op": "fresh", "key": key, "validated_at": validated_at})

    def missing(self, miss: Miss) -> None:
        for link in list(self.links):
            link.send(_miss_header(miss))

    def use_snapshot(self, snapshot: Snapshot) -> None:
        self.accounting.use_snapshot(snapshot)
        for link in list(self.links):
            link.send({"op": "snapshot", "table": snapshots.table(snapshot)})

    # --- the workers ------------------------------------------------------------------------------

    async def handle_worker(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = WorkerLink(writer)
        snapshot = self.keeper.status.snapshot
        assert snapshot is not None
        link.send({"op": "hello", "config": self.config.worker_settings()})
        link.send({"op": "snapshot", "table": snapshots.table(snapshot)})
        for state in self.fetcher.documents.values():
            if state.version is not None:
                link.send_version(state.version, state.validated_at)
        link.send({"op": "ready"})
        self.links.add(link)
        if len(self.links) >= self.config.workers:
            self.connected.set()
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                header, _payload = await read_message(reader)
                op = header.get("op")
                if op == "want":
                    task = asyncio.create_task(self._answer_want(link, str(header["key"])))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                elif op == "stats":
                    self.accounting.add(header)
                elif op == "report":
                    status, content_type, body = self.report(str(header["what"]))
                    link.send({"op": "reply", "id": header["id"], "status": status, "content_type": content_type}, body)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self.links.discard(link)
            writer.close()

    async def _answer_want(self, link: WorkerLink, key: str) -> None:
        result = await self.fetcher.want(key)
        if isinstance(result, Miss):
            link.send(_miss_header(result))
        elif link.sent.get(key) != result.etag:  # not already broadcast to this worker
            state = self.fetcher.documents.get(key)
            link.send_version(result, state.validated_at if state else time.time())

    def report(self, what: str) -> tuple[int, str, bytes]:
        now = time.time()
        if what == "metrics":
            text = render_metrics(self.accounting, self.fetcher, self.keeper.status, now, workers=len(self.links))
            return 200, METRICS_TYPE, text.encode("utf-8")
        if what == "stats.json":
            return 200, JSON_TYPE, _json(stats_document(self.accounting, self.keeper.status, now))
        return 200, JSON_TYPE, _json(self.health(now))

    def health(self, now: float) -> dict[str, Any]:
        documents = self.fetcher.health(now)
        stale = sorted(key for key, info in documents.items() if info["stale"])
        return {
            "status": "stale" if stale else "ok",
            "upstream": self.config.upstream,
            "refresh_seconds": self.config.refresh,
            "workers": len(self.links),
            "stale_documents": stale,
            "documents": documents,
            "snapshot": self.keeper.status.health(now),
            "checked_at": now,
        }

    # --- the snapshot -------------------------------------------------------------------------------

    async def watch_snapshot(self) -> None:
        while True:
            await asyncio.sleep(self.config.snapshot_poll)
            snapshot = await asyncio.to_thread(self.keeper.check)
            if snapshot is not None:
                self.use_snapshot(snapshot)


def _miss_header(miss: Miss) -> dict[str, Any]:
    return {"op": "missing", "key": miss.key, "status": miss.status, "reason": miss.reason, "until": miss.until}


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def reserve_port(host: str, port: int) -> socket.socket:
    """Hold ``host:port`` (port 0: a free one) with SO_REUSEPORT, not listening, so workers can bind it too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartupError(f"cannot bind {host}:{port}: {error.strerror}") from error
    return sock


def load_first_snapshot(config: ServeConfig) -> snapshots.SnapshotKeeper:
    source = snapshots.SnapshotSource(config.snapshot, token=config.token)
    keeper = snapshots.SnapshotKeeper(
        source,
        public_key=config.public_key,
        policy=AddressPolicy(allow_documentation=config.allow_documentation),
        allow_loopback=config.allow_loopback_clients,
        clock=time.time,
        election=config.election,
    )
    if keeper.check() is None:
        raise StartupError(f"no snapshot loaded from {keeper.status.source}: {keeper.status.last_error}")
    return keeper


async def run(config: ServeConfig) -> int:
    keeper = load_first_snapshot(config)
    holder = reserve_port(config.host, config.port)
    port = holder.getsockname()[1]
    coordinator = Coordinator(config, keeper)
    if config.connection_limit:
        try:
            connlimit.install(port, config.connection_limit)
        except connlimit.ConnectionLimitError as error:
            holder.close()
            raise StartupError(f"--connection-limit: {error}") from error
    with tempfile.TemporaryDirectory(prefix="feedproxy-") as directory:
        os.chmod(directory, 0o700)
        ipc_path = str(Path(directory) / "fetcher.sock")
        ipc = await asyncio.start_unix_server(coordinator.handle_worker, path=ipc_path, limit=1 << 20)
        environment = {**os.environ, IPC_ENVIRONMENT: ipc_path}
        workers = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "feedproxy.server",
                config.host,
                str(port),
                str(config.workers),
                str(config.header_timeout),
            ],
            env=environment,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        tasks = [
            asyncio.create_task(coordinator.fetcher.run_refresher()),
            asyncio.create_task(coordinator.watch_snapshot()),
            asyncio.create_task(_watch_process(workers, stop)),
        ]
        code = 0
        try:
            try:
                await asyncio.wait_for(coordinator.connected.wait(), 60)
            except TimeoutError as error:
                raise StartupError("the server workers did not come up within 60 s") from error
            holder.close()  # the workers hold the port now
            host = f"[{config.host}]" if ":" in config.host else config.host
            print(f"feedproxy: listening on http://{host}:{port} ({config.workers} workers)", flush=True)
            await stop.wait()
            code = 0 if workers.poll() is None else 1
        finally:
            for task in tasks:
                task.cancel()
            _stop_process(workers)
            holder.close()
            ipc.close()
            coordinator.fetcher.close()
            if config.connection_limit:
                connlimit.remove(port)
    return code


async def _watch_process(process: subprocess.Popen[bytes], stop: asyncio.Event) -> None:
    while process.poll() is None:
        await asyncio.sleep(0.5)
    stop.set()


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(config: ServeConfig) -> int:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(run(config))
    return asyncio.run(run(config))
