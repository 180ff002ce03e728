"""The client's end of one GDB Remote Serial Protocol connection: send a request, read
its reply, read stop replies while the target runs, send the 0x03 interrupt.

Framing is the server's (pydbg.gdbremote.packets): the same `frame` and `PacketReader`.
Acks are exchanged until QStartNoAckMode is agreed (`no_ack` then turns them off both
ways).  Every read has a deadline (`timeout`): a server that stops answering raises
RemoteError rather than hanging the engine thread.  `wait_packet` also watches a wake
pipe, so that `Backend.wake` (callable from any thread) can end a blocked wait.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import sys
import time
from collections import deque

from pydbg.errors import RemoteError
from pydbg.gdbremote.packets import Ack, Bad, Packet, PacketReader, frame

__all__ = ["RemoteLink"]

# Replies as long as a whole `g` with AVX-512 or a 16 KiB `m` fit.
_READ_LIMIT = 1 << 20
REQUEST_TIMEOUT = 30.0
# PYDBG_RSP_TRACE=1 prints every packet to stderr (protocol debugging).
_TRACE = bool(os.environ.get("PYDBG_RSP_TRACE"))


class RemoteLink:
    """One TCP connection to a gdbserver or lldb-server."""

    def __init__(self, host: str, port: int, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self.timeout = timeout
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise RemoteError(f"cannot connect to the server at {host}:{port}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self._reader = PacketReader(_READ_LIMIT)
        self._inbox: deque[bytes] = deque()
        self._acks: deque[bool] = deque()
        self.acking = True
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # (a full pipe wakes as well)
            os.write(self._wake_w, b"\0")

    # -- sending ----------------------------------------------------------------------

    def _sendall(self, data: bytes) -> None:
        try:
            self.sock.setblocking(True)
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)
        except OSError as exc:
            raise RemoteError(f"the connection to the server broke: {exc}") from exc
        finally:
            if not self.closed:
                self.sock.setblocking(False)

    def send(self, payload: bytes) -> None:
        """Send one packet (and, in ack mode, wait for its `+`; a `-` resends it)."""
        data = frame(payload)
        if _TRACE:
            print("->", payload[:80], file=sys.stderr)
        for _ in range(10):
            self._sendall(data)
            if not self.acking:
                return
            deadline = time.monotonic() + self.timeout
            while not self._acks:
                if not self._fill(deadline, wake=False):
                    raise RemoteError(f"no acknowledgement of {payload[:40]!r}")
            if self._acks.popleft():
                return
        raise RemoteError(f"the server keeps refusing {payload[:40]!r}")

    def interrupt(self) -> None:
        self._sendall(b"\x03")

    def request(self, payload: bytes) -> bytes:
        """Send a packet and return the payload of the next packet (its reply)."""
        self.send(payload)
        reply = self.wait_packet(self.timeout, wake=False)
        if reply is None:
            raise RemoteError(f"no reply to {payload[:40]!r} within {self.timeout:g} s")
        return reply

    # -- receiving --------------------------------------------------------------------

    def wait_packet(self, timeout: float | None, *, wake: bool = True) -> bytes | None:
        """The next packet's payload; None when `timeout` passes or (wake) `wake()`
        was called."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._inbox:
            if not self._fill(deadline, wake=wake):
                return None
        return self._inbox.popleft()

    def _fill(self, deadline: float | None, *, wake: bool) -> bool:
        """Read what the socket has; False on timeout or wake-up."""
        fds: list[int] = [self.sock.fileno()]
        if wake:
            fds.append(self._wake_r)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select(fds, [], [], left)
        if not ready:
            return False
        if self._wake_r in ready:
            try:
                while os.read(self._wake_r, 64):
                    pass
            except BlockingIOError:
                pass
            return False
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError as exc:
            raise RemoteError(f"the connection to the server broke: {exc}") from exc
        if not data:
            raise RemoteError("the server closed the connection")
        for event in self._reader.feed(data):
            if isinstance(event, Packet):
                if self.acking:
                    self._sendall(b"+")
                self._inbox.append(event.payload)
                if _TRACE:
                    print("<-", event.payload[:80], file=sys.stderr)
            elif isinstance(event, Ack):
                self._acks.append(event.ok)
            elif isinstance(event, Bad) and self.acking:
                self._sendall(b"-")
        return True
