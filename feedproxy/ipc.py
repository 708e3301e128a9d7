"""Messages between the fetcher process and the server workers, over a private Unix socket.

A frame is a JSON header and a byte payload, each preceded by its length (4 bytes, big endian). The
payload carries document bodies untouched; JSON never sees them. Only processes of this proxy connect
(the socket lives in a directory only its owner can enter).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any

_LENGTH = struct.Struct(">I")
MAX_HEADER = 64 * 1024 * 1024
MAX_PAYLOAD = 256 * 1024 * 1024

Message = tuple[dict[str, Any], bytes]


def encode(header: dict[str, Any], payload: bytes = b"") -> bytes:
    data = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return b"".join((_LENGTH.pack(len(data)), data, _LENGTH.pack(len(payload)), payload))


async def read_message(reader: asyncio.StreamReader) -> Message:
    """The next message, or IncompleteReadError at the end of the stream."""
    (size,) = _LENGTH.unpack(await reader.readexactly(4))
    if size > MAX_HEADER:
        raise ValueError(f"an IPC header of {size} bytes")
    header = json.loads(await reader.readexactly(size))
    (size,) = _LENGTH.unpack(await reader.readexactly(4))
    if size > MAX_PAYLOAD:
        raise ValueError(f"an IPC payload of {size} bytes")
    payload = await reader.readexactly(size) if size else b""
    return header, payload


def read_message_blocking(sock: socket.socket) -> Message:
    """The same, from a blocking socket (a worker's start-up handshake)."""
    (size,) = _LENGTH.unpack(_exactly(sock, 4))
    header = json.loads(_exactly(sock, size))
    (size,) = _LENGTH.unpack(_exactly(sock, 4))
    return header, _exactly(sock, size) if size else b""


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the fetcher closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
