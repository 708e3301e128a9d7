"""The drill's real processes: a fresh PostgreSQL database, gunicorn, the outbox sender, the simulator,
the feed proxy and the firewall agent; each with its log file, all stopped together."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class StackError(RuntimeError):
    """A part of the stack did not come up; the message names it and where its log is."""


@dataclass
class Database:
    """A database created for this drill and dropped afterwards."""

    admin_url: str
    name: str

    @property
    def url(self) -> str:
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{self.name}"

    @classmethod
    def create(cls, admin_url: str = DEFAULT_ADMIN_URL) -> Database:
        name = f"drill_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return cls(admin_url, name)

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


@dataclass
class Processes:
    """Started processes by name, their logs in ``log_dir``; ``stop_all`` ends every one."""

    log_dir: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(
        self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None, netns: str | None = None
    ) -> subprocess.Popen[bytes]:
        command = [*(["ip", "netns", "exec", netns] if netns else []), *argv]
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.running[name] = process
        return process

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self, *names: str) -> None:
        for name in names or tuple(self.running):
            process = self.running.get(name)
            if process is not None and process.poll() is not None:
                raise StackError(
                    f"{name} exited with {process.returncode}; its log ({self.log_dir / f'{name}.log'}) ends:\n"
                    + self.log_tail(name)
                )

    def stop(self, name: str, timeout: float = 10.0) -> int | None:
        process = self.running.pop(name, None)
        if process is None:
            return None
        if process.poll() is None:
            _signal_group(process, signal.SIGCONT)  # a paused process could not act on SIGTERM
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(5)
        return process.returncode

    def pause(self, name: str) -> None:
        """SIGSTOP the process and its children: it can do nothing until ``resume``."""
        _signal_group(self.running[name], signal.SIGSTOP)

    def resume(self, name: str) -> None:
        _signal_group(self.running[name], signal.SIGCONT)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)


def _signal_group(process: subprocess.Popen[bytes], number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_until(what: str, ready: Callable[[], bool], timeout: float, processes: Processes, *names: str) -> float:
    """Poll ``ready`` until true; fail with ``what`` (and a dead process's log) after ``timeout`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        processes.check_alive(*names)
        try:
            if ready():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    tails = "\n".join(f"--- {n}:\n{processes.log_tail(n)}" for n in names)
    raise StackError(f"{what}: not ready after {timeout:.0f} s\n{tails}")


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except urllib.error.HTTPError:
        return False


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def post_json(url: str, body: object, timeout: float = 5.0) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def fetch_in_netns(netns: str, url: str, timeout: float = 10.0) -> bytes:
    """The body of ``url`` (whatever the status) from inside a namespace: the proxy's ops endpoints answer
    loopback only."""
    code = (
        "import sys,urllib.error,urllib.request\n"
        "try:\n    body = urllib.request.urlopen(sys.argv[1], timeout=5).read()\n"
        "except urllib.error.HTTPError as answer:\n    body = answer.read()\n"
        "sys.stdout.buffer.write(body)\n"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", code, url],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise StackError(f"GET {url} in {netns} failed: {done.stderr.decode(errors='replace')[-400:]}")
    return done.stdout


def portal_command(*arguments: str) -> list[str]:
    return [str(BIN / "portal"), *arguments]


def gunicorn_command(host: str, port: int, workers: int = 3) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "--access-logfile",
        "-",
        "--timeout",
        "60",
        "wsgi:app",
    ]


def run_checked(argv: Sequence[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(
        list(argv), cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise StackError(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout
