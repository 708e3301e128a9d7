"""The server workers' supervisor: granian (RSGI) running ``feedproxy.worker:app`` in N processes.

Started by ``feedproxy serve`` as ``python -m feedproxy.server HOST PORT WORKERS`` with the fetcher's
socket in the environment; each worker connects to it before it takes requests.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def run(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes, TaskImpl
    from granian.log import LogLevels

    try:
        import uvloop  # noqa: F401

        loop = Loops.uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; asyncio works too, a little slower
        loop = Loops.asyncio
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
        runtime_mode=RuntimeModes.st,
        websockets=False,
        backlog=4096,
        log_access=False,
        log_level=LogLevels.warning,
    ).serve()


def main(argv: Sequence[str] | None = None) -> int:
    host, port, workers = (sys.argv[1:] if argv is None else list(argv))[:3]
    run(host, int(port), int(workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
