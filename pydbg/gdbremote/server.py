"""The GDB-remote server: one gdb (or lldb) connection's packets, served by the facets.

What it answers (gdb manual, "Remote Protocol"), all-stop only:

* qSupported, QStartNoAckMode, ?, !, qAttached, qC, T, H g/c, qfThreadInfo/qsThreadInfo,
  QThreadEvents (accepted; thread events are not reported), QPassSignals
* g/G, p/P (target_xml.REGISTERS), m/M, x/X (binary; `x` replies lldb's way, raw data)
* Z0-Z4/z0-z4 onto the breakpoints facet: software (an engine code breakpoint),
  hardware (a data breakpoint with DEBUG_BREAK_EXECUTE), write watchpoints (WRITE) and
  access watchpoints (READ, which on x86 means read or write).  Read-only watchpoints
  (Z3) do not exist on x86 and get the empty reply, as from gdbserver.  A watched range
  that is not one aligned 1/2/4/8-byte slot is split over several debug registers.
* vCont? / vCont with c, C, s, S (t is refused: it needs non-stop mode, which is not
  supported), and the old c/C/s/S.  A step runs only the stepped thread (the engine's
  single-step), where gdbserver lets the others run: scheduler-locking during steps.
  A signal given with C/S is delivered only if it is the one the thread stopped with
  (the engine passes or suppresses the pending signal; it cannot inject another).
* k, vKill, D, and in extended mode (--multi) vRun and vAttach
* qXfer:features (target.xml), libraries-svr4, auxv, exec-file, threads; vFile (files.py)
* 0x03 while the targets run: break in, reported as SIGINT.

Anything else gets the empty reply; a malformed packet an `Exx` reply.  No packet can end
the session except k, vKill, D and the connection closing (a launched program is then
killed, an attached one detached).
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pydbg.constants import (
    DEBUG_BREAK_EXECUTE,
    DEBUG_BREAK_READ,
    DEBUG_BREAK_WRITE,
    DEBUG_BREAKPOINT_CODE,
    DEBUG_BREAKPOINT_DATA,
    DEBUG_BREAKPOINT_ENABLED,
    DebugEnd,
    DebugStatus,
    FilterStatus,
)
from pydbg.control import LastEventBreakpoint, LastEventException, LastEventExitProcess
from pydbg.errors import PydbgError
from pydbg.gdbremote import host_info, register_file, stops
from pydbg.gdbremote.files import FileServer
from pydbg.gdbremote.link_map import libraries_svr4_xml
from pydbg.gdbremote.packets import (
    Ack,
    Bad,
    Interrupt,
    Packet,
    PacketReader,
    escape,
    frame,
    unescape,
)
from pydbg.gdbremote.target_xml import REGISTERS, by_name, target_xml

if TYPE_CHECKING:
    from pydbg.breakpoints import Breakpoint
    from pydbg.client import DebugClient

__all__ = ["GdbServer", "PACKET_SIZE"]

log = logging.getLogger("pydbg.gdbremote")

PACKET_SIZE = 0x4000
_BREAK_CODE = 0x80000003  # STATUS_BREAKPOINT: the initial breakpoint and a break-in
_EXPEDITE = tuple(by_name(name) for name in ("rbp", "rsp", "rip"))
_PAGE = 4096
_DATA_SLOTS = (8, 4, 2, 1)
_QUICK_WAIT = 0.05  # seconds a wait runs before the interrupt watcher starts


class ProtocolError(ValueError):
    """A malformed packet; the reply is `E` + code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _ZPoint:
    kind: int  # the Z packet type, 0..4
    address: int
    length: int
    breakpoints: list[Breakpoint] = field(default_factory=list)


def _split(address: int, length: int) -> list[tuple[int, int]]:
    """An address range as aligned 1/2/4/8-byte slots, as debug registers need them."""
    out = []
    end = address + length
    while address < end:
        for size in _DATA_SLOTS:
            if address % size == 0 and address + size <= end:
                out.append((address, size))
                address += size
                break
    return out


def _hex_int(text: bytes) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise ProtocolError(f"{text[:32]!r} is not a hex number") from None


def _parse_thread(text: bytes) -> tuple[int, int]:
    """A thread-id: (pid, tid); -1 means all, 0 any; `pPID.TID` or `TID`."""
    if text.startswith(b"p"):
        pid_text, _, tid_text = text[1:].partition(b".")
        pid = -1 if pid_text == b"-1" else _hex_int(pid_text)
        tid = -1 if tid_text in (b"", b"-1") else _hex_int(tid_text)
        return pid, tid
    if text == b"-1":
        return -1, -1
    return 0, _hex_int(text)


class _InterruptWatcher:
    """While the targets run: watch the connection for gdb's 0x03 (or its going away)
    and break in with control.set_interrupt, the one call another thread may make.
    The watcher only peeks at what is not an interrupt, leaving it for the packet loop."""

    def __init__(self, sock: socket.socket, interrupt: Callable[[], None]) -> None:
        self._sock = sock
        self._interrupt = interrupt
        self._wake_r, self._wake_w = os.pipe()
        self.interrupted = False
        self.disconnected = False
        self._thread = threading.Thread(target=self._run, name="gdbremote-interrupt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        watching = True
        while True:
            fds = [self._wake_r, self._sock.fileno()] if watching else [self._wake_r]
            readable, _, _ = select.select(fds, [], [])
            if self._wake_r in readable:
                return
            try:
                head = self._sock.recv(1, socket.MSG_PEEK)
            except OSError:
                head = b""
            if head == b"\x03" or head == b"+":
                self._sock.recv(1)
                if head == b"\x03":
                    self.interrupted = True
                    self._interrupt()
                continue
            if not head:
                self.disconnected = True
                self._interrupt()
            watching = False  # a packet (or the end): the packet loop reads it after the stop


class GdbServer:
    """Serves one connection on one client's session.  `program` is what vRun runs when
    gdb names no program; `attached` says whether the current target was attached to
    (qAttached, and what the end of the connection does to it)."""

    def __init__(
        self,
        client: DebugClient,
        *,
        extended: bool = False,
        program: list[str] | None = None,
        attached: bool = False,
    ) -> None:
        self.client = client
        self.extended = extended
        self.program = program or []
        self.attached = attached
        self.alive = bool(client.describe_processes())
        self.no_ack = False
        self.lldb = False  # the peer asked lldb's questions (qHostInfo)
        self.multiprocess = False
        self.pass_signals: set[int] = set()
        self.last_stop: stops.Stop | None = None
        self._zpoints: dict[tuple[int, int, int], _ZPoint] = {}
        self._bp_owner: dict[int, _ZPoint] = {}
        self._step_thread = -1  # Hc
        self._files = FileServer()
        self._sock: socket.socket | None = None
        self._last_reply = b""
        self._pending_signal = 0
        self._report_every_signal()
        if self.alive:
            self.last_stop = self._stop_from_event(interrupted=False)

    def _report_every_signal(self) -> None:
        """gdb decides about signals (`handle`, QPassSignals): every exception filter is
        set to break at the first chance, so that each signal reaches gdb as gdbserver
        reports it (cdb's defaults would let most of them pass unseen)."""
        control = self.client.control
        events, specific, arbitrary = control.get_number_event_filters()
        params = control.get_exception_filter_parameters(start=events, count=specific + arbitrary)
        control.set_exception_filter_parameters(
            [replace(p, execution_option=FilterStatus.BREAK) for p in params]
        )

    # -- connection ---------------------------------------------------------------------------

    def serve(self, sock: socket.socket) -> None:
        """Answer packets until the peer closes the connection or detaches or kills."""
        self._sock = sock
        reader = PacketReader(PACKET_SIZE)
        try:
            while True:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    for event in reader.feed(data):
                        if not self._event(event):
                            return
                except OSError as exc:  # the peer went away while we answered
                    log.info("connection lost: %s", exc)
                    return
        finally:
            self._files.close_all()
            self._sock = None

    def _event(self, event: Packet | Bad | Ack | Interrupt) -> bool:
        """React to one event from the reader; False when the connection should end."""
        assert self._sock is not None
        if isinstance(event, Packet):
            if not self.no_ack:
                self._sock.sendall(b"+")
            return self._handle(event.payload)
        if isinstance(event, Bad):
            log.info("dropped a packet: %s", event.reason)
            if not self.no_ack:
                self._sock.sendall(b"-")
        elif isinstance(event, Ack) and not event.ok and self._last_reply and not self.no_ack:
            self._sock.sendall(self._last_reply)  # gdb asks for the reply again
        # An Interrupt while the targets are stopped has nothing to break into.
        return True

    def _send(self, payload: bytes, *, binary: bool = False) -> None:
        packet = frame(payload, compress=not binary)
        self._last_reply = packet
        assert self._sock is not None
        self._sock.sendall(packet)

    def _handle(self, payload: bytes) -> bool:
        """Answer one packet; False when the connection should end."""
        log.debug("<- %r", payload[:200])
        try:
            reply = self._dispatch(payload)
        except ProtocolError as exc:
            log.info("malformed %r: %s", payload[:64], exc)
            reply = b"E%02x" % exc.code
        except (PydbgError, OSError, ValueError, LookupError, OverflowError) as exc:
            log.info("%r failed: %s", payload[:64], exc)
            reply = b"E01"
        if reply is None:  # k: no reply, and the end of the connection
            return False
        self._send(reply, binary=payload[:1] in (b"x", b"q", b"v"))
        if payload[:1] == b"k" and not self.extended:
            return False
        log.debug("-> %r", reply[:200])
        # After a detach, a plain `target remote` session is over.
        return not (payload[:1] == b"D" and reply == b"OK" and not self.extended)

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, payload: bytes) -> bytes | None:
        head = payload[:1]
        body = payload[1:]
        if head == b"q" or head == b"Q":
            return self._query(payload)
        if head == b"v":
            return self._v_packet(payload)
        if head == b"?":
            return self._stop_reply(self.last_stop)
        if head == b"!":
            return b"OK" if self.extended else b""
        if head == b"k":
            pid = self._pid() if self.alive else 0
            self._kill()
            if self.lldb:  # lldb waits for the exit reply; gdb reads none
                return b"X09" + (b";process:%x" % pid if self.multiprocess else b"")
            return None if not self.extended else b"OK"
        if head == b"D":
            return self._detach()
        if not self.alive:
            return b"E01" if head in b"gGpPmMxXZzTHcCsS" else b""
        if head == b"g":
            return register_file.read_all(self.client.registers).hex().encode()
        if head == b"G":
            return self._write_registers(body)
        if head == b"p":
            number = _hex_int(body)
            if not 0 <= number < len(REGISTERS):
                raise ProtocolError(f"no register {number}")
            return register_file.read_one(self.client.registers, number).hex().encode()
        if head == b"P":
            number_text, _, value = body.partition(b"=")
            number = _hex_int(number_text)
            if not 0 <= number < len(REGISTERS):
                raise ProtocolError(f"no register {number}")
            register_file.write_one(self.client.registers, number, bytes.fromhex(value.decode()))
            return b"OK"
        if head == b"m":
            address, length = self._address_length(body)
            return self._read_memory(address, length).hex().encode()
        if head == b"x":
            address, length = self._address_length(body)
            if length == 0:
                return b"OK"
            return escape(self._read_memory(address, length))
        if head == b"M":
            where, _, data = body.partition(b":")
            address, length = self._address_length(where)
            raw = bytes.fromhex(data.decode())
            return self._write_memory(address, length, raw)
        if head == b"X":
            where, _, data = body.partition(b":")
            address, length = self._address_length(where)
            return self._write_memory(address, length, unescape(data))
        if head in (b"Z", b"z"):
            return self._zpacket(head == b"Z", body)
        if head == b"T":
            return b"OK" if self._thread_alive(_parse_thread(body)[1]) else b"E01"
        if head == b"H":
            return self._set_thread(body)
        if head in (b"c", b"C", b"s", b"S"):
            return self._old_resume(head, body)
        return b""

    def _address_length(self, text: bytes) -> tuple[int, int]:
        address, sep, length = text.partition(b",")
        if not sep:
            raise ProtocolError("ADDR,LENGTH expected")
        value, size = _hex_int(address), _hex_int(length)
        if size > PACKET_SIZE or address.startswith(b"-") or length.startswith(b"-"):
            raise ProtocolError("length out of range")
        return value, size

    # -- queries ------------------------------------------------------------------------------

    def _query(self, payload: bytes) -> bytes:
        name, _, args = payload.partition(b":")
        if name == b"qSupported":
            features = args.split(b";")
            self.multiprocess = b"multiprocess+" in features
            return (
                b"PacketSize=%x;qXfer:features:read+;qXfer:libraries-svr4:read+;"
                b"qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:threads:read+;"
                b"swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+;QPassSignals+;"
                b"QThreadEvents+%s" % (PACKET_SIZE, b";multiprocess+" if self.multiprocess else b"")
            )
        if name == b"QStartNoAckMode":
            # The OK still travels in ack mode; gdb acks it, and from then on nobody acks.
            self.no_ack = True
            return b"OK"
        if name == b"QPassSignals":
            signals = set()
            for item in args.split(b";") if args else []:
                linux = stops.from_gdb_signal(_hex_int(item))
                if linux is not None:
                    signals.add(linux)
            self.pass_signals = signals
            return b"OK"
        if name in (b"QProgramSignals", b"QThreadEvents", b"QDisableRandomization"):
            return b"OK"
        if name == b"QNonStop":
            return b"OK" if args == b"0" else b"E01"
        if name == b"qSymbol":
            return b"OK"
        if name == b"qAttached":
            return b"1" if self.attached else b"0"
        if name == b"qHostInfo":
            self.lldb = True
            return host_info.host_info().encode()
        if not self.alive:
            if name in (b"qfThreadInfo", b"qsThreadInfo"):
                return b"l"
            if name == b"qXfer" and args.startswith(b"features:"):
                return self._xfer(args)
            return b"E01" if name == b"qXfer" else b""
        if name == b"qfThreadInfo":
            return b"m" + b",".join(self._thread_id(t).encode() for t in self._tids())
        if name == b"qsThreadInfo":
            return b"l"
        if name == b"qC":
            return b"QC" + self._thread_id(self._current_tid()).encode()
        if name == b"qXfer":
            return self._xfer(args)
        if name == b"qProcessInfo":
            return host_info.process_info(self._pid()).encode()
        if name == b"qMemoryRegionInfo":
            return host_info.memory_region_info(self.client.data_spaces, _hex_int(args)).encode()
        return b""

    def _xfer(self, args: bytes) -> bytes:
        parts = args.split(b":")
        if len(parts) != 4 or parts[1] != b"read":
            return b""
        obj, _, annex, window = parts
        offset, length = self._address_length(window)
        if obj == b"features":
            if annex != b"target.xml":
                raise ProtocolError(f"no feature document {annex!r}", 0)
            document = target_xml().encode()
        elif obj == b"libraries-svr4":
            document = libraries_svr4_xml(
                self.client.data_spaces, self.client.system_objects.get_current_process_auxv()
            ).encode()
        elif obj == b"auxv":
            document = self.client.system_objects.get_current_process_auxv()
        elif obj == b"exec-file":
            document = os.fsencode(self.client.system_objects.get_current_process_executable_name())
        elif obj == b"threads":
            items = "".join(f'<thread id="{self._thread_id(t)}"/>' for t in self._tids())
            document = f'<?xml version="1.0"?>\n<threads>{items}</threads>\n'.encode()
        else:
            return b""
        chunk = document[offset : offset + length]
        more = offset + length < len(document)
        return (b"m" if more else b"l") + escape(chunk)

    # -- threads ------------------------------------------------------------------------------

    def _tids(self) -> list[int]:
        return self.client.system_objects.get_thread_ids_by_index()[1]

    def _pid(self) -> int:
        return self.client.system_objects.get_current_process_system_id()

    def _current_tid(self) -> int:
        return self.client.system_objects.get_current_thread_system_id()

    def _thread_id(self, tid: int) -> str:
        return stops.thread_id(self._pid(), tid, self.multiprocess)

    def _thread_alive(self, tid: int) -> bool:
        return tid in self._tids()

    def _select(self, tid: int) -> None:
        objects = self.client.system_objects
        objects.set_current_thread_id(objects.get_thread_id_by_system_id(tid))

    def _set_thread(self, body: bytes) -> bytes:
        op, target = body[:1], body[1:]
        _, tid = _parse_thread(target)
        if tid > 0 and not self._thread_alive(tid):
            return b"E01"
        if op == b"g":
            if tid > 0:
                self._select(tid)
            return b"OK"
        if op == b"c":
            self._step_thread = tid
            return b"OK"
        raise ProtocolError("H takes g or c")

    # -- registers and memory -----------------------------------------------------------------

    def _write_registers(self, body: bytes) -> bytes:
        data = bytes.fromhex(body.decode())
        at = 0
        for number, reg in enumerate(REGISTERS):
            if at + reg.size > len(data):
                break
            register_file.write_one(self.client.registers, number, data[at : at + reg.size])
            at += reg.size
        return b"OK"

    def _read_memory(self, address: int, length: int) -> bytes:
        """Up to `length` bytes: what is readable from `address` on (a short read stops at
        the first unreadable page); E01 (ValueError) when nothing is."""
        data = self.client.data_spaces
        try:
            return data.read_virtual(address, length)
        except (PydbgError, OSError):
            pass
        out = bytearray()
        while len(out) < length:
            at = address + len(out)
            size = min(length - len(out), _PAGE - at % _PAGE)
            try:
                out += data.read_virtual(at, size)
            except (PydbgError, OSError):
                break
        if not out:
            raise ProtocolError(f"cannot read memory at {address:#x}", 0x0E)
        return bytes(out)

    def _write_memory(self, address: int, length: int, raw: bytes) -> bytes:
        if len(raw) != length:
            raise ProtocolError("data length does not match")
        if length:
            self.client.data_spaces.write_virtual(address, raw)
        return b"OK"

    # -- breakpoints and watchpoints ----------------------------------------------------------

    def _zpacket(self, insert: bool, body: bytes) -> bytes:
        fields = body.split(b";", 1)[0].split(b",")
        if len(fields) != 3:
            raise ProtocolError("Z/z TYPE,ADDR,KIND")
        kind, address, length = _hex_int(fields[0]), _hex_int(fields[1]), _hex_int(fields[2])
        if kind == 3 or kind > 4:
            return b""  # x86 has no read-only watchpoints (as gdbserver: not supported)
        key = (kind, address, length)
        if not insert:
            zpoint = self._zpoints.pop(key, None)
            if zpoint is not None:
                self._remove(zpoint)
            return b"OK"
        if key in self._zpoints:
            return b"OK"
        if kind >= 2 and not 0 < length <= 32:
            raise ProtocolError("watchpoint length out of range")
        zpoint = _ZPoint(kind, address, length)
        try:
            if kind >= 2:
                for slot_address, size in _split(address, length):
                    access = DEBUG_BREAK_WRITE if kind == 2 else DEBUG_BREAK_READ
                    self._plant(zpoint, DEBUG_BREAKPOINT_DATA, slot_address, size, access)
            elif kind == 1:
                self._plant(zpoint, DEBUG_BREAKPOINT_DATA, address, 1, DEBUG_BREAK_EXECUTE)
            else:
                try:
                    self._plant(zpoint, DEBUG_BREAKPOINT_CODE, address)
                except PydbgError as exc:
                    # The engine plants int3 only in executable memory; gdb also puts
                    # breakpoints where code never runs (an inferior call's dummy frame
                    # on the stack).  A debug register can watch any address.
                    log.info("Z0 at %#x as a hardware breakpoint: %s", address, exc)
                    self._remove(zpoint)
                    self._plant(zpoint, DEBUG_BREAKPOINT_DATA, address, 1, DEBUG_BREAK_EXECUTE)
        except PydbgError as exc:
            log.info("cannot insert Z%d at %#x: %s", kind, address, exc)
            self._remove(zpoint)
            return b"E0e" if kind == 0 else b"E01"
        self._zpoints[key] = zpoint
        for bp in zpoint.breakpoints:
            self._bp_owner[bp.get_id()] = zpoint
        return b"OK"

    def _plant(
        self, zpoint: _ZPoint, break_type: int, address: int, size: int = 0, access: int = 0
    ) -> None:
        bp = self.client.control.add_breakpoint(break_type)
        zpoint.breakpoints.append(bp)
        bp.set_offset(address)
        if break_type == DEBUG_BREAKPOINT_DATA:
            bp.set_data_parameters(size, access)
        bp.add_flags(DEBUG_BREAKPOINT_ENABLED)

    def _remove(self, zpoint: _ZPoint) -> None:
        for bp in zpoint.breakpoints:
            self._bp_owner.pop(bp.get_id(), None)
            try:
                self.client.control.remove_breakpoint(bp)
            except PydbgError as exc:
                log.info("removing a breakpoint: %s", exc)
        zpoint.breakpoints.clear()

    def _forget_zpoints(self) -> None:
        """After the process is gone: its breakpoints went with it."""
        self._zpoints.clear()
        self._bp_owner.clear()

    # -- execution ----------------------------------------------------------------------------

    def _old_resume(self, head: bytes, body: bytes) -> bytes:
        signal = 0
        if head in (b"C", b"S"):
            sig_text, _, body = body.partition(b";")
            signal = _hex_int(sig_text)
        if body:
            self.client.registers.set_value("rip", _hex_int(body))
        step = head in (b"s", b"S")
        tid = self._step_thread if self._step_thread > 0 else 0
        return self._resume(step, tid, signal)

    def _v_packet(self, payload: bytes) -> bytes:
        name, _, args = payload.partition(b";")
        if payload.startswith(b"vFile:"):
            return self._files.handle(payload[len(b"vFile:") :])
        if name == b"vCont?":
            return b"vCont;c;C;s;S;t"
        if name == b"vCont":
            if not self.alive:
                return b"E01"
            return self._vcont(args)
        if name == b"vKill":
            self._kill()
            return b"OK"
        if name == b"vRun" and self.extended:
            return self._run(args)
        if name == b"vAttach" and self.extended:
            return self._attach(_hex_int(args))
        if name == b"vMustReplyEmpty":
            return b""
        return b""

    def _vcont(self, args: bytes) -> bytes:
        """All-stop vCont: a step action for some thread steps that thread (alone);
        otherwise a continue action runs everything."""
        current = self._current_tid()
        step: tuple[int, int] | None = None
        go: int | None = None
        for action in args.split(b";"):
            verb, _, target = action.partition(b":")
            tid = _parse_thread(target)[1] if target else -1
            letter = verb[:1]
            signal = _hex_int(verb[1:]) if letter in (b"C", b"S") else 0
            if letter in (b"s", b"S"):
                if step is None:
                    step = (current if tid <= 0 else tid, signal)
            elif letter in (b"c", b"C"):
                if go is None and (tid <= 0 or tid == current):
                    go = signal
                elif go is None:
                    go = 0
            elif letter == b"t":
                raise ProtocolError("vCont;t needs non-stop mode, which is not supported")
            else:
                raise ProtocolError(f"unknown vCont action {verb!r}")
        if step is not None:
            return self._resume(True, step[0], step[1])
        if go is not None:
            return self._resume(False, 0, go)
        raise ProtocolError("vCont without an action")

    def _resume(self, step: bool, tid: int, signal: int) -> bytes:
        """Run (or step `tid`), wait for the next stop and return its reply."""
        if tid > 0 and tid != self._current_tid():
            if not self._thread_alive(tid):
                return b"E01"
            self._select(tid)
        control = self.client.control
        pending = self._pending_signal
        if step:
            control.set_execution_status(DebugStatus.STEP_INTO)
        elif pending and signal and stops.from_gdb_signal(signal) == pending:
            control.set_execution_status(DebugStatus.GO_NOT_HANDLED)
        elif pending:
            control.set_execution_status(DebugStatus.GO_HANDLED)
        else:
            control.set_execution_status(DebugStatus.GO)
        stop = self._wait()
        return self._stop_reply(stop)

    def _wait(self) -> stops.Stop:
        assert self._sock is not None
        control = self.client.control
        # Most waits end at once (a single step, a nearby breakpoint), and watching the
        # connection for gdb's interrupt costs a thread: it starts only once a short wait
        # has timed out.
        watcher: _InterruptWatcher | None = None
        timeout: float | None = _QUICK_WAIT
        try:
            while True:
                broke = control.wait_for_event(timeout)
                if not broke and self.client.describe_processes():
                    if watcher is None:
                        watcher = _InterruptWatcher(self._sock, control.set_interrupt)
                        watcher.start()
                    timeout = None
                    continue  # (a wait that timed out: the targets run on)
                interrupted = watcher is not None and watcher.interrupted
                stop = self._stop_from_event(interrupted)
                if (
                    broke
                    and stop.kind == "signal"
                    and stop.reason == ""
                    and self._pending_signal in self.pass_signals
                    and not interrupted
                ):
                    control.set_execution_status(DebugStatus.GO_NOT_HANDLED)
                    continue
                break
        finally:
            if watcher is not None:
                watcher.stop()
        self.last_stop = stop
        return stop

    def _stop_from_event(self, interrupted: bool) -> stops.Stop:
        """The stop the last event makes (the session is broken in, or has ended)."""
        control = self.client.control
        info = control.get_last_event_information()
        extra = info.extra if info is not None else None
        self._pending_signal = 0
        if isinstance(extra, LastEventExitProcess) and not self.client.describe_processes():
            pid = self.last_stop.pid if self.last_stop is not None else 0
            self.alive = False
            self._forget_zpoints()
            if extra.exit_signal:
                return stops.Stop("killed", stops.to_gdb_signal(extra.exit_signal), pid)
            return stops.Stop("exited", extra.exit_code, pid)
        pid, tid = self._pid(), self._current_tid()
        if control.last_wait_ended_a_step():
            return stops.Stop("signal", stops.GDB_SIGTRAP, pid, tid)
        if isinstance(extra, LastEventBreakpoint):
            zpoint = self._bp_owner.get(extra.id)
            if zpoint is not None:
                reason = ("swbreak", "hwbreak", "watch", "rwatch", "awatch")[zpoint.kind]
                return stops.Stop("signal", stops.GDB_SIGTRAP, pid, tid, reason, zpoint.address)
            return stops.Stop("signal", stops.GDB_SIGTRAP, pid, tid)
        if isinstance(extra, LastEventException):
            record = extra.exception_record
            if record.signo:
                self._pending_signal = record.signo
                return stops.Stop("signal", stops.to_gdb_signal(record.signo), pid, tid)
            if interrupted and record.exception_code == _BREAK_CODE:
                return stops.Stop("signal", stops.GDB_SIGINT, pid, tid)
        return stops.Stop("signal", stops.GDB_SIGTRAP, pid, tid)

    def _stop_reply(self, stop: stops.Stop | None) -> bytes:
        if stop is None or not self.alive and stop.kind == "signal":
            return b"W00"
        expedite = None
        if stop.kind == "signal":
            registers = self.client.registers
            expedite = {n: register_file.read_one(registers, n) for n in _EXPEDITE}
        return stop.reply(self.multiprocess, expedite).encode()

    # -- process lifetime ---------------------------------------------------------------------

    def _kill(self) -> None:
        if self.alive:
            self.client.terminate_processes()
        self.alive = False
        self._forget_zpoints()
        self.last_stop = None

    def _detach(self) -> bytes:
        if not self.alive:
            return b"E01"
        for zpoint in list(self._zpoints.values()):
            self._remove(zpoint)
        self._zpoints.clear()
        self.client.detach_processes()
        self.alive = False
        self.last_stop = None
        return b"OK"

    def _run(self, args: bytes) -> bytes:
        words = [
            bytes.fromhex(w.decode()).decode("utf-8", "surrogateescape") for w in args.split(b";")
        ]
        argv = words if words and words[0] else self.program[:1] + words[1:]
        if not argv:
            raise ProtocolError("no program to run")
        if self.alive:
            self._kill()
        self.client.create_process(argv)
        return self._start(attached=False)

    def _attach(self, pid: int) -> bytes:
        if self.alive:
            raise ProtocolError("already debugging a process")
        self.client.attach_process(pid)
        return self._start(attached=True)

    def _start(self, attached: bool) -> bytes:
        if not self.client.control.wait_for_event(30.0):
            self.client.end_session(DebugEnd.ACTIVE_TERMINATE)
            raise ProtocolError("the process did not start")
        self.alive = True
        self.attached = attached
        self.last_stop = self._stop_from_event(interrupted=False)
        return self._stop_reply(self.last_stop)

    def end(self) -> None:
        """The connection is over: kill what was launched, detach what was attached."""
        if self.alive or self.client.describe_processes():
            for zpoint in list(self._zpoints.values()):
                self._remove(zpoint)
            self._zpoints.clear()
            self.client.end_session(DebugEnd.PASSIVE)
        self.alive = False
