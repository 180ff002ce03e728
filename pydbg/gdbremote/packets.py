"""GDB Remote Serial Protocol framing: `$payload#cs`, acks, escaping, run-length, 0x03.

The wire (gdb manual, "Overview" of the remote protocol): a packet is `$`, the payload,
`#` and two hex digits of the payload's modulo-256 byte sum.  The receiver answers `+`
(good) or `-` (resend) until both sides agree to QStartNoAckMode.  Inside a payload `}`
escapes the next byte (XOR 0x20), and `*` followed by one byte N repeats the byte before
it N - 29 more times (run-length encoding; counts that would produce `#` or `$` are never
sent).  A bare 0x03 byte between packets is an interrupt request.

`PacketReader` turns a byte stream into events without ever raising on bad input: a
damaged packet (bad checksum, junk where hex digits should be, longer than the limit)
becomes a `Bad` event that the server answers with `-`, and the reader resynchronises
on the next `$`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Ack",
    "Bad",
    "Interrupt",
    "Packet",
    "PacketReader",
    "checksum",
    "escape",
    "frame",
    "run_length_decode",
    "run_length_encode",
    "unescape",
]

_ESCAPED = frozenset(b"#$}*")
_HEX = frozenset(b"0123456789abcdefABCDEF")


@dataclass(frozen=True)
class Packet:
    """A well-formed packet; `payload` has its run-length encoding expanded but binary
    escapes (`}`) left in place for the command that carries binary data to undo."""

    payload: bytes


@dataclass(frozen=True)
class Bad:
    """A damaged packet, to be answered with `-` (in ack mode) and otherwise dropped."""

    reason: str


@dataclass(frozen=True)
class Ack:
    """`+` (ok True) or `-` from the peer."""

    ok: bool


@dataclass(frozen=True)
class Interrupt:
    """A 0x03 byte outside a packet: break into the running target."""


Event = Packet | Bad | Ack | Interrupt


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFF


def escape(data: bytes) -> bytes:
    """Binary data for a packet: `#`, `$`, `}` and `*` become `}` + (byte ^ 0x20)."""
    if not any(b in _ESCAPED for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _ESCAPED:
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Undo escape(); a trailing lone `}` is a malformed packet (ValueError)."""
    if 0x7D not in data:
        return data
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == 0x7D:
            nxt = next(it, None)
            if nxt is None:
                raise ValueError("binary data ends inside an escape")
            out.append(nxt ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def run_length_encode(payload: bytes) -> bytes:
    """Compress runs of 4 or more equal bytes as `X*N` (N = count - 1 + 29).  Runs are
    cut so that N is never `#` or `$` (counts 7 and 8) nor above `~`; escape characters
    are not compressed, so an escape pair is never split."""
    out = bytearray()
    i, n = 0, len(payload)
    while i < n:
        b = payload[i]
        j = i + 1
        while j < n and payload[j] == b and j - i < 98:
            j += 1
        run = j - i
        if run < 4 or b in _ESCAPED:
            out += payload[i:j]
            i = j
            continue
        repeat = run - 1
        if repeat in (6, 7):  # 6 + 29 = '#', 7 + 29 = '$'
            repeat = 5
        out.append(b)
        out += bytes((0x2A, repeat + 29))
        i += repeat + 1
    return bytes(out)


def run_length_decode(payload: bytes) -> bytes:
    """Expand `X*N`; a `*` with nothing before or after it is a ValueError.  A `*`
    escaped by `}` is data and stays."""
    if 0x2A not in payload:
        return payload
    out = bytearray()
    i, n = 0, len(payload)
    while i < n:
        b = payload[i]
        if b == 0x7D and i + 1 < n:
            out += payload[i : i + 2]
            i += 2
            continue
        if b == 0x2A:
            if not out or i + 1 >= n or payload[i + 1] < 29:
                raise ValueError("run-length marker without a byte to repeat or a count")
            out += bytes((out[-1],)) * (payload[i + 1] - 29)
            i += 2
            continue
        out.append(b)
        i += 1
    return bytes(out)


def frame(payload: bytes, *, compress: bool = False) -> bytes:
    """The packet for a payload (already escaped where it carries binary data)."""
    if compress:
        payload = run_length_encode(payload)
    return b"$" + payload + b"#" + b"%02x" % checksum(payload)


class PacketReader:
    """Incremental parser: feed() bytes, get events.  `limit` bounds one packet's
    payload; a longer one is dropped as Bad (and the reader skips to its end)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        self._buf += data
        events: list[Event] = []
        buf = self._buf
        while buf:
            b = buf[0]
            if b == 0x24:  # '$'
                end = buf.find(b"#", 1)
                if end < 0:
                    if len(buf) > self.limit + 4:
                        # Oversize: drop what we have, wait for the next '$'.
                        restart = buf.find(b"$", 1)
                        del buf[: restart if restart > 0 else len(buf)]
                        events.append(Bad("packet longer than PacketSize"))
                        continue
                    break
                if len(buf) < end + 3:
                    break
                body = bytes(buf[1:end])
                digits = bytes(buf[end + 1 : end + 3])
                del buf[: end + 3]
                events.append(self._packet(body, digits))
            elif b == 0x2B:  # '+'
                del buf[:1]
                events.append(Ack(True))
            elif b == 0x2D:  # '-'
                del buf[:1]
                events.append(Ack(False))
            elif b == 0x03:
                del buf[:1]
                events.append(Interrupt())
            else:
                # Noise between packets (gdb never sends any): skip to the next frame byte.
                skip = 1
                while skip < len(buf) and buf[skip] not in b"$+-\x03":
                    skip += 1
                del buf[:skip]
        return events

    def _packet(self, body: bytes, digits: bytes) -> Event:
        if len(body) > self.limit:
            return Bad("packet longer than PacketSize")
        if len(digits) != 2 or not all(d in _HEX for d in digits):
            return Bad("checksum is not two hex digits")
        if int(digits, 16) != checksum(body):
            return Bad("bad checksum")
        if 0x24 in body:
            return Bad("'$' inside a packet")
        try:
            return Packet(run_length_decode(body))
        except ValueError as exc:
            return Bad(str(exc))
