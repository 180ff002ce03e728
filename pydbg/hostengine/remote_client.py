"""DebugConnect: a client of a remote host engine (`pydbg.connect`, `pydbg -remote`).

    client = pydbg.connect("tcp:server=127.0.0.1,port=5005,password=secret")
    client.set_output_callbacks(lambda mask, text: print(text, end=""))
    client.control.execute("bp loop!tick; g")
    client.control.wait_for_event()
    client.control.execute("k; r rip")
    client.end_session(DEBUG_END_DISCONNECT)       # leave; the session goes on

The object mirrors DebugClient's shape for what makes sense remotely: `control.execute`,
`wait_for_event`, `set_execution_status`, `get_execution_status`, `evaluate`,
`output_current_state`, `controlled_output`, `set_interrupt`; output callbacks and mask;
event callbacks (an EventCallbacks subclass: its votes count on the server like a local
client's); `end_session`.  Each call is a JSON-RPC request run on the server's engine
thread (pydbg.hostengine.server); a call that fails there raises RemoteCallError with the
server's message.

Threads: a reader thread takes what the server sends.  Output callbacks run on it, before
the answer of the call that produced the output is handed back.  Event callbacks run on a
dispatch thread of their own, so they may call the client (read registers, run commands)
while the server waits for their vote; they must answer within the server's vote timeout
(10 s by default) or count as NO_CHANGE and be disconnected.  `control.set_interrupt` and
`end_session(DEBUG_END_REENTRANT)` may be called from any thread.

Leaving: `end_session(DEBUG_END_DISCONNECT)` says goodbye (the others see a message);
`close()` (or leaving a `with` block) just drops the connection, as does
`end_session(DEBUG_END_REENTRANT)`, which takes no lock and may be called from any thread,
even while another is blocked in a call (that call raises RemoteDisconnectedError).  The
other EndSession flags end the session on the server for every client.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from pydbg.callbacks import EventCallbacks, OutputCallbacks
from pydbg.constants import (
    DEBUG_OUTCTL_THIS_CLIENT,
    DebugEnd,
    DebugInterrupt,
    DebugStatus,
)
from pydbg.control import DEBUG_CURRENT_DEFAULT
from pydbg.engine.signals import ExceptionRecord
from pydbg.errors import PydbgError
from pydbg.hostengine import wire
from pydbg.hostengine.options import ConnectOptions, parse_connect
from pydbg.hostengine.tls_stream import TlsStream

__all__ = [
    "RemoteAuthenticationError",
    "RemoteBreakpoint",
    "RemoteCallError",
    "RemoteClient",
    "RemoteControl",
    "RemoteDisconnectedError",
    "connect",
]

Message = dict[str, Any]

CONNECT_TIMEOUT = 10.0


class RemoteCallError(PydbgError, RuntimeError):
    """The server could not do what was asked; the message is the server's."""


class RemoteDisconnectedError(RemoteCallError, ConnectionError):
    """The connection to the server is closed."""


class RemoteAuthenticationError(RemoteCallError, PermissionError):
    """The server refused the password."""


@dataclass(frozen=True)
class RemoteBreakpoint:
    """What a remote client's breakpoint callback gets: the breakpoint's id and offset
    (the server keeps the breakpoint; commands such as `bl`/`bc` reach it)."""

    id: int
    offset: int

    def get_id(self) -> int:
        return self.id

    def get_offset(self) -> int:
        return self.offset


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: Message | None = None


class RemoteControl:
    """The control facet of a remote client (IDebugControl, as far as it goes remotely)."""

    def __init__(self, client: RemoteClient) -> None:
        self._client = client

    def execute(self, command: str, output_control: int = DEBUG_OUTCTL_THIS_CLIENT) -> None:
        """Execute on the server; output_control routes its output (DEBUG_OUTCTL_*)."""
        self._client.call("execute", command=command, output_control=output_control)

    def wait_for_event(self, timeout: float | None = None) -> bool:
        """WaitForEvent on the server (see Control.wait_for_event).  Other clients' calls
        wait while it runs; their set_interrupt does not."""
        return bool(self._client.call("wait_for_event", timeout=timeout))

    def set_execution_status(self, status: int) -> None:
        self._client.call("set_execution_status", status=int(status))

    def get_execution_status(self) -> DebugStatus:
        return DebugStatus(self._client.call("get_execution_status"))

    def evaluate(self, expression: str) -> int:
        return int(self._client.call("evaluate", expression=expression))

    def output_current_state(
        self, flags: int = DEBUG_CURRENT_DEFAULT, output_control: int = DEBUG_OUTCTL_THIS_CLIENT
    ) -> None:
        self._client.call("output_current_state", flags=flags, output_control=output_control)

    def controlled_output(self, output_control: int, mask: int, text: str) -> None:
        self._client.call("controlled_output", output_control=output_control, mask=mask, text=text)

    def set_interrupt(self, flags: int = DebugInterrupt.ACTIVE) -> None:
        """SetInterrupt; any thread.  The server takes it at once, even during a wait."""
        self._client.call("set_interrupt", flags=int(flags))


class RemoteClient:
    """A client of a remote host engine (module docstring)."""

    def __init__(self, sock: socket.socket | TlsStream, options: ConnectOptions) -> None:
        self._sock = sock
        self._options = options
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._closed = False
        self._output_callbacks: OutputCallbacks | None = None
        self._event_callbacks: EventCallbacks | None = None
        self._events: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self.identity = ""
        self.control = RemoteControl(self)
        self._reader = threading.Thread(
            target=self._read_loop, name="pydbg-remote-reader", daemon=True
        )
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="pydbg-remote-events", daemon=True
        )
        self._reader.start()
        self._dispatcher.start()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- calls ----------------------------------------------------------------------------------

    def call(self, method: str, **params: Any) -> Any:
        """One JSON-RPC call; its result.  RemoteCallError when the server says no."""
        if self._closed:
            raise RemoteDisconnectedError(f"{method}: the connection to the server is closed")
        call_id = next(self._ids)
        pending = _Pending()
        with self._pending_lock:
            self._pending[call_id] = pending
        try:
            self._send(wire.request(call_id, method, params))
            pending.done.wait()
        finally:
            with self._pending_lock:
                self._pending.pop(call_id, None)
        reply = pending.reply
        if reply is None:
            raise RemoteDisconnectedError(f"{method}: the connection to the server closed")
        if "error" in reply:
            error = reply["error"]
            message = f"{method}: {error.get('message')}"
            if error.get("code") == wire.NOT_AUTHENTICATED:
                raise RemoteAuthenticationError(message)
            raise RemoteCallError(message)
        return reply.get("result")

    def _send(self, message: Message) -> None:
        try:
            wire.send(self._sock, self._send_lock, message)
        except OSError as exc:
            self._shutdown()
            raise RemoteDisconnectedError(f"the connection to the server broke: {exc}") from None

    # -- what the server sends ------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while True:
                body = wire.read_frame(self._sock)
                if body is None:
                    return
                try:
                    message = wire.decode(body)
                except wire.FrameError:
                    continue  # nothing to answer a server that speaks nonsense
                self._take(message)
        except (OSError, wire.FrameError):
            return
        finally:
            self._closed = True
            with self._pending_lock:
                pending = list(self._pending.values())
            for waiter in pending:
                waiter.done.set()  # reply None: disconnected
            self._events.put(None)

    def _take(self, message: Message) -> None:
        method = message.get("method")
        if method is None:
            with self._pending_lock:
                waiter = self._pending.get(message["id"])
            if waiter is not None:
                waiter.reply = message
                waiter.done.set()
        elif method == "output":
            callbacks = self._output_callbacks
            params = message["params"]
            if callbacks is not None:
                with contextlib.suppress(Exception):  # as the engine does for local ones
                    callbacks.output(int(params.get("mask", 0)), str(params.get("text", "")))
        elif method == "event":
            self._events.put(message)

    def _dispatch_loop(self) -> None:
        while True:
            message = self._events.get()
            if message is None:
                return
            vote: Any = None
            failed: str | None = None
            try:
                vote = self._deliver(message["params"])
            except Exception as exc:  # noqa: BLE001 - the server counts it as BREAK
                failed = f"{type(exc).__name__}: {exc}"
            if message.get("id") is None:
                continue  # an informational callback: no vote
            reply = (
                wire.error(message["id"], wire.CALL_FAILED, failed)
                if failed is not None
                else wire.response(message["id"], None if vote is None else int(vote))
            )
            with contextlib.suppress(RemoteDisconnectedError):
                self._send(reply)

    def _deliver(self, params: Message) -> Any:
        callbacks = self._event_callbacks
        name, args = params["name"], list(params["args"])
        if callbacks is None or not isinstance(name, str) or name.startswith("_"):
            return None
        if name == "breakpoint":
            args = [RemoteBreakpoint(int(args[0]["id"]), int(args[0]["offset"]))]
        elif name == "exception":
            fields = dict(args[0])
            fields["exception_information"] = tuple(fields["exception_information"])
            args = [ExceptionRecord(**fields), bool(args[1])]
        elif name == "syscall":
            args[3] = tuple(args[3])
        method: Callable[..., Any] = getattr(callbacks, name)
        return method(*args)

    # -- callbacks and output -------------------------------------------------------------------

    def set_output_callbacks(
        self, callbacks: OutputCallbacks | Callable[[int, str], object] | None
    ) -> None:
        """SetOutputCallbacks: an OutputCallbacks, or any callable(mask, text); called on
        the reader thread."""
        if callbacks is not None and not isinstance(callbacks, OutputCallbacks):
            callbacks = _CallableOutput(callbacks)
        self._output_callbacks = callbacks

    def get_output_callbacks(self) -> OutputCallbacks | None:
        return self._output_callbacks

    def set_output_mask(self, mask: int) -> None:
        self.call("set_output_mask", mask=int(mask))

    def get_output_mask(self) -> int:
        return int(self.call("get_output_mask"))

    def set_event_callbacks(self, callbacks: EventCallbacks | None) -> None:
        """SetEventCallbacks: the server sends the events of get_interest_mask() and waits
        for the votes (module docstring)."""
        mask = 0 if callbacks is None else int(callbacks.get_interest_mask())
        self._event_callbacks = callbacks
        self.call("set_event_interest", mask=mask)

    def get_event_callbacks(self) -> EventCallbacks | None:
        return self._event_callbacks

    def clients(self) -> list[str]:
        """`.clients`: the identity of every remote client of the server."""
        return list(self.call("clients"))

    # -- leaving --------------------------------------------------------------------------------

    def end_session(self, flags: int) -> None:
        """EndSession (module docstring): DISCONNECT leaves with a goodbye, REENTRANT
        drops the connection from any thread; the others end the server's session."""
        if flags == DebugEnd.REENTRANT:
            self._shutdown()  # no lock, no wait: the server sees the connection close
            return
        self.call("end_session", flags=int(flags))
        if flags == DebugEnd.DISCONNECT:
            self.close()

    def _shutdown(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Drop the connection (silently, for the others) and end the client's threads."""
        self._shutdown()
        current = threading.current_thread()
        for thread in (self._reader, self._dispatcher):
            if thread is not current and thread.ident is not None:
                thread.join()
        with contextlib.suppress(OSError):
            self._sock.close()


class _CallableOutput(OutputCallbacks):
    def __init__(self, function: Callable[[int, str], object]) -> None:
        self._function = function

    def output(self, mask: int, text: str) -> None:
        self._function(mask, text)


def connect(remote_options: str, *, timeout: float = CONNECT_TIMEOUT) -> RemoteClient:
    """DebugConnect: connect to a host engine, e.g. "tcp:server=H,port=N,password=P"
    (pydbg.hostengine.options), and join its session.  RemoteAuthenticationError: wrong
    password; OSError: nobody listens there."""
    options = parse_connect(remote_options)
    sock = socket.create_connection((options.server, options.port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the server (there)
        stream: socket.socket | TlsStream = sock
        if options.tls:
            context = ssl.create_default_context(cafile=options.cafile)
            if options.cafile is not None:
                context.check_hostname = False  # a self-signed server certificate
            # (The handshake runs under the connect timeout.  A TlsStream, not an SSLSocket:
            # the reader thread reads while callers send.)
            stream = TlsStream(sock, context, server_side=False, server_hostname=options.server)
        sock.settimeout(None)
    except (OSError, ValueError):
        sock.close()
        raise
    client = RemoteClient(stream, options)
    try:
        joined = client.call("authenticate", password=options.password)
    except BaseException:
        client.close()
        raise
    client.identity = str(joined.get("identity", "")) if isinstance(joined, dict) else ""
    return client
