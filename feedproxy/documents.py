"""A version of a feed document as the proxy serves it: body, gzip body, validators.

Made once per new content by the fetcher (gzip compressed once, the hash taken once) and handed to
every worker as is.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime


@dataclass(frozen=True)
class Version:
    key: str
    body: bytes
    #: None when compressing does not make the body smaller
    gzip_body: bytes | None
    content_type: str
    #: strong validators: the content hash, with ``-gz`` for the gzip encoding
    etag: str
    etag_gzip: str
    last_modified: str
    root: str

    def meta(self) -> dict[str, str | int]:
        return {
            "key": self.key,
            "content_type": self.content_type,
            "etag": self.etag,
            "etag_gzip": self.etag_gzip,
            "last_modified": self.last_modified,
            "root": self.root,
            "length": len(self.body),
            "gzip_length": -1 if self.gzip_body is None else len(self.gzip_body),
        }

    def payload(self) -> bytes:
        return self.body + (self.gzip_body or b"")

    @classmethod
    def from_meta(cls, meta: dict[str, str | int], payload: bytes) -> Version:
        length, gzip_length = int(meta["length"]), int(meta["gzip_length"])
        return cls(
            key=str(meta["key"]),
            body=payload[:length],
            gzip_body=None if gzip_length < 0 else payload[length : length + gzip_length],
            content_type=str(meta["content_type"]),
            etag=str(meta["etag"]),
            etag_gzip=str(meta["etag_gzip"]),
            last_modified=str(meta["last_modified"]),
            root=str(meta["root"]),
        )


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def make_version(
    key: str, body: bytes, content_type: str, root: str, *, last_modified: str | None, now: float
) -> Version:
    """The served form of ``body``; Last-Modified is the upstream's, else the time the proxy first saw it."""
    if last_modified is not None and not _is_http_date(last_modified):
        last_modified = None
    digest = content_hash(body)
    compressed = gzip.compress(body, compresslevel=6, mtime=0)
    return Version(
        key=key,
        body=body,
        gzip_body=compressed if len(compressed) < len(body) else None,
        content_type=content_type,
        etag=f'"{digest}"',
        etag_gzip=f'"{digest}-gz"',
        last_modified=last_modified or formatdate(now, usegmt=True),
        root=root,
    )


def _is_http_date(value: str) -> bool:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return parsed.tzinfo is not None
