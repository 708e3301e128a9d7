"""Validation in child processes, so that a hostile PDF cannot hang or exhaust a web worker.

A small pool of persistent worker processes (``forkserver`` start method: the server preloads pyHanko,
so starting a worker is a fork, not a fresh interpreter) each serve one request at a time over a pipe.
The parent waits at most the time limit for the answer; a worker that does not answer in time is
killed (SIGKILL) and replaced on the next request. A worker that dies (out of memory: its address space
is capped, a crash in a C extension) counts as an unreadable file. Workers are recycled after a number
of validations to bound the growth of their caches.

The pool belongs to the process that created it: after a fork (gunicorn workers), the child builds
its own on first use.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from portal.signatures.trust import TrustConfig
from portal.signatures.verdict import Verdict

__all__ = ["ValidationPool", "WorkerFailure", "get_pool"]

logger = logging.getLogger(__name__)

#: Address-space cap of a worker process: a PDF that needs more is refused as unreadable.
MEMORY_LIMIT_BYTES = 2 * 1024**3
#: A worker is replaced after this many validations.
MAX_TASKS_PER_WORKER = 500


class WorkerFailure(RuntimeError):
    """The worker answered with something that is not a verdict (a bug, not bad input)."""


@dataclass(frozen=True)
class Outcome:
    """What the pool got back: a verdict, or why not."""

    verdict: Verdict | None
    timed_out: bool = False
    crashed: bool = False


def _serve(conn: Connection) -> None:
    """The worker's loop: receive a request, answer with a verdict, until the pipe closes."""
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT_BYTES, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on Linux
        pass
    from portal.signatures import engine
    from portal.signatures.logs import quiet_pyhanko_logging

    quiet_pyhanko_logging()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            verdict = engine.validate_in_process(**request)
        except ValueError as error:  # a programming error of the caller (naive datetimes): report it
            conn.send(("error", f"{type(error).__name__}: {error}"))
            continue
        conn.send(verdict)


class _Worker:
    def __init__(self, context: Any) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.process = context.Process(target=_serve, args=(child_end,), daemon=True, name="signature-validation")
        self.process.start()
        child_end.close()
        self.conn: Connection = parent_end
        self.tasks = 0

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(timeout=5)
        except (OSError, ValueError, AssertionError):  # already gone
            pass
        with contextlib.suppress(OSError):
            self.conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.kill()


class ValidationPool:
    """At most ``size`` worker processes; a request waits for a free one."""

    def __init__(self, size: int = 2, start_method: str | None = None) -> None:
        self.size = size
        method = start_method or ("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
        self._context = multiprocessing.get_context(method)
        if method == "forkserver":
            # The fork server imports pyHanko once; workers forked from it start in milliseconds.
            self._context.set_forkserver_preload(["portal.signatures.preload"])
        self._idle: list[_Worker] = []
        self._count = 0
        self._lock = threading.Condition()
        self._pid = os.getpid()

    def _checkout(self, deadline: float) -> _Worker | None:
        with self._lock:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._lock.wait(remaining):
                    return None
        try:
            return _Worker(self._context)
        except BaseException:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            if worker.tasks >= MAX_TASKS_PER_WORKER or not worker.process.is_alive():
                self._count -= 1
                worker.close()
            else:
                self._idle.append(worker)
            self._lock.notify()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._count -= 1
            self._lock.notify()

    def warm(self, count: int = 1) -> None:
        """Start up to ``count`` workers now, so that the first request does not wait for one."""
        started = []
        for _ in range(min(count, self.size)):
            worker = self._checkout(time.monotonic())
            if worker is None:
                break
            started.append(worker)
        for worker in started:
            self._checkin(worker)

    def run(self, request: dict[str, Any], time_limit: float) -> Outcome:
        """Validate in a worker; give up (and kill it) after ``time_limit`` seconds.

        The limit is the caller's: an answer read after it is a timeout too, even when the worker itself
        was quick, so that a 1 ms limit means the same on an idle machine and on a loaded one.
        """
        # Waiting for a free worker (other uploads in this process) has a bound of its own.
        worker = self._checkout(time.monotonic() + 2 * max(time_limit, 1.0))
        if worker is None:
            return Outcome(verdict=None, timed_out=True)
        deadline = time.monotonic() + time_limit
        try:
            worker.conn.send(request)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                logger.info("signature validation: time limit of %.1f s exceeded, worker killed", time_limit)
                self._discard(worker)
                return Outcome(verdict=None, timed_out=True)
            answer = worker.conn.recv()
        except (EOFError, OSError) as error:
            logger.info("signature validation: worker died (%s)", type(error).__name__)
            self._discard(worker)
            return Outcome(verdict=None, crashed=True)
        worker.tasks += 1
        self._checkin(worker)
        if time.monotonic() > deadline:
            # The worker answered, but this thread saw it only after the limit (it was not scheduled in
            # time on a busy machine): the caller's limit holds either way, so the result is a timeout.
            logger.info("signature validation: answer read after the time limit of %.1f s", time_limit)
            return Outcome(verdict=None, timed_out=True)
        if isinstance(answer, Verdict):
            return Outcome(verdict=answer)
        raise WorkerFailure(str(answer))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.close()


class _ProcessPool:
    """Holds this process's pool."""

    def __init__(self) -> None:
        self._pool: ValidationPool | None = None
        self._lock = threading.Lock()

    def get(self) -> ValidationPool:
        with self._lock:
            if self._pool is None or self._pool._pid != os.getpid():
                self._pool = ValidationPool(size=min(2, os.cpu_count() or 1))
            return self._pool

    def use(self, pool: ValidationPool) -> None:
        with self._lock:
            if self._pool is not None and self._pool is not pool:
                self._pool.close()
            self._pool = pool


_process_pool = _ProcessPool()


def get_pool() -> ValidationPool:
    """This process's pool (a new one after a fork)."""
    return _process_pool.get()


def use_pool(pool: ValidationPool) -> None:
    """Make ``pool`` this process's pool (the CLI, single-threaded, forks its one worker directly)."""
    _process_pool.use(pool)


def request(
    data: bytes, trust: TrustConfig, original: bytes | None, deadline: datetime | None, received_at: datetime
) -> dict[str, Any]:
    return {"data": data, "trust": trust, "original": original, "deadline": deadline, "received_at": received_at}
