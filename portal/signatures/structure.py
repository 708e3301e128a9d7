"""The file's bytes read strictly: where each revision's cross-reference section is, objects no
section lists, bytes after the last revision, and the signature's unsigned gap."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["WHITESPACE", "Structure", "gap_ok", "junk_after_last_revision", "read_structure"]

#: The PDF whitespace characters.
WHITESPACE = b"\x00\t\n\x0c\r "


@dataclass(frozen=True)
class Structure:
    #: The first revision whose body defines an object its cross-reference section does not list.
    hidden_in: int | None
    #: Anything but whitespace after the end of the last revision.
    trailing_data: bool


_OBJECT_HEADER = re.compile(rb"(?<![0-9])([0-9]+)[\x00\t\n\x0c\r ]+([0-9]+)[\x00\t\n\x0c\r ]+obj(?![A-Za-z])")
_STREAM_START = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(\r\n|\n|\r)")
_HEX_STRING = re.compile(rb"<[0-9A-Fa-f]*>")


def read_structure(reader: Any, data: bytes) -> Structure:
    """What a lenient reader glosses over and a viewer that rebuilds the xref would show.

    Raises ``ValueError`` when a revision's ``startxref`` does not point at its cross-reference
    section (the lenient reader corrects a few bytes off; the judgement does not). Finds objects
    defined in an incremental update but listed in no cross-reference section (stream data skipped),
    attributed to the revision whose section follows them, and bytes after the end of the last
    revision. The first revision is not searched: for an upload it is the portal's own PDF, checked
    byte for byte, and other files' generators are often sloppy there.
    """
    xrefs = reader.xrefs
    listed: dict[int, int] = {}
    sections: list[tuple[int, int]] = []
    file_end = 0
    for revision in range(xrefs.total_revisions):
        info = xrefs.get_xref_container_info(revision)
        _check_startxref(data, info, revision)
        _add_listed(listed, data, xrefs, info, revision)
        sections.append((info.start_location, revision))
        eof = data.find(b"%%EOF", info.end_location)
        if eof < 0:
            raise ValueError(f"no %%EOF after revision {revision}")
        file_end = max(file_end, eof + 5)
    sections.sort()
    hidden_in: int | None = None
    for position in _unlisted_objects(data, listed):
        following = [revision for start, revision in sections if start > position]
        revision = following[0] if following else sections[-1][1]
        if revision == 0:
            continue  # the document as first written (for an upload: the portal's own PDF)
        hidden_in = revision if hidden_in is None else min(hidden_in, revision)
    return Structure(hidden_in=hidden_in, trailing_data=bool(data[file_end:].strip(WHITESPACE)))


def _check_startxref(data: bytes, info: Any, revision: int) -> None:
    """Raise ``ValueError`` unless the revision's ``startxref`` points at its cross-reference section."""
    from pyhanko.pdf_utils.xref import XRefSectionType

    declared = info.declared_startxref
    at = len(data) - len(data[declared:].lstrip(WHITESPACE))
    if info.xref_section_type in (XRefSectionType.STANDARD, XRefSectionType.HYBRID_MAIN):
        if not data.startswith(b"xref", at) or not at < info.start_location <= at + 6:
            raise ValueError(f"startxref of revision {revision} does not point at its xref table")
    elif at != info.start_location:
        raise ValueError(f"startxref of revision {revision} does not point at its xref stream")


def _add_listed(listed: dict[int, int], data: bytes, xrefs: Any, info: Any, revision: int) -> None:
    """Add to ``listed`` (offset -> object number) every object the revision's cross-reference
    section lists."""
    from pyhanko.pdf_utils.xref import XRefSectionType

    section = xrefs.get_xref_data(revision)
    for part in (section, section.hybrid.xref_data if section.hybrid is not None else None):
        if part is not None:
            # an offset pointing at the whitespace before the header is a common harmless slip
            listed.update(
                {_skip_whitespace(data, offset): idnum for idnum, (_gen, offset) in part.standard_xrefs.items()}
            )
    if info.stream_ref is not None and info.xref_section_type == XRefSectionType.STREAM:
        listed.setdefault(info.start_location, info.stream_ref.idnum)  # the xref stream itself


def _skip_whitespace(data: bytes, offset: int) -> int:
    end = offset
    while end < len(data) and end < offset + 16 and data[end] in WHITESPACE:
        end += 1
    return end


def _unlisted_objects(data: bytes, listed: dict[int, int]) -> list[int]:
    """Offsets of object headers ("12 0 obj") outside stream data that no xref section lists."""
    found: list[int] = []
    position = 0
    while position < len(data):
        stream = _STREAM_START.search(data, position)
        chunk_end = stream.end() if stream else len(data)
        found.extend(
            match.start()
            for match in _OBJECT_HEADER.finditer(data, position, chunk_end)
            if listed.get(match.start()) != int(match.group(1))
        )
        if stream is None:
            break
        end = data.find(b"endstream", chunk_end)
        position = len(data) if end < 0 else end + len(b"endstream")
    return found


def gap_ok(embedded: Any, data: bytes) -> bool:
    """The unsigned gap of the byte range is exactly one hexadecimal string, written right after the
    signature dictionary's ``/Contents`` key, holding the value that dictionary's ``/Contents`` has."""
    byte_range = list(embedded.byte_range)
    if len(byte_range) != 4:
        return False
    start, end = byte_range[1], byte_range[2]
    chunk = data[start:end]
    if not _HEX_STRING.fullmatch(chunk) or (end - start) % 2:
        return False
    if not data[:start].rstrip(WHITESPACE).endswith(b"/Contents"):
        return False
    return bytes.fromhex(chunk[1:-1].decode("ascii")) == bytes(embedded.pkcs7_content)


def junk_after_last_revision(embedded: Any, data: bytes) -> bool:
    """Bytes after the signed revision that are no revision at all (pyHanko ignores them): anything
    but whitespace there is a change after signing."""
    if embedded.signed_revision != embedded.reader.xrefs.total_revisions - 1:
        return False
    byte_range = list(embedded.byte_range)
    return bool(data[byte_range[2] + byte_range[3] :].strip(WHITESPACE))
