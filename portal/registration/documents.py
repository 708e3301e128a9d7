"""Content-addressed storage of the files outlets submit: the SHA-256 of the bytes is the key.

Kept in the database so any portal host can serve them and a backup holds everything.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from portal.extensions import db
from portal.registration.models import Document


def store_document(data: bytes, content_type: str, *, at: datetime) -> Document:
    """The document with these bytes, stored once however often it is submitted."""
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.get(Document, digest)
    if existing is not None:
        return existing
    document = Document(sha256=digest, content_type=content_type, size=len(data), data=data, stored_at=at)
    db.session.add(document)
    db.session.flush()
    return document
