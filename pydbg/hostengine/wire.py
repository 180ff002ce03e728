"""The host engine's wire format: JSON-RPC 2.0 messages in length-prefixed frames.

A frame is a 4-byte big-endian unsigned length followed by that many bytes of UTF-8 JSON,
one JSON-RPC 2.0 object per frame (no batches).  Length-prefixed rather than
newline-delimited so that a reader knows at once how much is coming, and refuses an
oversize frame before reading it: MAX_FRAME is the cap.  The messages themselves are
plain JSON-RPC 2.0 (https://www.jsonrpc.org/specification) through the stdlib `json`:

    request        {"jsonrpc": "2.0", "id": 7, "method": "execute", "params": {...}}
    notification   {"jsonrpc": "2.0", "method": "output", "params": {...}}
    response       {"jsonrpc": "2.0", "id": 7, "result": ...}
    error          {"jsonrpc": "2.0", "id": 7, "error": {"code": -32000, "message": "..."}}

Both sides send requests: the client asks the server to run things, the server asks the
client for an event callback's vote (pydbg.hostengine.server).  `params` is always an
object (named parameters).
"""

from __future__ import annotations

import json
import struct
import threading
from typing import Any, Protocol

from pydbg.errors import PydbgError

__all__ = [
    "MAX_FRAME",
    "FrameError",
    "OversizeFrameError",
    "Stream",
    "decode",
    "encode",
    "error",
    "notification",
    "read_frame",
    "request",
    "response",
    "send",
]


class Stream(Protocol):
    """What frames are read from and written to: a socket, or a TlsStream."""

    def recv(self, size: int, /) -> bytes: ...
    def sendall(self, data: bytes, /) -> None: ...


# Big enough for any command's output piece or a register dump, small enough that a
# hostile length cannot make the server allocate much.
MAX_FRAME = 1 << 20

# JSON-RPC 2.0's reserved error codes, and the one pydbg uses for a failed call.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
CALL_FAILED = -32000  # the call raised (a PydbgError): "message" says what
NOT_AUTHENTICATED = -32001

_HEADER = struct.Struct(">I")

Message = dict[str, Any]


class FrameError(PydbgError, ValueError):
    """A frame that is not one JSON-RPC 2.0 object: dropped (the connection goes on)."""


class OversizeFrameError(FrameError):
    """A frame longer than MAX_FRAME: refused, and the connection closed (after it the
    stream cannot be trusted to be in step)."""


def request(call_id: int, method: str, params: Message | None = None) -> Message:
    return {"jsonrpc": "2.0", "id": call_id, "method": method, "params": params or {}}


def notification(method: str, params: Message | None = None) -> Message:
    return {"jsonrpc": "2.0", "method": method, "params": params or {}}


def response(call_id: object, result: object) -> Message:
    return {"jsonrpc": "2.0", "id": call_id, "result": result}


def error(call_id: object, code: int, message: str) -> Message:
    return {"jsonrpc": "2.0", "id": call_id, "error": {"code": code, "message": message}}


def encode(message: Message) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise OversizeFrameError(f"a {len(body)}-byte message is over the {MAX_FRAME} cap")
    return _HEADER.pack(len(body)) + body


def decode(body: bytes) -> Message:
    """One frame's body as a JSON-RPC 2.0 message; FrameError if it is none."""
    try:
        message = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise FrameError("not a JSON-RPC 2.0 object")
    call_id = message.get("id")
    if call_id is not None and (isinstance(call_id, bool) or not isinstance(call_id, (int, str))):
        raise FrameError("a JSON-RPC id is a number or a string")
    if "method" in message:
        if not isinstance(message["method"], str):
            raise FrameError("a JSON-RPC method is a string")
        if not isinstance(message.setdefault("params", {}), dict):
            raise FrameError("params must be an object (named parameters)")
    elif ("result" in message) == ("error" in message) or (
        call_id is None and "error" not in message
    ):
        # (an error answers with a null id what could not be read: JSON-RPC 2.0 §5)
        raise FrameError("neither a request nor a response")
    elif "error" in message and not isinstance(message["error"], dict):
        raise FrameError("a JSON-RPC error is an object")
    return message


def _read_exactly(sock: Stream, count: int) -> bytes | None:
    chunks = []
    while count:
        chunk = sock.recv(min(count, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: Stream) -> bytes | None:
    """The next frame's body; None at the end of the stream (a frame cut short counts as
    the end).  OversizeFrameError for a length over MAX_FRAME (nothing of it is read)."""
    header = _read_exactly(sock, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise OversizeFrameError(f"a {length}-byte frame is over the {MAX_FRAME} cap")
    return _read_exactly(sock, length)


def send(sock: Stream, lock: threading.Lock, message: Message) -> None:
    """Send one message; `lock` keeps frames of several threads from interleaving."""
    data = encode(message)
    with lock:
        sock.sendall(data)
