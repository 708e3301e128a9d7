"""pyHanko logs every refusal loudly (warnings and errors with tracebacks). Its records stop at its
top-level loggers and go on as one-line debug records of ``portal.signatures.pyhanko``: a refusal
never prints a traceback, and the messages stay available when debugging."""

from __future__ import annotations

import logging

__all__ = ["NOISY_LOGGERS", "quiet_pyhanko_logging"]

NOISY_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "signxml", "xsdata")

relayed = logging.getLogger("portal.signatures.pyhanko")


class _Relay(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if not relayed.isEnabledFor(logging.DEBUG):
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        error = f" ({record.exc_info[0].__name__})" if record.exc_info and record.exc_info[0] else ""
        relayed.debug("%s %s: %s%s", record.levelname, record.name, message.splitlines()[0] if message else "", error)


def quiet_pyhanko_logging() -> None:
    """Install the relay on pyHanko's loggers (idempotent); their child loggers, present or future,
    propagate to it and no further."""
    for name in NOISY_LOGGERS:
        noisy = logging.getLogger(name)
        if not any(isinstance(handler, _Relay) for handler in noisy.handlers):
            noisy.addHandler(_Relay())
        noisy.propagate = False
        noisy.setLevel(logging.WARNING)
