"""The host-engine server (`.server` / `-server`, spec §7): remote clients share this
process's session.

Threads, and how every request reaches the engine thread (DESIGN.md, thread model):

* an accept thread takes connections;
* one reader thread per connection reads its frames (pydbg.hostengine.wire), checks the
  password (nothing but `authenticate` is taken before it), and hands every message to
  the engine thread through one inbox: requests queue and run *between waits*, in arrival
  order, on the engine thread, which is the thread that calls `serve()`;
* the one exception is `set_interrupt`, which DbgEng lets any thread call: the reader thread
  calls it at once, so a remote client breaks into a running `wait_for_event` (its own or
  another client's) within milliseconds.

A request that comes while a wait runs waits for it to end (a client that joins during a
wait is answered after it).  Each remote client is a DebugClient of its own
(`create_client`), so the engine's rules hold for it as for a local one:

* output: its output callbacks forward each piece its output mask takes to the
  connection; what it runs is routed by the DEBUG_OUTCTL_* it gives (THIS_CLIENT by
  default; the `-remote` prompt uses ALL_CLIENTS, and the others then see its commands
  echoed as `identity> command`, spec §7.4);
* events: `set_event_interest(mask)` gives it event callbacks that send each event to
  the remote client and wait for its vote, serving that client's own requests meanwhile
  (a remote callback may look at registers or run commands, as a local one may).  The
  votes of every client count by precedence.  A client that does not answer within
  `vote_timeout` seconds (10 by default) votes NO_CHANGE and is disconnected.
  Informational callbacks (session status, Change*State) are sent without waiting;
* leaving: a connection that closes (or breaks) leaves silently (DEBUG_END_DISCONNECT
  without the message); `end_session(DEBUG_END_DISCONNECT)` leaves with a message to the
  others; the other EndSession flags end the session for everyone.  The targets and the
  other clients go on in the first two cases.

Security: the password (if any) is compared with hmac.compare_digest; a wrong one is
answered with an error, logged and the connection closed, and nothing else happens.
Frames that are not JSON-RPC, or come before authentication, are dropped and logged
(the first kind answered with a JSON-RPC error); a frame over wire.MAX_FRAME closes its
connection.  The listener is on the loopback unless told otherwise, and a server off the
loopback needs a password (pydbg.hostengine.options); `tls=(cert, key)` wraps every
connection in TLS (stdlib ssl), through pydbg.hostengine.tls_stream: each connection is
read by its reader thread while the engine thread writes to it, which one SSLSocket may
not be.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import itertools
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pydbg.callbacks import EventCallbacks, OutputCallbacks
from pydbg.client import DebugClient
from pydbg.constants import (
    DEBUG_OUTCTL_ALL_CLIENTS,
    DEBUG_OUTCTL_ALL_OTHER_CLIENTS,
    DEBUG_OUTCTL_THIS_CLIENT,
    DebugEnd,
    DebugInterrupt,
    DebugStatus,
    OutputMask,
)
from pydbg.control import DEBUG_CURRENT_DEFAULT
from pydbg.errors import PydbgError
from pydbg.hostengine import wire
from pydbg.hostengine.options import ServeOptions
from pydbg.hostengine.tls_stream import TlsStream
from pydbg.log import HOSTENGINE as _LOG

__all__ = ["HostEngineServer"]

VOTE_TIMEOUT = 10.0
# A connection must authenticate within this time, and may send this many frames before.
AUTH_TIMEOUT = 30.0
MAX_UNAUTHENTICATED_FRAMES = 16
MAX_CONNECTIONS = 64

Message = dict[str, Any]
_Item = tuple[str, "Connection", "Message | None"]


class ClientGoneError(PydbgError, ConnectionError):
    """A request of a client that has already left (nobody hears the answer)."""


class Connection:
    """One remote client, as the server sees it."""

    def __init__(self, sock: socket.socket, peer: tuple[Any, ...]) -> None:
        self.raw = sock  # the TCP socket
        self.sock: socket.socket | TlsStream = sock  # what frames go through
        self.identity = f"{peer[0]}:{peer[1]}"
        self.send_lock = threading.Lock()
        self.authenticated = False
        self.client: DebugClient | None = None  # made on the engine thread when it joins
        self.closed = False
        self.reader: threading.Thread | None = None
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def send(self, message: Message) -> bool:
        """Send, or close the connection if that fails (its reader then reports it gone)."""
        if self.closed:
            return False
        try:
            wire.send(self.sock, self.send_lock, message)
            return True
        except (OSError, wire.FrameError) as exc:
            _LOG.info("%s: send failed (%s): closing", self.identity, exc)
            self.close()
            return False

    def close(self) -> None:
        """Any thread: shut the socket down, which ends its reader's recv."""
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class _ForwardOutput(OutputCallbacks):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def output(self, mask: int, text: str) -> None:
        self._connection.send(wire.notification("output", {"mask": mask, "text": text}))


def _exception_args(exception: Any, first_chance: bool) -> list[Any]:
    return [dataclasses.asdict(exception), bool(first_chance)]


class _RemoteEventCallbacks(EventCallbacks):
    """Event callbacks of a remote client: each event goes over the wire, and the vote
    comes back (HostEngineServer.ask_vote)."""

    def __init__(self, server: HostEngineServer, connection: Connection, mask: int) -> None:
        self._server = server
        self._connection = connection
        self._mask = mask

    def get_interest_mask(self) -> int:
        return self._mask

    def _ask(self, name: str, args: list[Any]) -> int | None:
        return self._server.ask_vote(self._connection, name, args)

    def _tell(self, name: str, args: list[Any]) -> None:
        self._connection.send(wire.notification("event", {"name": name, "args": args}))

    def breakpoint(self, bp: Any) -> int | None:
        return self._ask("breakpoint", [{"id": bp.get_id(), "offset": bp.get_offset()}])

    def exception(self, exception: Any, first_chance: bool) -> int | None:
        return self._ask("exception", _exception_args(exception, first_chance))

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> int | None:
        return self._ask("create_thread", [handle, data_offset, start_offset])

    def exit_thread(self, exit_code: int) -> int | None:
        return self._ask("exit_thread", [exit_code])

    def create_process(self, *args: Any) -> int | None:
        return self._ask("create_process", list(args))

    def exit_process(self, exit_code: int) -> int | None:
        return self._ask("exit_process", [exit_code])

    def load_module(self, *args: Any) -> int | None:
        return self._ask("load_module", list(args))

    def unload_module(self, image_base_name: str | None, base_offset: int) -> int | None:
        return self._ask("unload_module", [image_base_name, base_offset])

    def system_error(self, error: int, level: int) -> int | None:
        return self._ask("system_error", [error, level])

    def syscall(self, *args: Any) -> int | None:
        return self._ask("syscall", [list(a) if isinstance(a, tuple) else a for a in args])

    def session_status(self, status: int) -> None:
        self._tell("session_status", [int(status)])

    def change_debuggee_state(self, flags: int, argument: int) -> None:
        self._tell("change_debuggee_state", [int(flags), int(argument)])

    def change_engine_state(self, flags: int, argument: int) -> None:
        self._tell("change_engine_state", [int(flags), int(argument)])

    def change_symbol_state(self, flags: int, argument: int) -> None:
        self._tell("change_symbol_state", [int(flags), int(argument)])


class HostEngineServer:
    """Serves the session of `client` (the host's own client) to remote clients.

    server = HostEngineServer(client, parse_serve("tcp:port=0"))
    port = server.start()               # listening; any thread may call start
    server.serve(until=lambda: ...)     # on the engine thread: runs the requests
    server.close()                      # on the engine thread
    """

    def __init__(
        self,
        client: DebugClient,
        options: ServeOptions,
        *,
        tls: tuple[str, str] | None = None,
        vote_timeout: float = VOTE_TIMEOUT,
    ) -> None:
        self._client = client
        self._options = options
        self._vote_timeout = vote_timeout
        self._tls: ssl.SSLContext | None = None
        if tls is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(*tls)
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._inbox: deque[_Item] = deque()
        self._ready = threading.Condition()
        self._connections: list[Connection] = []  # under _ready's lock
        self._closing = False
        # The connection whose wait_for_event the engine thread is in: if it goes away,
        # the wait is ended (an exit interrupt) so that the others are not kept waiting.
        self._waiting_for: Connection | None = None
        self.port = 0
        self._methods: dict[str, Callable[[Connection, Message], object]] = {
            "execute": self._execute,
            "wait_for_event": self._wait_for_event,
            "set_execution_status": self._set_execution_status,
            "get_execution_status": self._get_execution_status,
            "evaluate": self._evaluate,
            "output_current_state": self._output_current_state,
            "controlled_output": self._controlled_output,
            "set_output_mask": self._set_output_mask,
            "get_output_mask": self._get_output_mask,
            "set_event_interest": self._set_event_interest,
            "end_session": self._end_session,
            "clients": self._clients,
        }

    # -- listening (any thread) -----------------------------------------------------------------

    def start(self) -> int:
        """Listen; return the port (the one the system chose for port=0)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self._options.bind, self._options.port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="pydbg-hostengine-accept", daemon=True
        )
        self._acceptor.start()
        _LOG.info("serving on %s:%d", self._options.bind, self.port)
        return self.port

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._closing:
            try:
                sock, peer = listener.accept()
            except OSError:
                return  # close() shut the listener down
            connection = Connection(sock, peer)
            with self._ready:
                if self._closing or len(self._connections) >= MAX_CONNECTIONS:
                    _LOG.warning("%s: refused (server closing or full)", connection.identity)
                    sock.close()
                    continue
                self._connections.append(connection)
            reader = threading.Thread(
                target=self._read_loop,
                args=(connection,),
                name=f"pydbg-hostengine-{connection.identity}",
                daemon=True,
            )
            connection.reader = reader
            reader.start()

    # -- reading (one thread per connection) ----------------------------------------------------

    def _read_loop(self, connection: Connection) -> None:
        try:
            self._prepare(connection)
            self._read_frames(connection)
        except (OSError, ValueError) as exc:  # ssl errors are OSErrors
            _LOG.info("%s: connection lost (%s)", connection.identity, exc)
        finally:
            connection.close()
            with contextlib.suppress(OSError):
                connection.sock.close()
            if self._waiting_for is connection:
                with contextlib.suppress(PydbgError):
                    self._client.control.set_interrupt(DebugInterrupt.EXIT)
            self._post("gone", connection, None)

    def _prepare(self, connection: Connection) -> None:
        sock = connection.raw
        # Output pieces and the answer go out as several small frames: without NODELAY,
        # Nagle holds each for the peer's delayed ACK (40 ms a command).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A connection has AUTH_TIMEOUT to authenticate; the TLS handshake counts.
        sock.settimeout(AUTH_TIMEOUT)
        # A client that stops reading must not block the engine thread's sends for ever:
        # SO_SNDTIMEO makes such a send fail, and the connection is then closed.
        timeval = struct.pack("ll", int(self._vote_timeout), 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        if self._tls is not None:
            # (A TlsStream, not an SSLSocket: the reader thread reads while others send.)
            connection.sock = TlsStream(sock, self._tls, server_side=True)

    def _read_frames(self, connection: Connection) -> None:
        dropped = 0
        while True:
            try:
                body = wire.read_frame(connection.sock)
            except wire.OversizeFrameError as exc:
                _LOG.warning("%s: %s: closing", connection.identity, exc)
                if connection.authenticated:
                    connection.send(wire.error(None, wire.INVALID_REQUEST, str(exc)))
                return
            if body is None:
                return
            try:
                message = wire.decode(body)
            except wire.FrameError as exc:
                _LOG.warning("%s: dropped a malformed frame: %s", connection.identity, exc)
                if connection.authenticated:
                    connection.send(wire.error(None, wire.PARSE_ERROR, str(exc)))
                    continue
                dropped += 1
                if dropped >= MAX_UNAUTHENTICATED_FRAMES:
                    return
                continue
            if not connection.authenticated:
                if message.get("method") != "authenticate":
                    _LOG.warning("%s: dropped a frame before authentication", connection.identity)
                    dropped += 1
                    if dropped >= MAX_UNAUTHENTICATED_FRAMES:
                        return
                    continue
                if not self._password_ok(message):
                    _LOG.warning("%s: refused: wrong password", connection.identity)
                    connection.send(
                        wire.error(message.get("id"), wire.NOT_AUTHENTICATED, "wrong password")
                    )
                    return
                connection.authenticated = True
                connection.sock.settimeout(None)
                self._post("join", connection, message)
                continue
            if message.get("method") == "set_interrupt":
                self._set_interrupt(connection, message)
                continue
            self._post("message", connection, message)

    def _password_ok(self, message: Message) -> bool:
        expected = self._options.password
        if expected is None:
            return True
        given = message["params"].get("password")
        if not isinstance(given, str):
            return False
        return hmac.compare_digest(given.encode(), expected.encode())

    def _set_interrupt(self, connection: Connection, message: Message) -> None:
        """SetInterrupt, on the reader thread: the one call any thread may make."""
        flags = message["params"].get("flags", 0)
        try:
            if isinstance(flags, bool) or not isinstance(flags, int):
                raise wire.FrameError(f"flags {flags!r} is no DEBUG_INTERRUPT_* value")
            self._client.control.set_interrupt(flags)
            reply = wire.response(message.get("id"), None)
        except PydbgError as exc:
            reply = wire.error(message.get("id"), wire.CALL_FAILED, str(exc))
        if message.get("id") is not None:
            connection.send(reply)

    def _post(self, kind: str, connection: Connection, message: Message | None) -> None:
        with self._ready:
            self._inbox.append((kind, connection, message))
            self._ready.notify()

    # -- the engine thread ----------------------------------------------------------------------

    def _next(self, timeout: float) -> _Item | None:
        with self._ready:
            if not self._inbox:
                self._ready.wait(timeout)
            return self._inbox.popleft() if self._inbox else None

    def serve(self, until: Callable[[], bool] | None = None, poll: float = 0.5) -> None:
        """Run the remote clients' requests on this (the engine) thread until `until()`
        is true (checked at least every `poll` seconds) or stop() is called."""
        while not self._closing and not (until is not None and until()):
            item = self._next(poll)
            if item is not None:
                self._handle(item)

    def stop(self) -> None:
        """Make serve() return (any thread)."""
        with self._ready:
            self._closing = True
            self._ready.notify_all()

    def close(self) -> None:
        """Stop listening, disconnect every client (on the engine thread)."""
        self.stop()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        if self._acceptor is not None:
            self._acceptor.join()
        with self._ready:
            connections = list(self._connections)
        for connection in connections:
            connection.close()
        for connection in connections:
            if connection.reader is not None:
                connection.reader.join()
        with self._ready:
            items, self._inbox = list(self._inbox), deque()
        for kind, connection, _ in items:
            if kind == "gone":
                self._gone(connection)

    def _handle(self, item: _Item) -> None:
        kind, connection, message = item
        if kind == "gone":
            self._gone(connection)
        elif kind == "join" and message is not None:
            self._join(connection, message)
        elif message is not None and connection.client is not None:
            if "method" in message:
                self._call(connection, message)
            else:
                _LOG.info("%s: dropped a late answer (id %r)", connection.identity, message["id"])

    def _join(self, connection: Connection, message: Message) -> None:
        if connection.closed:
            return
        client = self._client.create_client()
        connection.client = client
        client.set_output_callbacks(_ForwardOutput(connection))
        # DbgEng announces a new client to the others (spec §7.4).
        client.control.controlled_output(
            DEBUG_OUTCTL_ALL_OTHER_CLIENTS, OutputMask.NORMAL, f"{connection.identity} connected\n"
        )
        _LOG.info("%s: joined", connection.identity)
        connection.send(wire.response(message.get("id"), {"identity": connection.identity}))

    def _gone(self, connection: Connection) -> None:
        """The connection closed: the client leaves silently (if it had not left)."""
        with self._ready:
            if connection in self._connections:
                self._connections.remove(connection)
        client, connection.client = connection.client, None
        if client is not None:
            with contextlib.suppress(PydbgError):
                client.end_session(DebugEnd.DISCONNECT)
            _LOG.info("%s: left", connection.identity)

    def _call(self, connection: Connection, message: Message) -> None:
        call_id = message.get("id")
        method = self._methods.get(message["method"])
        if method is None:
            reply = wire.error(call_id, wire.METHOD_NOT_FOUND, f"no method {message['method']!r}")
        else:
            try:
                reply = wire.response(call_id, method(connection, message["params"]))
            except PydbgError as exc:
                reply = wire.error(call_id, wire.CALL_FAILED, str(exc))
            except (KeyError, TypeError, ValueError) as exc:
                reply = wire.error(call_id, wire.INVALID_PARAMS, f"bad params: {exc!r}")
            except Exception as exc:  # noqa: BLE001 - a remote call must not end the server
                _LOG.exception("%s: %s failed", connection.identity, message["method"])
                reply = wire.error(call_id, wire.CALL_FAILED, f"internal error: {exc!r}")
        if call_id is not None:
            connection.send(reply)

    def ask_vote(self, connection: Connection, name: str, args: list[Any]) -> int | None:
        """Send an event to a remote client and wait for its vote (module docstring)."""
        call_id = connection.next_id()
        if not connection.send(wire.request(call_id, "event", {"name": name, "args": args})):
            return None
        deadline = time.monotonic() + self._vote_timeout
        deferred: list[_Item] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _LOG.warning(
                        "%s: no vote on %s within %gs: NO_CHANGE, disconnected",
                        connection.identity,
                        name,
                        self._vote_timeout,
                    )
                    connection.close()
                    return None
                item = self._next(remaining)
                if item is None:
                    continue
                kind, who, message = item
                if who is not connection or kind != "message" or message is None:
                    deferred.append(item)
                    if who is connection and kind == "gone":
                        return None
                    continue
                if "method" in message:
                    self._call(connection, message)  # the callback looks at the target
                elif message["id"] == call_id:
                    return _vote(message)
        finally:
            with self._ready:
                self._inbox.extendleft(reversed(deferred))

    # -- the methods ----------------------------------------------------------------------------

    @staticmethod
    def _own(connection: Connection) -> DebugClient:
        assert connection.client is not None
        return connection.client

    def _execute(self, connection: Connection, params: Message) -> None:
        command = params["command"]
        output_control = _int(params, "output_control", DEBUG_OUTCTL_THIS_CLIENT)
        if not isinstance(command, str):
            raise TypeError("command is a string")
        client = self._own(connection)
        if output_control == DEBUG_OUTCTL_ALL_CLIENTS:
            # Everyone sees every command, prefixed with who typed it (spec §7.4).
            client.control.controlled_output(
                DEBUG_OUTCTL_ALL_OTHER_CLIENTS,
                OutputMask.PROMPT,
                f"{connection.identity}> {command}\n",
            )
        client.control.execute(command, output_control)

    def _wait_for_event(self, connection: Connection, params: Message) -> bool:
        timeout = params.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float))
        ):
            raise TypeError("timeout is a number of seconds or null")
        self._waiting_for = connection
        try:
            if connection.closed:
                # Gone before its wait began (its reader saw no wait to end): no wait.
                raise ClientGoneError("the client left before its wait began")
            return self._own(connection).control.wait_for_event(timeout)
        finally:
            self._waiting_for = None

    def _set_execution_status(self, connection: Connection, params: Message) -> None:
        self._own(connection).control.set_execution_status(_int(params, "status"))

    def _get_execution_status(self, connection: Connection, params: Message) -> int:
        return int(self._own(connection).control.get_execution_status())

    def _evaluate(self, connection: Connection, params: Message) -> int:
        expression = params["expression"]
        if not isinstance(expression, str):
            raise TypeError("expression is a string")
        return self._own(connection).control.evaluate(expression)

    def _output_current_state(self, connection: Connection, params: Message) -> None:
        client = self._own(connection)
        output_control = _int(params, "output_control", DEBUG_OUTCTL_THIS_CLIENT)
        with client.output_routing(output_control):
            client.control.output_current_state(_int(params, "flags", DEBUG_CURRENT_DEFAULT))

    def _controlled_output(self, connection: Connection, params: Message) -> None:
        text = params["text"]
        if not isinstance(text, str):
            raise TypeError("text is a string")
        self._own(connection).control.controlled_output(
            _int(params, "output_control"), _int(params, "mask"), text
        )

    def _set_output_mask(self, connection: Connection, params: Message) -> None:
        self._own(connection).set_output_mask(_int(params, "mask"))

    def _get_output_mask(self, connection: Connection, params: Message) -> int:
        return self._own(connection).get_output_mask()

    def _set_event_interest(self, connection: Connection, params: Message) -> None:
        mask = params["mask"]
        if isinstance(mask, bool) or not isinstance(mask, int):
            raise TypeError("mask is a DEBUG_EVENT_* int")
        callbacks = _RemoteEventCallbacks(self, connection, mask) if mask else None
        self._own(connection).set_event_callbacks(callbacks)

    def _end_session(self, connection: Connection, params: Message) -> None:
        flags = _int(params, "flags")
        client = self._own(connection)
        if flags in (DebugEnd.DISCONNECT, DebugEnd.REENTRANT):
            if flags == DebugEnd.DISCONNECT:
                # The one disconnect that is announced (spec §6.5, §7.4).
                client.control.controlled_output(
                    DEBUG_OUTCTL_ALL_OTHER_CLIENTS,
                    OutputMask.NORMAL,
                    f"{connection.identity} disconnected\n",
                )
            connection.client = None
            client.end_session(DebugEnd.DISCONNECT)
            _LOG.info("%s: disconnected", connection.identity)
            return
        client.end_session(flags)

    def _clients(self, connection: Connection, params: Message) -> list[str]:
        """`.clients`: who is connected."""
        with self._ready:
            return [c.identity for c in self._connections if c.client is not None]


def _int(params: Message, key: str, default: int | None = None) -> int:
    """An int parameter; TypeError (answered as invalid params) for anything else."""
    value = params.get(key, default) if default is not None else params[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{key} must be an int, not {value!r}")
    return value


def _vote(message: Message) -> int | None:
    """A remote callback's answer as a vote; an error (its callback raised) is BREAK, as a
    local callback's exception is."""
    if "error" in message:
        return int(DebugStatus.BREAK)
    result = message.get("result")
    if result is None or (isinstance(result, int) and not isinstance(result, bool)):
        return result
    return int(DebugStatus.BREAK)
