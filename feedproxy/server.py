"""The server workers' supervisor: granian (RSGI) running ``feedproxy.worker:app`` in N processes.

Started by ``feedproxy serve`` as ``python -m feedproxy.server HOST PORT WORKERS HEADER_TIMEOUT`` with
the fetcher's socket in the environment; each worker connects to it before it takes requests.

Slow and greedy clients: a connection must deliver a complete request head within ``HEADER_TIMEOUT``
seconds of being accepted or of its previous answer (hyper's header read timeout, which also bounds an
idle keep-alive connection), else it is closed, as nginx's ``client_header_timeout`` does. Each worker
accepts up to ``CONNECTIONS_PER_WORKER`` connections at once (granian's backpressure: a connection that
has not sent its request yet holds a slot too), so a few thousand such connections do not stop it
accepting others; the file descriptor limit is raised to the hard limit to match.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Sequence

#: Connections one worker holds at once (granian's default is backlog / workers, 2,048 here).
CONNECTIONS_PER_WORKER = 16384


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


def run(host: str, port: int, workers: int, header_timeout: float = 5.0) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes, TaskImpl
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    try:
        import uvloop  # noqa: F401

        loop = Loops.uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio works too, a little slower
        loop = Loops.asyncio
    raise_open_files_limit()
    Granian(
        "feedproxy.worker:app",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        loop=loop,
        # Steps each request's coroutine from Rust instead of wrapping it in an asyncio Task: about 5 % more
        # requests/s here. Granian falls back to asyncio tasks on Python >= 3.12.
        task_impl=TaskImpl.rust,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, round(header_timeout * 1000)), keep_alive=True),
        runtime_mode=RuntimeModes.st,
        websockets=False,
        backlog=4096,
        backpressure=CONNECTIONS_PER_WORKER,
        log_access=False,
        log_level=LogLevels.warning,
    ).serve()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    host, port, workers = arguments[:3]
    header_timeout = float(arguments[3]) if len(arguments) > 3 else 5.0
    run(host, int(port), int(workers), header_timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
