"""100,000 random and malformed packets at `pydbg gdbserver`: bad checksums, junk between
packets, oversize and truncated packets, broken escapes and run-length markers, and
well-framed packets of every non-executing kind with random arguments.  The server must
survive all of them, keep its file descriptors, and still answer `?` and a memory read.

Packets that would run, kill, detach or restart the target (c, s, vCont, k, D, vRun...)
are left out: the point is the parser and the dispatcher, not the target.
"""

from __future__ import annotations

import random
import socket
import threading

import psutil

from pydbg.gdbremote.packets import checksum
from tests.support import wait_until

PACKETS = 100_000
SEED = 14

_SAFE_HEADS = [
    b"g",
    b"G",
    b"p",
    b"P",
    b"m",
    b"M",
    b"x",
    b"X",
    b"Z",
    b"z",
    b"H",
    b"T",
    b"?",
    b"qSupported:",
    b"qXfer:features:read:",
    b"qXfer:libraries-svr4:read::",
    b"qXfer:auxv:read::",
    b"qXfer:exec-file:read:",
    b"qXfer:threads:read::",
    b"qXfer:bogus:read::",
    b"qfThreadInfo",
    b"qsThreadInfo",
    b"qC",
    b"qAttached",
    b"QPassSignals:",
    b"QThreadEvents:",
    b"QNonStop:",
    b"QStartNoAckMode",
    b"vCont?",
    b"vFile:open:",
    b"vFile:pread:",
    b"vFile:close:",
    b"vFile:fstat:",
    b"vFile:setfs:",
    b"vFile:pwrite:",
    b"vMustReplyEmpty",
    b"Y",
    b"",
]
_EXECUTING = (b"c", b"C", b"s", b"S", b"k", b"D", b"v", b"R", b"r", b"i", b"I", b"!", b"A")


def _frame(payload: bytes, good: bool = True) -> bytes:
    cs = checksum(payload) ^ (0 if good else 0x5A)
    return b"$" + payload + b"#" + b"%02x" % cs


def _args(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return b""
    if kind == 1:
        return b"%x,%x" % (rng.getrandbits(64), rng.getrandbits(rng.choice((4, 8, 16, 32))))
    if kind == 2:
        return b"%x,%x,%x" % (rng.randrange(6), rng.getrandbits(64), rng.randrange(40))
    if kind == 3:
        return bytes(rng.choice(b"0123456789abcdef,:;.-p") for _ in range(rng.randrange(40)))
    if kind == 4:
        return b"%x,%x:" % (rng.getrandbits(48), rng.randrange(16)) + rng.randbytes(8)
    return rng.randbytes(rng.randrange(64)).replace(b"$", b"").replace(b"#", b"")


def _is_safe(payload: bytes) -> bool:
    if payload.startswith((b"vCont;", b"vKill", b"vRun", b"vAttach")):
        return False
    return not payload.startswith(_EXECUTING) or payload.startswith((b"vCont?", b"vFile"))


def _fuzz_packet(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:  # junk between packets (no '$': it must not start a packet)
        return rng.randbytes(rng.randrange(1, 32)).replace(b"$", b"")
    if kind == 1:  # bad checksum
        return _frame(rng.choice(_SAFE_HEADS) + _args(rng), good=False)
    if kind == 2:  # checksum digits that are not hex
        return b"$" + rng.choice(_SAFE_HEADS) + b"#zz"
    if kind == 3:  # truncated: no end; the next packet is lost with it
        return b"$" + rng.choice(_SAFE_HEADS) + _args(rng)[:8]
    if kind == 4:  # oversize
        return _frame(b"m" + b"0" * rng.choice((0x4001, 0x8000, 0x20000)))
    if kind == 5:  # broken escape and run-length marker
        return _frame(rng.choice((b"X0,1:}", b"*a", b"m*", b"g*\x10")))
    payload = rng.choice(_SAFE_HEADS) + _args(rng)
    return _frame(payload) if _is_safe(payload) else _frame(b"?")


class _Drain:
    """Reads everything the server sends, on a thread, so it never blocks on a full
    socket buffer."""

    def __init__(self, sock: socket.socket) -> None:
        self.data = bytearray()
        self.lock = threading.Lock()
        self.sock = sock
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def has(self, marker: bytes) -> bool:
        with self.lock:
            found = marker in self.data
            if found:
                self.data.clear()
            return found


def _answered(sock: socket.socket, drain: _Drain, payload: bytes, marker: bytes) -> bool:
    """Send `payload` until a reply holding `marker` comes (a packet left truncated by the
    fuzz swallows the first one)."""
    for _ in range(5):
        sock.sendall(_frame(payload))
        if wait_until(lambda: drain.has(marker), 5):
            return True
    return False


def test_server_survives_fuzzed_packets(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    rng = random.Random(SEED)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        drain = _Drain(sock)
        assert _answered(sock, drain, b"qSupported:multiprocess+", b"PacketSize=")
        fds = psutil.Process(server.proc.pid).num_fds()
        for batch in range(PACKETS // 500):
            stream = b"".join(_fuzz_packet(rng) for _ in range(500))
            sock.sendall(stream)
            assert _answered(sock, drain, b"?", b"$T05thread:"), f"batch {batch}"
        assert _answered(sock, drain, b"qXfer:exec-file:read::0,1000", program.encode())
        assert psutil.Process(server.proc.pid).num_fds() == fds
        assert server.proc.poll() is None
        sock.shutdown(socket.SHUT_RDWR)  # (wakes the drain thread; close alone would not)
    # The connection closed: the server kills the program it launched and exits.
    assert server.wait() == 0
