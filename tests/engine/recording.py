"""What the engine-tier sequence tests observe: one log of every callback, output and
extension notification, in the order the engine made them, and scripted votes.

    rig = Rig()                               # a FakeBackend, a client on it, a Recorder
    rig.fake.spawn_pids.append(PID)
    rig.client.create_process(["/opt/prog"])
    assert rig.client.control.wait_for_event()
    assert rig.take() == [session(ACTIVE), cds_all(), ...]

Log entries are tuples: ("exception", record, True), ("change_engine_state", flags, arg),
("output", mask, text), ("ext", notify).  A Recorder made with a tag prefixes its entries
with it, so the callbacks of several clients can share one log.  The expected-entry helpers
below (`ces_status`, `cds_all`, ...) keep the sequences in the tests short and exact.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pydbg
from pydbg._native import EventKind
from pydbg.callbacks import EventCallbacks
from pydbg.client import DebugClient
from pydbg.constants import (
    DEBUG_CDS_ALL,
    DEBUG_CES_CURRENT_THREAD,
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_STATUS_BREAK,
    STATUS_BREAKPOINT,
    OutputMask,
)
from pydbg.engine.signals import ExceptionRecord
from tests.engine.fake_backend import FakeBackend, FakeEvent

Entry = tuple[Any, ...]
ALL_EVENTS = 0x1FFF


class Recorder(EventCallbacks):
    """Event callbacks that log every call and answer with `replies[method]`: a vote, or a
    callable taking the call's arguments and returning the vote (default: None)."""

    def __init__(self, log: list[Entry], mask: int = ALL_EVENTS, tag: str | None = None) -> None:
        self.log = log
        self.mask = mask
        self.tag = tag
        self.replies: dict[str, object] = {}

    def get_interest_mask(self) -> int:
        return self.mask

    def _record(self, method: str, *args: object) -> Any:
        self.log.append((method, *args) if self.tag is None else (self.tag, method, *args))
        reply = self.replies.get(method)
        return reply(*args) if callable(reply) else reply

    def breakpoint(self, bp: object) -> Any:
        return self._record("breakpoint", bp)

    def exception(self, exception: object, first_chance: bool) -> Any:
        return self._record("exception", exception, first_chance)

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> Any:
        return self._record("create_thread", handle, data_offset, start_offset)

    def exit_thread(self, exit_code: int) -> Any:
        return self._record("exit_thread", exit_code)

    def create_process(self, *args: object) -> Any:
        return self._record("create_process", *args)

    def exit_process(self, exit_code: int) -> Any:
        return self._record("exit_process", exit_code)

    def load_module(self, *args: object) -> Any:
        return self._record("load_module", *args)

    def unload_module(self, image_base_name: str | None, base_offset: int) -> Any:
        return self._record("unload_module", image_base_name, base_offset)

    def syscall(self, *args: object) -> Any:
        return self._record("syscall", *args)

    def system_error(self, error: int, level: int) -> Any:
        return self._record("system_error", error, level)

    def session_status(self, status: int) -> None:
        self._record("session_status", status)

    def change_debuggee_state(self, flags: int, argument: int) -> None:
        self._record("change_debuggee_state", flags, argument)

    def change_engine_state(self, flags: int, argument: int) -> None:
        self._record("change_engine_state", flags, argument)

    def change_symbol_state(self, flags: int, argument: int) -> None:
        self._record("change_symbol_state", flags, argument)


def extension(log: list[Entry], name: str = "ext") -> types.ModuleType:
    """A module-as-extension whose debug_extension_notify logs ("ext", notify)."""
    module = types.ModuleType(name)

    def debug_extension_notify(notify: int, argument: int) -> None:
        assert argument == 0
        log.append(("ext", notify))

    module.debug_extension_notify = debug_extension_notify  # type: ignore[attr-defined]
    return module


class Rig:
    """A FakeBackend, a client on it whose callbacks and output feed `log`."""

    def __init__(self, mask: int = ALL_EVENTS, output: bool = True) -> None:
        self.fake = FakeBackend()
        self.log: list[Entry] = []
        self.client: DebugClient = pydbg.create_client(backend_factory=lambda: self.fake)
        self.callbacks = Recorder(self.log, mask)
        self.client.set_event_callbacks(self.callbacks)
        if output:
            self.client.set_output_callbacks(self.output)

    def output(self, mask: int, text: str) -> None:
        self.log.append(("output", mask, text))

    def take(self) -> list[Entry]:
        """The log so far, emptied."""
        out = list(self.log)
        self.log.clear()
        return out

    def reply(self, method: str, vote: object | Callable[..., object]) -> None:
        self.callbacks.replies[method] = vote


# -- expected entries -----------------------------------------------------------------------------


def ces_status(status: int) -> Entry:
    return ("change_engine_state", DEBUG_CES_EXECUTION_STATUS, status)


def ces_thread(engine_id: int) -> Entry:
    return ("change_engine_state", DEBUG_CES_CURRENT_THREAD, engine_id)


def cds_all() -> Entry:
    return ("change_debuggee_state", DEBUG_CDS_ALL, 0)


def session(status: int) -> Entry:
    return ("session_status", status)


def notice(text: str) -> Entry:
    """A line the filters print (DEBUG_OUTPUT_NORMAL)."""
    return ("output", OutputMask.NORMAL, text + "\n")


def break_record(pc: int) -> ExceptionRecord:
    """The initial breakpoint's / a break-in's record (no signal)."""
    return ExceptionRecord(STATUS_BREAKPOINT, 0, 0, pc, (0,))


class Text:
    """Stands for a str in an expected entry: equal to any text with this start and end
    that contains every `parts` (for messages that carry a traceback)."""

    def __init__(self, start: str, *parts: str, end: str = "") -> None:
        self.start, self.parts, self.end = start, parts, end

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, str)
            and other.startswith(self.start)
            and other.endswith(self.end)
            and all(p in other for p in self.parts)
        )

    def __hash__(self) -> int:
        return hash(self.start)

    def __repr__(self) -> str:
        return f"Text({self.start!r}, *{self.parts!r}, end={self.end!r})"


# -- targets the fake pretends to trace -----------------------------------------------------------

# Above PID_MAX_LIMIT (2**22): no real process ever has these ids, so whatever the engine
# reads from /proc about them (image facts, signal dispositions) is "nothing known".
PID = 5_000_100
PID2 = 5_000_200
TID2 = 5_000_201
TID3 = 5_000_202
RIP = 0x401000
FS_BASE = 0x7F0000001000
RSP = 0x7FFD00001000


def set_regs(rig: Rig, tid: int, rip: int = RIP, fs_base: int = FS_BASE, rsp: int = RSP) -> None:
    regs = rig.fake.regs[tid]
    regs.rip, regs.fs_base, regs.rsp = rip, fs_base, rsp


def launch(rig: Rig, pid: int = PID, argv: tuple[str, ...] = ("/opt/prog",)) -> None:
    """create_process, with the fake's spawn scripted to return `pid`."""
    rig.fake.spawn_pids.append(pid)
    assert rig.client.create_process(list(argv)) == pid
    set_regs(rig, pid)


def attach(rig: Rig, pid: int = PID2, tids: tuple[int, ...] = (PID2,)) -> None:
    """attach_process, with the fake's seize scripted to return `tids`."""
    rig.fake.seize_tids[pid] = list(tids)
    rig.client.attach_process(pid)
    for offset, tid in enumerate(tids):
        set_regs(rig, tid, rip=RIP + 0x100 * offset, fs_base=FS_BASE + 0x100 * offset)


def create_process_args(pid: int, image_name: str, rip: int = RIP) -> Entry:
    """CreateProcess of a target /proc knows nothing about (module name "unknown")."""
    return ("create_process", 0, pid, 0, 0, "unknown", image_name, 0, 0, pid, FS_BASE, rip)


def initial_break(pid: int, rip: int = RIP) -> list[Entry]:
    """The initial breakpoint of a process whose first thread is its leader."""
    return [
        notice(f"({pid:x}.{pid:x}): Initial breakpoint - code 80000003"),
        ("exception", break_record(rip), True),
    ]


# -- records the scripts use often ---------------------------------------------------------------


def exit_records(pid: int, tid: int, code: int) -> tuple[FakeEvent, FakeEvent]:
    """The exit stop of a thread, then its exit status."""
    return (
        FakeEvent(EventKind.EXIT, tid, pid, exit_code=code),
        FakeEvent(EventKind.EXITED, tid, pid, exit_code=code),
    )


def script_exit(rig: Rig, pid: int, tid: int, code: int) -> None:
    """Two waits' worth: the exit stop, then (after a resume) the exit status."""
    exit_stop, exited = exit_records(pid, tid, code)
    rig.fake.then(exit_stop).then(exited)


def int3(pid: int, tid: int | None = None) -> FakeEvent:
    """SIGTRAP of an int3 pydbg did not plant (si_code SI_KERNEL); the pc is past it."""
    return FakeEvent(EventKind.SIGNAL, pid if tid is None else tid, pid, signal=5, si_code=0x80)


def int3_break(pid: int, tid: int, pc_after: int) -> list[Entry]:
    """What a foreign int3 that breaks in produces (`bpe`: break, handled)."""
    return [
        notice(f"({pid:x}.{tid:x}): Break instruction exception - code 80000003 (first chance)"),
        ("exception", break_record(pc_after - 1), True),
        ces_status(DEBUG_STATUS_BREAK),
        cds_all(),
    ]
