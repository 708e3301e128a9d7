"""The simulator's sense of time: seconds since counting began, running or frozen."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Elapsed simulated seconds. Runs with the monotonic clock unless frozen; may be set at any time."""

    def __init__(self, elapsed: float = 0.0, frozen: bool = False, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._base = float(elapsed)
        self._origin = monotonic()
        self._frozen = frozen

    @classmethod
    def since(cls, start: datetime, now: datetime | None = None) -> Clock:
        """A running clock on which ``start`` (aware) is elapsed 0; negative before it."""
        now = datetime.now(UTC) if now is None else now
        return cls((now - start).total_seconds())

    @property
    def frozen(self) -> bool:
        return self._frozen

    def elapsed(self) -> float:
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + (self._monotonic() - self._origin)

    def set(self, elapsed: float, frozen: bool | None = None) -> None:
        """Jump to ``elapsed``; ``frozen`` stops or restarts the clock (None keeps the current mode)."""
        with self._lock:
            self._base = float(elapsed)
            self._origin = self._monotonic()
            if frozen is not None:
                self._frozen = frozen
