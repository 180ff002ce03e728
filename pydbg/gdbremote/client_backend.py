"""A `Backend` (pydbg.engine.backend) over the GDB Remote Serial Protocol: the engine's
targets served by a real gdbserver (or lldb-server) instead of the native core.

The engine does not know: it asks this object what it would ask `pydbg._native.Tracer`,
and gets records shaped like the native ones.  How each call maps onto the protocol:

- Stops.  The connection runs in all-stop mode with `multiprocess+` (thread ids are
  `pPID.TID`).  A stop reply becomes a `RemoteEvent` with the native event's fields:
  `T05 ... swbreak:` -> BREAKPOINT at the pc (gdbserver has already rewound it, as the
  native core does); `hwbreak:` -> HW_BREAKPOINT, `watch:`/`rwatch:`/`awatch:` ->
  HW_BREAKPOINT with `dr6` naming the slot that holds the address (the engine finds its
  breakpoint by slot, as from DR6); a SIGTRAP of a thread we single-stepped -> STEP
  (address = the new pc); a SIGTRAP at an inserted breakpoint without a reason (servers
  without swbreak+) -> BREAKPOINT; other signals -> SIGNAL (GDB's signal numbers
  translated to Linux's, pydbg.gdbremote.stops); `W` -> EXITED and `X` -> KILLED of the
  process (tid = pid).  `library:` stops are resumed transparently: the engine watches
  the loader with its own breakpoint, as it does on a native target.  After each stop
  of `wait`, the thread list (qfThreadInfo) is compared with the last one: new threads
  are reported as CLONE (of the stopped thread), vanished ones as EXITED.  (With
  PYDBG_RSP_THREAD_EVENTS=1, QThreadEvents reports them as they happen, the other
  threads "parked" until the next vCont; off by default: gdbserver 13 drops the
  connection with it in all-stop mode.)  A program's own int3 (gdbserver reports
  `swbreak` and rewinds the pc onto it) is presented as the kernel presents it: pc
  after the int3, SIGTRAP with si_code SI_KERNEL.
- Resuming.  All-stop allows one resume request at a time, so `cont` and `cont_all`
  record per-thread actions and the next `wait` sends them as one `vCont` (`c`/`C`
  per thread; threads without an action stay stopped).  `step` sends `vCont;s:TID` at
  once and reads the stop.  gdbserver does not step over its client's breakpoints (gdb
  lifts them itself), so a thread resumed from a breakpoint address is first stepped
  alone with the site lifted (`z0`, `vCont;s`, `Z0`), as the native core does; a step
  that ends in another event leaves the thread stopped and the event for `wait`.
  `stop_all` sends 0x03; the SIGINT stop it causes is consumed
  (as the native core consumes its interrupt stops) and the signal is not delivered;
  another stop that won the race is kept for the next `wait`.
- Breakpoints.  `insert_breakpoint` is `Z0,ADDR,1` (reference-counted as the native
  sites are); the server writes and hides the int3 (`m` reads the original bytes) and
  rewinds the pc after a hit, so what the engine sees matches the native contract;
  stepping off a site is ours (Resuming).
  Process debug-register slots are `Z1` (execute), `Z2` (write) and `Z4` (read/write);
  a server that answers the empty reply raises RemoteUnsupportedError.
- Native breakpoint conditions are not offered (this class has no
  `set_breakpoint_condition`): the engine then evaluates every condition host-side at
  each hit, its documented fallback (pydbg.engine.breakpoints._sync_native).
  Signals passed without a report (`set_pass_signals`) are filtered here: such a stop of
  a continued thread is resumed with (or without) its signal and the wait goes on.
- Registers.  The layout comes from the server's target description
  (qXfer:features:read, following xi:include), or pydbg.gdbremote.target_xml's table
  (gdbserver's amd64-linux numbering) when the server offers none.  `get_regs` is `Hg`
  + `g`, cached until the next resume; the rbp/rsp/rip a stop reply expedites answer
  `get_pc` without a round trip.  `set_regs` is `G`, `set_reg`/`set_pc` are `P` (or `G`
  when the server has no `P`, as gdbserver's x86 port).
  `get_fpregs` builds the FXSAVE image from the x87 and SSE registers of `g`; writing
  them is refused (RemoteUnsupportedError).
- Memory: `m` (reads in chunks the packet size allows; a refused chunk is retried page by
  page to find the readable prefix, as MemoryAccessError.transferred promises) and `M`.
- Processes.  `seize(pid)` of the process the server already runs (`gdbserver :PORT
  prog`, or one it attached) returns its threads, already stopped; another pid is
  `vAttach`.  `spawn` is `vRun` and needs `gdbserver --multi` (stdio, env and cwd are the
  server's; other arguments are ignored).  `kill` is `vKill`, `detach` is `D;PID`.
  One connection serves one process: a second target needs a second session.
- Modules and files, files="local" (the default): the server runs on this machine (the
  loopback).  The engine reads /proc/PID/maps, auxv and the mapped files of the served
  process directly, exactly as for a native target, so modules, symbols and unwinding
  need no protocol traffic.  files="remote": the server's /proc and files are not ours;
  `process_view` gives the engine a ProcessView built from qXfer:auxv/exec-file and the
  server's /proc/PID/maps, the files fetched through vFile: into the local cache by build
  id (pydbg.gdbremote.remote_files); any host is then allowed.
- Not offered: syscall stops (`syscall`, `cont_all(syscall=...)`), `listen`,
  `branch_step`, floating-point writes: RemoteUnsupportedError.
- `O` packets (the program's output, which lldb-server forwards) go to our stdout, as
  gdb prints them.  `trace` is emulated
  with single steps (one `vCont;s` each).
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import re
import struct
import sys
import xml.etree.ElementTree as ET
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from pydbg._native import (
    HW_EXECUTE,
    HW_WRITE,
    REGISTER_NAMES,
    EventKind,
    FPRegs,
    Regs,
    ThreadState,
    TraceReason,
    TraceResult,
)
from pydbg.engine.backend import FdArg, NativeEvent
from pydbg.engine.rendezvous import ProcessView
from pydbg.errors import (
    InvalidRegisterError,
    MemoryAccessError,
    NoSuchProcessError,
    NotStoppedError,
    RemoteError,
    RemoteUnsupportedError,
)
from pydbg.gdbremote.remote_files import RemoteFiles
from pydbg.gdbremote.remote_link import RemoteLink
from pydbg.gdbremote.stops import GDB_SIGINT, GDB_SIGTRAP, from_gdb_signal, to_gdb_signal
from pydbg.gdbremote.target_xml import REGISTERS

__all__ = ["RemoteEvent", "RemoteTraceResult", "RspBackend"]

_SIGTRAP = 5
# QThreadEvents in all-stop mode makes gdbserver 13 drop the connection when threads
# exit (seen with tests/targets/rsp.c threads 2); off unless PYDBG_RSP_THREAD_EVENTS=1.
_THREAD_EVENTS = os.environ.get("PYDBG_RSP_THREAD_EVENTS") == "1"
_SIGINT = 2
_PAGE = 4096


@dataclass(frozen=True)
class RemoteEvent:
    """A stop reply as the native `Event` would have described it (NativeEvent)."""

    kind: EventKind
    tid: int
    pid: int
    signal: int = 0
    message: int = 0
    exit_code: int = -1
    address: int = 0
    si_code: int = 0
    sender_pid: int = 0
    dr6: int = 0
    syscall_op: int = 0
    syscall_nr: int = -1
    syscall_ret: int = 0
    status: int = 0
    core_dumped: bool = False
    siginfo: bytes | None = None


@dataclass
class RemoteTraceResult:
    """What `trace` returns (the shape of pydbg._native.TraceResult)."""

    reason: TraceReason
    event: NativeEvent | None
    _pcs: list[int] = field(default_factory=list)
    _values: list[int] = field(default_factory=list)
    recorded: bool = True  # trace(record=False): pcs stays empty, steps still counts

    @property
    def pcs(self) -> memoryview:
        pcs = self._pcs if self.recorded else []
        return memoryview(struct.pack(f"<{len(pcs)}Q", *pcs)).cast("Q")

    @property
    def values(self) -> memoryview:
        return memoryview(struct.pack(f"<{len(self._values)}Q", *self._values)).cast("Q")

    @property
    def steps(self) -> int:
        return len(self._pcs)


@dataclass(frozen=True)
class _Reg:
    name: str
    number: int
    offset: int
    size: int


@dataclass
class _Stop:
    """One parsed stop reply."""

    kind: str  # "T", "W", "X", "w", "O" (console output), "N"
    signal: int = 0  # GDB's number (T), exit code (W)
    pid: int = 0
    tid: int = 0
    reason: str = ""
    address: int = 0
    expedited: dict[int, bytes] = field(default_factory=dict)


def _thread_id(text: str, default_pid: int) -> tuple[int, int]:
    """(pid, tid) of `pPID.TID` or a bare `TID`."""
    if text.startswith("p"):
        pid_text, _, tid_text = text[1:].partition(".")
        pid = int(pid_text, 16)
        return pid, (int(tid_text, 16) if tid_text and tid_text != "-1" else pid)
    return default_pid, int(text, 16)


def _parse_stop(payload: bytes, default_pid: int) -> _Stop:
    text = payload.decode("latin-1")
    kind = text[:1]
    if kind in ("W", "X"):
        code, _, rest = text[1:].partition(";")
        pid = default_pid
        if rest.startswith("process:"):
            pid = int(rest[len("process:") :], 16)
        return _Stop(kind, int(code, 16), pid, pid)
    if kind == "w":
        code, _, thread = text[1:].partition(";")
        pid, tid = _thread_id(thread, default_pid)
        return _Stop("w", int(code, 16), pid, tid)
    if kind in ("O", "N"):
        return _Stop(kind)
    if kind not in ("T", "S"):
        raise RemoteError(f"not a stop reply: {text[:60]!r}")
    stop = _Stop("T", int(text[1:3], 16), default_pid, 0)
    for item in text[3:].split(";"):
        key, sep, value = item.partition(":")
        if not sep:
            continue
        if key == "thread":
            stop.pid, stop.tid = _thread_id(value, default_pid)
        elif key in ("swbreak", "hwbreak", "library", "replaylog"):
            stop.reason = stop.reason or key
        elif key in ("watch", "rwatch", "awatch"):
            stop.reason, stop.address = key, int(value, 16)
        elif re.fullmatch(r"[0-9a-fA-F]+", key):
            stop.expedited[int(key, 16)] = bytes.fromhex(value.replace("x", "0"))
        elif key in ("fork", "vfork", "exec", "vforkdone", "create"):
            stop.reason = key
    return stop


def _console(payload: bytes) -> None:
    """`O` packets: the program's output the server forwards (lldb-server does; gdbserver
    leaves the program its own stdout).  Written to ours, as gdb does."""
    if payload[:1] == b"O" and len(payload) > 1:
        with contextlib.suppress(ValueError):
            sys.stdout.write(bytes.fromhex(payload[1:].decode("latin-1")).decode(errors="replace"))
            sys.stdout.flush()


class RspBackend:
    """The engine's backend over one connection to a GDB-remote server (module
    docstring).  Construct with the server's host and port; the connection and the
    handshake (qSupported, QStartNoAckMode, the register layout, `?`) happen at once."""

    def __init__(
        self, host: str, port: int, *, timeout: float = 30.0, files: str = "local"
    ) -> None:
        self.link = RemoteLink(host, port, timeout=timeout)
        self.files = files
        self._remote_files: RemoteFiles | None = None
        self._closed = False
        self.packet_size = 0x3FFF
        self.pid = 0  # the process the server debugs (0: none yet)
        self._attached = False  # vAttach'ed by us: detach (not kill) at close
        self._threads: list[int] = []
        self._running: set[int] = set()  # tids resumed and not yet stopped
        self._actions: dict[int, str] = {}  # tid -> vCont action, sent at the next wait
        self._last_vcont = b""
        self._stash: list[RemoteEvent] = []
        self._regs_raw: dict[int, bytes] = {}
        self._expedited: dict[int, dict[int, bytes]] = {}
        self._hg = -1
        self._sites: dict[int, int] = {}  # address -> insert count
        self._slots: dict[int, tuple[int, int, int]] = {}  # slot -> (Z type, address, size)
        self._pass: dict[int, bool] = {}
        self._p_works = True
        self._parked: set[int] = set()  # stopped here, running for the engine (all-stop)
        try:
            self._handshake()
        except BaseException:
            self.link.close()
            raise

    # -- handshake ----------------------------------------------------------------------

    def _handshake(self) -> None:
        features = self.link.request(
            b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386;vContSupported+;QThreadEvents+"
        ).decode("latin-1")
        self.features: dict[str, str] = {}
        for item in features.split(";"):
            if "=" in item:
                key, _, value = item.partition("=")
                self.features[key] = value
            elif item:
                self.features[item[:-1]] = item[-1]
        if "PacketSize" in self.features:
            self.packet_size = int(self.features["PacketSize"], 16)
        if (
            self.features.get("QStartNoAckMode") == "+"
            and self.link.request(b"QStartNoAckMode") == b"OK"
        ):
            self.link.acking = False
        self.multiprocess = self.features.get("multiprocess") == "+"
        # Selecting a thread first is what gdb does, and gdbserver sets its target
        # description up only then (reading target.xml before it trips an assertion).
        self.link.request(b"Hgp0.0" if self.multiprocess else b"Hg0")
        # Thread creation and exit as they happen (`create` stops, `w` replies), which
        # the native core reports as CLONE and EXITED.
        self.thread_events = (
            _THREAD_EVENTS
            and self.features.get("QThreadEvents") == "+"
            and self.link.request(b"QThreadEvents:1") == b"OK"
        )
        self._layout = self._register_layout()
        self._by_name = {r.name: r for r in self._layout}
        self._by_number = {r.number: r for r in self._layout}
        self._g_size = max((r.offset + r.size for r in self._layout), default=0)
        reply = self.link.request(b"?")
        if reply[:1] in (b"T", b"S"):
            stop = _parse_stop(reply, 0)
            if stop.tid:
                self.pid = stop.pid or stop.tid
                self._note_stop(stop)
                self._threads = self._list_threads()

    def _register_layout(self) -> list[_Reg]:
        regs: list[tuple[str, int, int, int | None]] = []  # (name, number, bits, offset)
        if self.features.get("qXfer:features:read") == "+":
            try:
                self._read_features("target.xml", regs, set())
            except RemoteError:
                regs = []
        if not regs:
            regs = [(r.name, n, r.bitsize, None) for n, r in enumerate(REGISTERS)]
        # lldb-server gives each register's offset in `g` (and calls eflags rflags);
        # gdbserver packs them in register-number order.
        explicit = all(offset is not None for *_, offset in regs)
        out: list[_Reg] = []
        position = 0
        for name, number, bits, offset in sorted(regs, key=lambda r: r[1]):
            name = _ALIASES.get(name, name)
            out.append(
                _Reg(
                    name, number, offset if explicit and offset is not None else position, bits // 8
                )
            )
            position += bits // 8
        return out

    def _read_features(
        self, annex: str, regs: list[tuple[str, int, int, int | None]], seen: set[str]
    ) -> None:
        if annex in seen:
            return
        seen.add(annex)
        root = ET.fromstring(self._qxfer("features", annex))
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "include":
                self._read_features(element.attrib["href"], regs, seen)
            elif tag == "reg":
                number = int(element.attrib.get("regnum", len(regs) and regs[-1][1] + 1))
                offset = element.attrib.get("offset")
                regs.append(
                    (
                        element.attrib["name"],
                        number,
                        int(element.attrib["bitsize"]),
                        None if offset is None else int(offset),
                    )
                )

    def _qxfer(self, obj: str, annex: str) -> bytes:
        data = bytearray()
        chunk = max(256, self.packet_size - 32)
        while True:
            reply = self.link.request(f"qXfer:{obj}:read:{annex}:{len(data):x},{chunk:x}".encode())
            if reply[:1] not in (b"m", b"l"):
                raise RemoteError(f"qXfer:{obj}:read:{annex}: {reply[:40]!r}")
            data += reply[1:]
            if reply[:1] == b"l":
                return bytes(data)

    def process_view(self, pid: int) -> ProcessView | None:
        """The served process's /proc facts as the server gives them (files="remote",
        pydbg.gdbremote.remote_files), None with files="local" (the engine reads /proc)."""
        if self.files != "remote":
            return None
        if self._remote_files is None:
            self._remote_files = RemoteFiles(self.link.request, self.packet_size)
        return self._remote_files.view(pid, lambda a, n: self.read_memory(pid, a, n))

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self.pid and not self.link.closed:
                if self._running:
                    self.stop_all()
                if self._attached:
                    self.detach(self.pid)
                else:
                    self.kill(self.pid)
        except (RemoteError, OSError):
            pass  # (the server is gone: nothing left to release)
        finally:
            self._closed = True
            self.link.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _tid_text(self, tid: int) -> str:
        return f"p{self.pid:x}.{tid:x}" if self.multiprocess else f"{tid:x}"

    def _check_pid(self, pid: int) -> None:
        if not self.pid or pid != self.pid:
            raise NoSuchProcessError(
                _errno.ESRCH, "the server does not debug that process", request="rsp", pid=pid
            )

    def _stopped(self, tid: int, request: str) -> None:
        if tid not in self._threads:
            raise NoSuchProcessError(
                _errno.ESRCH, "no such thread on the server", request=request, tid=tid
            )
        if tid in self._running or tid in self._actions or tid in self._parked:
            raise NotStoppedError(tid, "running", request)

    # -- acquiring ----------------------------------------------------------------------

    def spawn(
        self,
        argv: Sequence[str | bytes],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: FdArg = None,
        stdout: FdArg = None,
        stderr: FdArg = None,
        pass_fds: Sequence[int] = (),
        trace_fork: bool = False,
        new_process_group: bool = False,
        kill_on_exit: bool = True,
    ) -> int:
        if self.pid:
            raise RemoteUnsupportedError("create_process", "the server already debugs a process")
        words = [a if isinstance(a, bytes) else a.encode() for a in argv]
        reply = self.link.request(b"vRun;" + b";".join(w.hex().encode() for w in words))
        if reply[:1] not in (b"T", b"S"):
            raise RemoteUnsupportedError(
                "create_process", f"vRun answered {reply[:40]!r} (start gdbserver with --multi)"
            )
        stop = _parse_stop(reply, 0)
        self.pid = stop.pid or stop.tid
        self._attached = False
        self._note_stop(stop)
        self._threads = self._list_threads()
        return self.pid

    def seize(self, pid: int, *, trace_fork: bool = False, kill_on_exit: bool = False) -> list[int]:
        if pid != self.pid:
            if self.pid:
                raise RemoteUnsupportedError("attach_process", "the server debugs another process")
            reply = self.link.request(f"vAttach;{pid:x}".encode())
            if reply[:1] not in (b"T", b"S"):
                raise NoSuchProcessError(
                    _errno.ESRCH,
                    f"the server cannot attach: {reply[:40]!r}",
                    request="seize",
                    pid=pid,
                )
            stop = _parse_stop(reply, pid)
            self.pid = pid
            self._attached = True
            self._note_stop(stop)
            self._threads = self._list_threads()
        return list(self._threads)

    def detach(self, pid: int, *, leave_stopped: bool = False) -> None:
        self._check_pid(pid)
        if self._running:
            self.stop_all()
        for address in list(self._sites):
            self.link.request(f"z0,{address:x},1".encode())
        for slot in list(self._slots):
            self.clear_process_hw_breakpoint(pid, slot)
        self._sites.clear()
        request = f"D;{pid:x}" if self.multiprocess else "D"
        reply = self.link.request(request.encode())
        if reply != b"OK":
            raise RemoteError(f"detach: the server answered {reply[:40]!r}")
        self._forget()

    def kill(self, pid: int) -> int:
        self._check_pid(pid)
        if self._running:
            self.stop_all()
        reply = self.link.request(f"vKill;{pid:x}".encode())
        if not reply:
            # No vKill (lldb-server): `k`, answered (if at all) with the exit's stop.
            self.link.send(b"k")
            self.link.wait_packet(2.0, wake=False)
            reply = b"OK"
        if reply != b"OK":
            raise RemoteError(f"kill: the server answered {reply[:40]!r}")
        self._forget()
        return 9  # the wait status of a SIGKILL death

    def _forget(self) -> None:
        self.pid = 0
        self._threads = []
        self._running.clear()
        self._actions.clear()
        self._parked.clear()
        self._regs_raw.clear()
        self._expedited.clear()
        self._sites.clear()
        self._slots.clear()
        self._hg = -1

    # -- threads ------------------------------------------------------------------------

    def _list_threads(self) -> list[int]:
        tids: list[int] = []
        reply = self.link.request(b"qfThreadInfo")
        while reply[:1] == b"m":
            for item in reply[1:].decode("latin-1").split(","):
                pid, tid = _thread_id(item, self.pid)
                if pid == self.pid and tid not in tids:
                    tids.append(tid)
            reply = self.link.request(b"qsThreadInfo")
        return tids

    def processes(self) -> list[int]:
        return [self.pid] if self.pid else []

    def threads(self, pid: int) -> list[int]:
        self._check_pid(pid)
        return list(self._threads)

    def thread_state(self, tid: int) -> ThreadState:
        if tid not in self._threads:
            raise NoSuchProcessError(
                _errno.ESRCH, "no such thread", request="thread_state", tid=tid
            )
        if tid in self._running or tid in self._actions or tid in self._parked:
            return ThreadState.RUNNING
        return ThreadState.STOPPED

    # -- stops --------------------------------------------------------------------------

    def _note_stop(self, stop: _Stop) -> None:
        """Every thread is stopped now (all-stop); what we knew of registers is stale."""
        self._running.clear()
        self._regs_raw.clear()
        self._expedited.clear()
        if stop.kind == "T" and stop.tid:
            self._expedited[stop.tid] = stop.expedited

    def _slot_for(self, stop: _Stop, pc: int) -> int:
        for slot, (ztype, address, size) in self._slots.items():
            if stop.reason == "hwbreak" and ztype == 1 and address == pc:
                return slot
            if stop.reason != "hwbreak" and ztype != 1 and address <= stop.address < address + size:
                return slot
        return 0

    def _event(self, stop: _Stop, stepping: set[int]) -> RemoteEvent | None:
        """The native-shaped record of a stop; None for stops nobody should see."""
        if stop.kind == "W":
            return RemoteEvent(EventKind.EXITED, stop.pid, stop.pid, exit_code=stop.signal)
        if stop.kind == "X":
            signo = from_gdb_signal(stop.signal) or 0
            return RemoteEvent(EventKind.KILLED, stop.pid, stop.pid, signal=signo, status=signo)
        if stop.kind == "w":
            return RemoteEvent(EventKind.EXITED, stop.tid, stop.pid, exit_code=stop.signal)
        if stop.kind != "T":
            return None
        tid, pid = stop.tid, stop.pid
        if stop.reason == "create":
            return RemoteEvent(EventKind.CLONE, tid, pid, message=tid)
        if stop.signal == GDB_SIGTRAP:
            if stop.reason == "library":
                return None
            pc = self.get_pc(tid)
            if stop.reason in ("hwbreak", "watch", "rwatch", "awatch"):
                slot = self._slot_for(stop, pc)
                return RemoteEvent(
                    EventKind.HW_BREAKPOINT,
                    tid,
                    pid,
                    signal=_SIGTRAP,
                    dr6=1 << slot,
                    address=stop.address or pc,
                    si_code=4,
                )
            if tid in stepping and stop.reason != "swbreak":
                return RemoteEvent(EventKind.STEP, tid, pid, signal=_SIGTRAP, address=pc, si_code=2)
            if stop.reason == "swbreak" and pc not in self._sites and self._own_int3(tid, pc):
                # The program's own int3: gdbserver rewound the pc onto it, the kernel
                # leaves it after it; present what the kernel does (SIGTRAP, SI_KERNEL).
                return RemoteEvent(EventKind.SIGNAL, tid, pid, signal=_SIGTRAP, si_code=128)
            if stop.reason == "swbreak" or pc in self._sites:
                return RemoteEvent(
                    EventKind.BREAKPOINT, tid, pid, signal=_SIGTRAP, address=pc, si_code=128
                )
        signo = from_gdb_signal(stop.signal) or stop.signal
        return RemoteEvent(EventKind.SIGNAL, tid, pid, signal=signo)

    def _own_int3(self, tid: int, pc: int) -> bool:
        """Is there an int3 of the program at pc (not one of ours)?  If so the thread is
        moved past it, where the kernel leaves a thread that executed it."""
        try:
            byte = self.read_memory(self.pid, pc, 1)
        except MemoryAccessError:
            return False
        if byte != b"\xcc":
            return False
        self.set_reg(tid, "rip", pc + 1)
        return True

    def _thread_changes(self, stopped: int) -> list[RemoteEvent]:
        """CLONE for threads the server lists that we did not know, EXITED for those it
        no longer lists."""
        now = self._list_threads()
        out = [
            RemoteEvent(EventKind.CLONE, stopped, self.pid, message=tid)
            for tid in now
            if tid not in self._threads
        ]
        out += [
            RemoteEvent(EventKind.EXITED, tid, self.pid, exit_code=0)
            for tid in self._threads
            if tid not in now and tid != self.pid
        ]
        self._threads = now
        return out

    # -- waiting ------------------------------------------------------------------------

    def _step_over(self, tid: int, action: str) -> bool:
        """gdbserver does not step over the client's own breakpoints (gdb lifts them
        itself): lift the one under `tid`, step it, put it back.  False when the step
        ended in another event (stashed for `wait`; the thread stays stopped)."""
        pc = self.get_pc(tid)
        if pc not in self._sites:
            return True
        signal = action[1:] if action.startswith("C") else ""
        self.link.request(f"z0,{pc:x},1".encode())
        try:
            stop = self._single_step(tid, f"S{signal}" if signal else "s")
        finally:
            if self.pid:
                self.link.request(f"Z0,{pc:x},1".encode())
        event = self._event(stop, {tid})
        if event is not None and event.kind == EventKind.STEP:
            return True
        if event is not None:
            if event.kind in (EventKind.EXITED, EventKind.KILLED) and event.tid == event.pid:
                self._forget()
            self._stash.append(event)
        return False

    def _single_step(self, tid: int, action: str) -> _Stop:
        self._regs_raw.clear()
        self._expedited.clear()
        self._running.add(tid)
        self.link.send(f"vCont;{action}:{self._tid_text(tid)}".encode())
        while True:
            payload = self.link.wait_packet(self.link.timeout, wake=False)
            if payload is None:
                raise RemoteError("the server did not report the end of a single step")
            stop = _parse_stop(payload, self.pid)
            if stop.kind not in ("O", "N"):
                self._note_stop(stop)
                return stop
            _console(payload)

    def _resume(self) -> None:
        for tid in self._parked:
            if tid in self._threads:
                self._actions.setdefault(tid, "c")
        self._parked.clear()
        if not self._actions:
            return
        for tid, action in list(self._actions.items()):
            if not self._step_over(tid, action):
                self._actions.pop(tid, None)
                if not self.pid:
                    self._actions.clear()
                    return
            elif action.startswith("C"):
                self._actions[tid] = "c"  # (the signal went with the step)
        if self._stash:
            # A step-over ended in an event: report it first, everything stays stopped.
            self._actions.clear()
        if not self._actions:
            return
        parts = [f"{action}:{self._tid_text(tid)}" for tid, action in self._actions.items()]
        self._last_vcont = ("vCont;" + ";".join(parts)).encode()
        self._running.update(self._actions)
        self._actions.clear()
        self._regs_raw.clear()
        self._expedited.clear()
        self.link.send(self._last_vcont)

    def wait(self, timeout: float | None = None) -> Sequence[NativeEvent]:
        if self._stash:
            out, self._stash = self._stash, []
            return out
        self._resume()
        if self._stash:  # (a step-over off a breakpoint ended in another event)
            out, self._stash = self._stash, []
            return out
        while self._running:
            payload = self.link.wait_packet(timeout)
            if payload is None:
                return []
            stop = _parse_stop(payload, self.pid)
            if stop.kind in ("O", "N"):
                _console(payload)
                continue
            resumed = set(self._running)
            self._note_stop(stop)
            event = self._event(stop, set())
            if event is None or self._passed(event, resumed):
                self._running = resumed
                self.link.send(self._last_vcont)
                continue
            if stop.kind in ("W", "X"):
                self._forget()
                return [event]
            if event.kind == EventKind.CLONE or stop.kind == "w":
                return self._thread_event(event, resumed)
            return [*self._thread_changes(event.tid), event]
        return []

    def _thread_event(self, event: RemoteEvent, resumed: set[int]) -> list[NativeEvent]:
        """A thread was created or exited.  The native core stops only the threads
        concerned (a new thread and its creator; none for an exit) and the others run on:
        so do they here, resumed again as they were.  The server does not name a new
        thread's creator: the main thread stands for it when it was running."""
        new = event.tid
        if event.kind == EventKind.CLONE:
            creator = self.pid if self.pid in resumed else min(resumed - {new}, default=new)
            if new not in self._threads:
                self._threads.append(new)
            event = RemoteEvent(EventKind.CLONE, creator, self.pid, message=new)
            keep = {creator, new}
        else:
            if new in self._threads:
                self._threads.remove(new)
            keep = {new}
        # All-stop: the server stopped every thread, and no request may be sent while
        # any runs.  The others are "parked": running as far as the engine knows, resumed
        # with the next vCont (or simply stopped by stop_all).
        self._parked.update(t for t in resumed if t not in keep and t in self._threads)
        return [event]

    def _passed(self, event: RemoteEvent, resumed: set[int]) -> bool:
        """A signal set_pass_signals passes on: resume it as the last request did, with
        (or without) the signal, and keep waiting."""
        if event.kind != EventKind.SIGNAL or event.signal not in self._pass:
            return False
        if event.tid not in resumed or event.tid not in self._threads:
            return False
        others = [f"c:{self._tid_text(t)}" for t in resumed if t != event.tid]
        own = f"C{to_gdb_signal(event.signal):02x}" if self._pass[event.signal] else "c"
        self._last_vcont = ";".join(
            ["vCont", f"{own}:{self._tid_text(event.tid)}", *others]
        ).encode()
        return True

    def wake(self) -> None:
        self.link.wake()

    def has_pending(self) -> bool:
        return bool(self._stash)

    def stop_all(self, pid: int | None = None) -> None:
        self._actions.clear()
        self._parked.clear()
        if not self._running:
            return
        self.link.interrupt()
        while True:
            payload = self.link.wait_packet(self.link.timeout, wake=False)
            if payload is None:
                raise RemoteError("the server did not stop the target after an interrupt")
            stop = _parse_stop(payload, self.pid)
            if stop.kind in ("O", "N"):
                _console(payload)
                continue
            self._note_stop(stop)
            if stop.kind == "T" and stop.signal in (GDB_SIGINT, 0):
                return  # our own interrupt: consumed, the SIGINT not delivered
            event = self._event(stop, set())
            if event is not None:
                if event.kind in (EventKind.EXITED, EventKind.KILLED) and event.tid == event.pid:
                    self._forget()
                self._stash.append(event)
            return

    # -- resuming -----------------------------------------------------------------------

    def _action(self, sig: int) -> str:
        return f"C{to_gdb_signal(sig):02x}" if sig else "c"

    def cont(self, tid: int, sig: int = 0) -> None:
        self._stopped(tid, "cont")
        self._actions[tid] = self._action(sig)

    def cont_wait(
        self, tid: int, sig: int = 0, timeout: float | None = None, simple: int = 0
    ) -> Sequence[NativeEvent] | tuple[int, int, int, int, int]:
        self.cont(tid, sig)
        return self.wait(timeout)

    def cont_all(
        self,
        pid: int | None = None,
        signals: Mapping[int, int] | None = None,
        syscall: Container[int] | None = None,
    ) -> None:
        signals = signals or {}
        for tid in self._threads:
            if tid in self._running:
                continue
            if syscall is not None and tid in syscall:
                raise RemoteUnsupportedError("syscall tracing")
            self._actions[tid] = self._action(signals.get(tid, 0))

    def syscall(self, tid: int, sig: int = 0) -> None:
        raise RemoteUnsupportedError("syscall tracing")

    def listen(self, tid: int) -> None:
        raise RemoteUnsupportedError("job-control stops (PTRACE_LISTEN)")

    def step(self, tid: int, sig: int = 0) -> NativeEvent:
        self._stopped(tid, "step")
        action = f"S{to_gdb_signal(sig):02x}" if sig else "s"
        pc = self.get_pc(tid)
        lifted = pc in self._sites
        if lifted:
            self.link.request(f"z0,{pc:x},1".encode())
        try:
            stop = self._single_step(tid, action)
        finally:
            if lifted and self.pid:
                self.link.request(f"Z0,{pc:x},1".encode())
        event = self._event(stop, {tid})
        if event is None:  # (a library stop inside one instruction: it is the step's)
            event = RemoteEvent(
                EventKind.STEP, tid, self.pid, signal=_SIGTRAP, address=self.get_pc(tid)
            )
        if event.kind in (EventKind.EXITED, EventKind.KILLED) and event.tid == event.pid:
            self._forget()
        return event

    def trace(
        self,
        tid: int,
        max_steps: int,
        *,
        until: int | None = None,
        record: bool = True,
        stop_at_breakpoints: bool | Sequence[int] = False,
        register: str | None = None,
        until_return: bool | tuple[int, int] = False,
    ) -> TraceResult:
        stops: Container[int]
        if stop_at_breakpoints is True:
            stops = self._sites
        elif stop_at_breakpoints is False:
            stops = ()
        else:
            stops = set(stop_at_breakpoints)
        returning: tuple[int, int] | None = None
        if until_return is True:
            rsp = self.get_reg(tid, "rsp")
            returning = (int.from_bytes(self.read_memory(self.pid, rsp, 8), "little"), rsp)
        elif until_return:
            returning = until_return
        result = RemoteTraceResult(TraceReason.COUNT, None)
        while result.steps < max_steps:
            pc = self.get_pc(tid)
            if until is not None and pc == until:
                result.reason = TraceReason.ADDRESS
                break
            if (
                returning is not None
                and pc == returning[0]
                and self.get_reg(tid, "rsp") > returning[1]
            ):
                result.reason = TraceReason.RETURNED
                break
            if result.steps and pc in stops:
                result.reason = TraceReason.BREAKPOINT
                result.event = RemoteEvent(
                    EventKind.BREAKPOINT, tid, self.pid, signal=_SIGTRAP, address=pc, si_code=128
                )
                break
            if register is not None:
                result._values.append(self.get_reg(tid, register))
            result._pcs.append(pc)
            event = self.step(tid)
            if event.kind != EventKind.STEP:
                result.reason = (
                    TraceReason.BREAKPOINT
                    if event.kind == EventKind.HW_BREAKPOINT and event.address == self._pc_or(tid)
                    else TraceReason.EVENT
                )
                result.event = event
                break
        result.recorded = record
        return cast("TraceResult", result)

    def _pc_or(self, tid: int) -> int:
        try:
            return self.get_pc(tid)
        except (RemoteError, NoSuchProcessError):
            return -1

    def branch_step(self, tid: int) -> NativeEvent:
        raise RemoteUnsupportedError("branch stepping")

    # -- registers ----------------------------------------------------------------------

    def _g(self, tid: int) -> bytes:
        raw = self._regs_raw.get(tid)
        if raw is not None:
            return raw
        if tid not in self._threads:
            raise NoSuchProcessError(_errno.ESRCH, "no such thread", request="get_regs", tid=tid)
        if tid in self._running:
            raise NotStoppedError(tid, "running", "get_regs")
        self._select(tid)
        reply = self.link.request(b"g")
        if reply[:1] == b"E" and len(reply) == 3:
            raise RemoteError(f"g: the server answered {reply!r}")
        raw = bytes.fromhex(reply.decode("latin-1").replace("x", "0"))
        if len(raw) < self._g_size:
            raw += bytes(self._g_size - len(raw))
        self._regs_raw[tid] = raw
        return raw

    def _select(self, tid: int) -> None:
        if self._hg != tid:
            reply = self.link.request(f"Hg{self._tid_text(tid)}".encode())
            if reply != b"OK":
                raise NoSuchProcessError(
                    _errno.ESRCH, f"the server refused thread {tid}", request="Hg", tid=tid
                )
            self._hg = tid

    def _value(self, tid: int, name: str) -> int:
        reg = self._by_name.get(name)
        if reg is None:
            return 0
        expedited = self._expedited.get(tid, {}).get(reg.number)
        if expedited is not None and tid not in self._regs_raw:
            return int.from_bytes(expedited, "little")
        return int.from_bytes(self._g(tid)[reg.offset : reg.offset + reg.size], "little")

    def get_regs(self, tid: int) -> Regs:
        raw = self._g(tid)
        regs = Regs()
        for name in _REGS_NAMES:
            reg = self._by_name.get(name)
            if reg is not None:
                regs[name] = int.from_bytes(raw[reg.offset : reg.offset + reg.size], "little")
        return regs

    def get_pc(self, tid: int) -> int:
        return self._value(tid, "rip")

    def get_reg(self, tid: int, name: str) -> int:
        if name not in _REGS_NAMES:
            raise InvalidRegisterError(name, _REGS_NAMES)
        return self._value(tid, name)

    def set_regs(self, tid: int, regs: Regs) -> None:
        raw = bytearray(self._g(tid))
        for name in _REGS_NAMES:
            reg = self._by_name.get(name)
            if reg is not None:
                value = regs[name] & ((1 << (8 * reg.size)) - 1)
                raw[reg.offset : reg.offset + reg.size] = value.to_bytes(reg.size, "little")
        self._select(tid)
        reply = self.link.request(b"G" + bytes(raw).hex().encode())
        if reply != b"OK":
            raise RemoteError(f"G: the server answered {reply[:40]!r}")
        self._regs_raw[tid] = bytes(raw)
        self._expedited.pop(tid, None)

    def set_reg(self, tid: int, name: str, value: int) -> None:
        if name not in _REGS_NAMES:
            raise InvalidRegisterError(name, _REGS_NAMES)
        reg = self._by_name.get(name)
        if reg is None:
            raise RemoteUnsupportedError(
                f"register write ({name})", "the server has no such register"
            )
        raw = bytearray(self._g(tid))
        data = (value & ((1 << (8 * reg.size)) - 1)).to_bytes(reg.size, "little")
        raw[reg.offset : reg.offset + reg.size] = data
        self._select(tid)
        if self._p_works:
            reply = self.link.request(f"P{reg.number:x}={data.hex()}".encode())
            if not reply:
                self._p_works = False  # (gdbserver's x86 port has no P: write them all)
        if not self._p_works:
            reply = self.link.request(b"G" + bytes(raw).hex().encode())
        if reply != b"OK":
            raise RemoteError(f"register write ({name}): the server answered {reply[:40]!r}")
        self._regs_raw[tid] = bytes(raw)
        self._expedited.pop(tid, None)

    def set_pc(self, tid: int, pc: int) -> None:
        self.set_reg(tid, "rip", pc)
        if "orig_rax" in self._by_name:
            self.set_reg(tid, "orig_rax", -1)

    def get_fpregs(self, tid: int) -> FPRegs:
        raw = self._g(tid)

        def reg(name: str) -> bytes:
            r = self._by_name.get(name)
            return raw[r.offset : r.offset + r.size] if r is not None else b""

        def num(name: str) -> int:
            return int.from_bytes(reg(name) or b"\0", "little")

        fx = bytearray(512)
        struct.pack_into("<HH", fx, 0, num("fctrl"), num("fstat"))
        tag = num("ftag")
        fx[4] = sum(1 << i for i in range(8) if (tag >> (2 * i)) & 3 != 3)
        struct.pack_into(
            "<HIHxxIHxxI",
            fx,
            6,
            num("fop"),
            num("fioff"),
            num("fiseg"),
            num("fooff"),
            num("foseg"),
            num("mxcsr"),
        )
        struct.pack_into("<I", fx, 28, 0xFFFF)  # MXCSR_MASK: every bit writable
        for i in range(8):
            fx[32 + 16 * i : 42 + 16 * i] = reg(f"st{i}").ljust(10, b"\0")[:10]
        for i in range(16):
            fx[160 + 16 * i : 176 + 16 * i] = reg(f"xmm{i}").ljust(16, b"\0")[:16]
        return FPRegs.from_raw(bytes(fx))

    def set_fpregs(self, tid: int, fpregs: FPRegs) -> None:
        raise RemoteUnsupportedError("floating-point register writes")

    # -- memory -------------------------------------------------------------------------

    def _read_chunk(self, address: int, size: int) -> bytes | None:
        reply = self.link.request(f"m{address:x},{size:x}".encode())
        if reply[:1] == b"E" and len(reply) == 3 or (not reply and size):
            return None
        return bytes.fromhex(reply.decode("latin-1"))

    def read_memory(self, pid: int, address: int, size: int, *, partial: bool = False) -> bytes:
        self._check_pid(pid)
        chunk = max(16, min(0x4000, (self.packet_size - 32) // 2))
        data = bytearray()
        while len(data) < size:
            at = address + len(data)
            want = min(chunk, size - len(data))
            got = self._read_chunk(at, want)
            if got is None and want > 1:
                # Find the readable prefix: pages, then the last page's bytes.
                while len(data) < size:
                    at = address + len(data)
                    step = min(_PAGE - (at % _PAGE), size - len(data))
                    piece = self._read_chunk(at, step)
                    if piece is None:
                        break
                    data += piece
                    if len(piece) < step:
                        break
                break
            if not got:
                break
            data += got
            if len(got) < want:
                break
        if len(data) >= size or partial:
            return bytes(data[:size])
        exc = MemoryAccessError(
            _errno.EFAULT,
            "memory not accessible",
            request="read_memory",
            pid=pid,
            address=address + len(data),
        )
        exc.transferred = len(data)
        exc.data = bytes(data)
        raise exc

    def write_memory(self, pid: int, address: int, data: bytes | bytearray | memoryview) -> None:
        self._check_pid(pid)
        data = bytes(data)
        chunk = max(16, (self.packet_size - 64) // 2)
        done = 0
        while done < len(data):
            piece = data[done : done + chunk]
            reply = self.link.request(f"M{address + done:x},{len(piece):x}:{piece.hex()}".encode())
            if reply != b"OK":
                exc = MemoryAccessError(
                    _errno.EFAULT,
                    "memory not writable",
                    request="write_memory",
                    pid=pid,
                    address=address + done,
                )
                exc.transferred = done
                raise exc
            done += len(piece)
        self._regs_raw.clear()  # (a write may land on the stack the registers point at)

    # -- breakpoints --------------------------------------------------------------------

    def insert_breakpoint(self, pid: int, address: int) -> None:
        self._check_pid(pid)
        count = self._sites.get(address, 0)
        if not count:
            reply = self.link.request(f"Z0,{address:x},1".encode())
            if reply != b"OK":
                if not reply:
                    raise RemoteUnsupportedError("software breakpoints (Z0)")
                raise MemoryAccessError(
                    _errno.EIO,
                    f"the server cannot insert a breakpoint ({reply.decode(errors='replace')})",
                    request="insert_breakpoint",
                    pid=pid,
                    address=address,
                )
        self._sites[address] = count + 1

    def remove_breakpoint(self, pid: int, address: int) -> None:
        self._check_pid(pid)
        count = self._sites.get(address, 0)
        if not count:
            return
        if count == 1:
            del self._sites[address]
            self.link.request(f"z0,{address:x},1".encode())
        else:
            self._sites[address] = count - 1

    def set_process_hw_breakpoint(
        self, pid: int, slot: int, address: int, access: int, size: int
    ) -> None:
        self._check_pid(pid)
        if not 0 <= slot <= 3:
            raise ValueError(f"debug register slot {slot} is not 0..3")
        ztype = 1 if access == HW_EXECUTE else 2 if access == HW_WRITE else 4
        if slot in self._slots:
            self.clear_process_hw_breakpoint(pid, slot)
        reply = self.link.request(f"Z{ztype},{address:x},{size:x}".encode())
        if reply != b"OK":
            kind = (
                "",
                "hardware breakpoints (Z1)",
                "write watchpoints (Z2)",
                "",
                "access watchpoints (Z4)",
            )[ztype]
            raise RemoteUnsupportedError(kind, f"the server answered {reply[:20]!r}")
        self._slots[slot] = (ztype, address, size)

    def clear_process_hw_breakpoint(self, pid: int, slot: int) -> None:
        held = self._slots.pop(slot, None)
        if held is not None and self.pid:
            ztype, address, size = held
            self.link.request(f"z{ztype},{address:x},{size:x}".encode())

    def breakpoint_counts(self, pid: int, address: int) -> tuple[int, int]:
        return (0, 0)

    def clear_breakpoint_condition(self, pid: int, address: int) -> None:
        pass  # (none is ever set: conditions are evaluated by the engine)

    # -- signals and syscalls -----------------------------------------------------------

    def set_pass_signals(self, signals: Mapping[int, bool]) -> None:
        for signo in signals:
            if signo in (9, 19, _SIGTRAP):
                raise ValueError(f"signal {signo} cannot be passed without a report")
        self._pass = dict(signals)

    def set_syscall_pass(self, report: Iterable[int] | None = None) -> None:
        pass  # (syscall stops never happen through the server)

    def syscall_counts(self, reset: bool = False) -> dict[int, int]:
        return {}


_REGS_NAMES: tuple[str, ...] = tuple(REGISTER_NAMES)
_ALIASES = {"rflags": "eflags"}
