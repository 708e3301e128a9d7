"""The one entry point: validate an uploaded signed PDF and return a frozen :class:`Verdict`."""

from __future__ import annotations

import hashlib
from datetime import datetime

from portal.signatures import engine, worker
from portal.signatures.trust import TrustConfig
from portal.signatures.verdict import Reason, Verdict

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIME_LIMIT", "validate_signed_pdf"]

DEFAULT_MAX_BYTES = 10 * 2**20
DEFAULT_TIME_LIMIT = 10.0


def validate_signed_pdf(
    data: bytes,
    *,
    trust: TrustConfig,
    original: bytes | None = None,
    deadline: datetime | None = None,
    received_at: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> Verdict:
    """Validate ``data`` (an uploaded signed PDF) against ``trust``.

    :param original: the PDF the portal generated for this application version; the signed revision
        must be an incremental update of exactly these bytes (``not_bound_to_original``).
    :param deadline: the exclusive end instant: a signing time at or after it is ``after_deadline``.
    :param received_at: when the upload arrived; signing times are capped at it, and without a
        trusted timestamp the certificate is judged at this time. Timezone-aware.
    :param max_bytes: larger uploads are refused as ``too_large`` without being read.
    :param time_limit: seconds the validation may take in its worker process before it is killed and
        the upload refused as ``timeout``; ``None`` validates in this process, without a limit.

    Never raises for bad input: every problem of the file is a reason code in the verdict. Raises
    ``ValueError`` for naive datetimes (a programming error).
    """
    if received_at.tzinfo is None or (deadline is not None and deadline.tzinfo is None):
        raise ValueError("received_at and deadline must be timezone-aware")
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > max_bytes:
        return Verdict.refuse(digest, Reason.TOO_LARGE)
    if not data.startswith(b"%PDF-"):
        return Verdict.refuse(digest, Reason.MALFORMED_PDF)
    if time_limit is None:
        return engine.validate_in_process(
            data, trust=trust, original=original, deadline=deadline, received_at=received_at
        )
    outcome = worker.get_pool().run(worker.request(data, trust, original, deadline, received_at), time_limit)
    if outcome.verdict is not None:
        return outcome.verdict
    if outcome.timed_out:
        return Verdict.refuse(digest, Reason.TIMEOUT)
    return Verdict.refuse(digest, Reason.MALFORMED_PDF)
