"""TLS on a host-engine connection that one thread reads while another writes.

Each connection has a reader thread blocked in recv while other threads (the engine
thread, a caller) send on it.  An `ssl.SSLSocket` would then have one SSL object read and
written by two threads at once, which OpenSSL does not allow.  `TlsStream` keeps the TLS
state in an `ssl.SSLObject` over two memory BIOs instead: the only blocking call, the raw
socket's recv, runs outside any lock, and every call into the SSL object, with the
sending of the bytes it produced, runs under one lock, so the SSL object never sees two
threads.  It offers what pydbg.hostengine.wire and the connections use of a socket.
"""

from __future__ import annotations

import socket
import ssl
import threading

__all__ = ["TlsStream"]

_CHUNK = 1 << 16


class TlsStream:
    """A TLS connection over `sock`, handshaken on construction (ssl.SSLError if the peer
    does not speak TLS, or its certificate is refused).  One thread may call `recv` while
    others call `sendall`."""

    def __init__(
        self,
        sock: socket.socket,
        context: ssl.SSLContext,
        *,
        server_side: bool,
        server_hostname: str | None = None,
    ) -> None:
        self._sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_side=server_side, server_hostname=server_hostname
        )
        self._lock = threading.Lock()  # every use of _tls, and the sending of its output
        self._handshake()

    # -- the raw socket ----------------------------------------------------------------------

    def _flush(self) -> None:
        """Send what the SSL object wrote (under the lock: records leave in order)."""
        data = self._outgoing.read()
        if data:
            self._sock.sendall(data)

    def _feed(self) -> bool:
        """Block for the peer's next bytes (outside the lock) and hand them to the SSL
        object; False at the end of the stream."""
        data = self._sock.recv(_CHUNK)
        with self._lock:
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()
        return bool(data)

    def _handshake(self) -> None:
        while True:
            with self._lock:
                try:
                    self._tls.do_handshake()
                    self._flush()
                    return
                except ssl.SSLWantReadError:
                    self._flush()
            if not self._feed():
                raise ssl.SSLEOFError("the peer closed the connection during the TLS handshake")

    # -- what a socket offers ----------------------------------------------------------------

    def recv(self, size: int) -> bytes:
        """Up to `size` bytes of plaintext; b"" at the end of the stream (the peer's
        close_notify, or its socket closing)."""
        while True:
            with self._lock:
                try:
                    data = self._tls.read(size)
                    self._flush()  # (reading may answer the peer: key updates, alerts)
                    return data
                except ssl.SSLWantReadError:
                    self._flush()
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    return b""
            if not self._feed():
                with self._lock:
                    try:
                        return self._tls.read(size)
                    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError, ssl.SSLEOFError):
                        return b""

    def sendall(self, data: bytes) -> None:
        with self._lock:
            self._tls.write(data)
            self._flush()

    def setsockopt(self, level: int, option: int, value: int | bytes) -> None:
        self._sock.setsockopt(level, option, value)

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()
