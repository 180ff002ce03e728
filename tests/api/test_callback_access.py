"""Inside every callback the targets are stopped and the facets work (pydbg.callbacks).

For each event kind a callback can receive, a callback reads registers and memory through
the client's facets, and the test checks what it read against the target's own code and
output (tests/targets/access.c): rdi at a function's entry is the argument the target
passed, memory at rip is the instruction the binary holds there, fs_base points at glibc's
thread control block (whose first word points at itself), [rsp] at the first instruction is
argc.  Each callback also records the /proc state of every thread of the process: all of
them must be in a tracing stop.

Breakpoints are checked on both of the engine's paths: the fast GO loop (one process, one
thread, one client voting GO, a simple breakpoint) and the general wait (a second thread
that never blocks).  The fast loop also has to apply the same rules as the general one: a
callback that raises, or returns something that is not a status, is reported through the
output callbacks and counts as BREAK, and set_execution_status from a callback is a vote.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import pydbg
from pydbg.engine.session import NoTargetError, TargetRunningError
from pydbg.errors import MemoryAccessError
from tests.api.helpers import read_lines, wait
from tests.api.recording import GO, OUTPUT_ERROR, STEP_INTO
from tests.support import maps, task_state, task_tids

EVENT_BREAKPOINT, EVENT_EXCEPTION = 0x1, 0x2
EVENT_CREATE_THREAD, EVENT_EXIT_THREAD = 0x4, 0x8
EVENT_CREATE_PROCESS, EVENT_EXIT_PROCESS = 0x10, 0x20
EVENT_LOAD_MODULE, EVENT_UNLOAD_MODULE = 0x40, 0x80
EVENT_CHANGE_DEBUGGEE_STATE, EVENT_CHANGE_ENGINE_STATE = 0x400, 0x800
EVENT_CHANGE_SYMBOL_STATE = 0x1000
STATUS_ILLEGAL_INSTRUCTION = 0xC000001D
CES_EXECUTION_STATUS, CDS_ALL = 0x10, 0xFFFFFFFF
WAIT_TIMEOUT, STATUS_MASK = 0x2_0000_0000, 0x1F
SYS_EXIT, SYS_EXIT_GROUP = 60, 231
BREAKPOINT_CODE, BREAKPOINT_ENABLED = 0, 0x4
UD2 = b"\x0f\x0b"


# -- what a callback sees ---------------------------------------------------------------------


def thread_states(pid: int) -> dict[int, str]:
    """The /proc state letter of every thread of pid."""
    return {tid: task_state(pid, tid) for tid in task_tids(pid)}


def file_bytes_at(pid: int, address: int, size: int) -> bytes | None:
    """What the file mapped at `address` in pid holds there (None: no file behind it)."""
    for start, end, _, offset, path in maps(pid):
        if start <= address < end and path.startswith("/") and address + size <= end:
            with open(path, "rb") as f:
                f.seek(offset + address - start)
                return f.read(size)
    return None


Extra = Callable[..., dict[str, Any]]


class Probe(pydbg.EventCallbacks):
    """Event callbacks that read registers and memory in every call, and vote as told.

    Each call appends a dict to `seen`: the method, its arguments, the current process and
    thread, rip / rsp / rdi / rsi / rax / orig_rax / fs_base, 16 bytes at rip (and what the
    mapped file holds there), the word at rsp, the state of every thread, what `extra[method]`
    reads; or "error": the exception a facet raised.
    """

    def __init__(
        self,
        client: pydbg.DebugClient,
        mask: int,
        votes: dict[str, Any] | None = None,
        extra: dict[str, Extra] | None = None,
    ) -> None:
        self.client = client
        self.mask = mask
        self.votes = dict(votes or {})
        self.extra = dict(extra or {})
        self.seen: list[dict[str, Any]] = []

    def get_interest_mask(self) -> int:
        return self.mask

    def of(self, method: str) -> list[dict[str, Any]]:
        return [s for s in self.seen if s["method"] == method]

    def _probe(self, method: str, *args: Any) -> Any:
        seen: dict[str, Any] = {"method": method, "args": args}
        self.seen.append(seen)
        client = self.client
        try:
            pid = client.system_objects.get_current_process_system_id()
            seen["pid"] = pid
            seen["tid"] = client.system_objects.get_current_thread_system_id()
            for name in ("rip", "rsp", "rdi", "rsi", "rax", "orig_rax", "fs_base"):
                seen[name] = client.registers.get_value(name)
            seen["code"] = client.data_spaces.read_virtual(seen["rip"], 16)
            seen["file_code"] = file_bytes_at(pid, seen["rip"], 16)
            seen["stack"] = client.data_spaces.read_pointers_virtual(1, seen["rsp"])[0]
            seen["states"] = thread_states(pid)
            more = self.extra.get(method)
            if more is not None:
                seen.update(more(*args))
        except Exception as exc:  # noqa: BLE001 - recorded; the test asserts on it
            seen["error"] = exc
        vote = self.votes.get(method)
        return vote(*args) if callable(vote) else vote

    def breakpoint(self, bp: Any) -> Any:
        return self._probe("breakpoint", bp)

    def exception(self, exception: Any, first_chance: bool) -> Any:
        return self._probe("exception", exception, first_chance)

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> Any:
        return self._probe("create_thread", handle, data_offset, start_offset)

    def exit_thread(self, exit_code: int) -> Any:
        return self._probe("exit_thread", exit_code)

    def create_process(self, *args: Any) -> Any:
        return self._probe("create_process", *args)

    def exit_process(self, exit_code: int) -> Any:
        return self._probe("exit_process", exit_code)

    def load_module(self, *args: Any) -> Any:
        return self._probe("load_module", *args)

    def unload_module(self, image_base_name: str | None, base_offset: int) -> Any:
        return self._probe("unload_module", image_base_name, base_offset)

    def change_engine_state(self, flags: int, argument: int) -> None:
        self._probe("change_engine_state", flags, argument)

    def change_debuggee_state(self, flags: int, argument: int) -> None:
        self._probe("change_debuggee_state", flags, argument)

    def change_symbol_state(self, flags: int, argument: int) -> None:
        self._probe("change_symbol_state", flags, argument)


def assert_accessible(seen: dict[str, Any]) -> None:
    """The facets worked, every thread was stopped, and memory at rip is the file's code."""
    assert "error" not in seen, f"{seen['method']}: {seen.get('error')!r}"
    states = seen["states"]
    assert states and all(state in "tZX" for state in states.values()), (seen["method"], states)
    if seen["file_code"] is not None:
        assert seen["code"] == seen["file_code"], seen["method"]


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def access(targets):
    return targets["access"]


@pytest.fixture
def out_file(tmp_path) -> str:
    return str(tmp_path / "access.out")


@pytest.fixture
def start(client, access, out_file) -> Callable[..., int]:
    """start(mode, *args) -> pid: launch the access target, run to its initial breakpoint."""

    def run(mode: str, *args: object) -> int:
        pid = client.create_process([access.path, out_file, mode, *(str(a) for a in args)])
        assert wait(client) is True
        return pid

    return run


@pytest.fixture
def decided(client, monkeypatch) -> Iterator[list[str]]:
    """The events the general wait decided (by type name): a breakpoint hit the fast GO
    loop served is not among them."""
    engine = client._engine
    names: list[str] = []
    general = engine._decide

    def spy(event: Any) -> bool:
        names.append(type(event).__name__)
        return general(event)

    monkeypatch.setattr(engine, "_decide", spy)
    yield names


def code_breakpoint(client: pydbg.DebugClient, address: int) -> Any:
    bp = client.control.add_breakpoint(BREAKPOINT_CODE)
    bp.set_offset(address)
    bp.add_flags(BREAKPOINT_ENABLED)
    return bp


def read_text(client: pydbg.DebugClient, address: int) -> str:
    return client.data_spaces.read_virtual(address, 24).split(b"\0")[0].decode()


def read_long(client: pydbg.DebugClient, address: int) -> int:
    return client.data_spaces.read_pointers_virtual(1, address)[0]


# -- breakpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize("spinner", [0, 1], ids=["fast-go-loop", "general-wait"])
def test_breakpoint_callback_reads_registers_and_memory(
    client, access, start, out_file, decided, spinner
):
    # The README's counting pattern, plus reads: every call of noted(value, text).
    pid = start("note", 20, spinner)
    address = access.addr(pid, "noted")
    code_breakpoint(client, address)
    probe = Probe(
        client,
        EVENT_BREAKPOINT,
        votes={"breakpoint": GO},
        extra={
            "breakpoint": lambda bp: {"text": read_text(client, client.registers.get_value("rsi"))}
        },
    )
    client.set_event_callbacks(probe)
    client.control.set_execution_status(GO)
    assert wait(client) is False  # every hit went on; the program ran to its end

    seen = probe.of("breakpoint")
    for s in seen:
        assert_accessible(s)
        assert s["rip"] == address
        assert s["code"][0] != 0xCC  # reads show the original byte, not the int3
    assert [f"noted {s['rdi']} {s['text']}" for s in seen] == read_lines(out_file)[:-1]
    assert read_lines(out_file)[-1] == "done"
    assert [s["rdi"] for s in seen] == [1000 + 7 * i for i in range(1, 21)]
    hits_decided = decided.count("BreakpointHit")
    if spinner:
        assert hits_decided == 20
        assert all(len(s["states"]) == 2 for s in seen)  # the spinner was stopped too
    else:
        assert hits_decided == 0  # all served by the fast GO loop


def test_fast_loop_callback_can_write_registers(client, access, start, out_file, decided):
    # A facet that writes: the callback doubles the argument of every call.
    pid = start("note", 3, 0)
    code_breakpoint(client, access.addr(pid, "noted"))

    def double(bp: Any) -> int:
        regs = client.registers
        regs.set_value("rdi", 2 * regs.get_value("rdi"))
        return GO

    client.set_event_callbacks(Probe(client, EVENT_BREAKPOINT, votes={"breakpoint": double}))
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert read_lines(out_file) == [
        "noted 2014 note 1",
        "noted 2028 note 2",
        "noted 2042 note 3",
        "done",
    ]
    assert decided.count("BreakpointHit") == 0


# -- the fast loop follows the general rules ----------------------------------------------------


def _boom(bp: Any) -> int:
    raise RuntimeError("boom from the breakpoint callback")


@pytest.mark.parametrize("bad", [_boom, "go", 1.5, True], ids=["raises", "str", "float", "bool"])
def test_fast_loop_bad_callback_counts_as_break(
    client, access, start, out_file, output, decided, bad
):
    pid = start("note", 5, 0)
    bp = code_breakpoint(client, access.addr(pid, "noted"))
    calls = []

    def vote(b: Any) -> Any:
        calls.append(client.registers.get_value("rdi"))
        if len(calls) == 3:
            return bad(b) if callable(bad) else bad
        return GO

    client.set_event_callbacks(Probe(client, EVENT_BREAKPOINT, votes={"breakpoint": vote}))
    output.take()
    client.control.set_execution_status(GO)
    assert wait(client) is True  # the third hit broke in
    assert client.registers.get_value("rdi") == 1021
    assert client.registers.get_value("rip") == bp.get_offset()
    errors = output.text(OUTPUT_ERROR)
    if callable(bad):
        assert "Traceback (most recent call last)" in errors
        assert "RuntimeError: boom from the breakpoint callback" in errors
    else:
        assert repr(bad) in errors
        assert "not an execution status" in errors
    assert "counted as DEBUG_STATUS_BREAK" in errors
    assert f"Breakpoint {bp.get_id()} hit" in output.text()
    assert decided.count("BreakpointHit") == 0  # the fast loop decided it

    # The session is usable: go on to the end, nothing lost.
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert calls == [1000 + 7 * i for i in range(1, 6)]
    assert read_lines(out_file) == [f"noted {1000 + 7 * i} note {i}" for i in range(1, 6)] + [
        "done"
    ]
    assert client.get_exit_code() == 0


def test_fast_loop_set_execution_status_from_a_callback_is_a_vote(client, access, start, decided):
    pid = start("note", 5, 0)
    address = access.addr(pid, "noted")
    code_breakpoint(client, address)
    calls = []

    def vote(bp: Any) -> int:
        calls.append(client.registers.get_value("rdi"))
        if len(calls) == 2:
            client.control.set_execution_status(STEP_INTO)  # outranks the GO it returns
        return GO

    client.set_event_callbacks(Probe(client, EVENT_BREAKPOINT, votes={"breakpoint": vote}))
    client.control.set_execution_status(GO)
    assert wait(client) is True  # one instruction into the second call
    rip = client.registers.get_value("rip")
    assert address < rip <= address + 15
    assert client.registers.get_value("rdi") == 1014
    assert calls == [1007, 1014]
    assert decided.count("BreakpointHit") == 0


# -- the other events -------------------------------------------------------------------------


def test_create_process_and_initial_breakpoint(client, access, out_file):
    probe = Probe(
        client,
        EVENT_CREATE_PROCESS | EVENT_EXCEPTION,
        extra={
            "create_process": lambda *a: {"image": client.data_spaces.read_virtual(a[2], 64)},
        },
    )
    client.set_event_callbacks(probe)
    argv = [access.path, out_file, "spin"]
    pid = client.create_process(argv)
    assert wait(client) is True

    (created,) = probe.of("create_process")
    assert_accessible(created)
    args = created["args"]
    assert created["pid"] == pid == args[1]
    assert created["tid"] == args[8]
    assert created["stack"] == len(argv)  # argc, at rsp before the first instruction
    assert created["fs_base"] == args[9]
    with open(access.path, "rb") as f:
        assert created["image"] == f.read(64)  # base_offset is the main image's ELF header
    (initial,) = probe.of("exception")
    assert_accessible(initial)
    record = initial["args"][0]
    assert initial["rip"] == record.exception_address == created["rip"]


def test_exception_callback_reads_the_faulting_instruction(client, access, start):
    pid = start("ill")
    probe = Probe(client, EVENT_EXCEPTION)
    client.set_event_callbacks(probe)
    client.control.set_execution_status(GO)
    assert wait(client) is True
    ill = [
        s
        for s in probe.of("exception")
        if s["args"][0].exception_code == STATUS_ILLEGAL_INSTRUCTION
    ]
    assert ill
    for s in ill:
        assert_accessible(s)
        assert s["rip"] == access.addr(pid, "ill_insn") == s["args"][0].exception_address
        assert s["rdi"] == 0x5EED  # what do_ill loaded
        assert s["code"][:2] == UD2
        assert len(s["states"]) == 2  # the spinner was stopped too


def test_thread_and_process_exit_callbacks(client, access, start, out_file):
    pid = start("thread")
    worker_arg, worker_mark = access.addr(pid, "worker_arg"), access.addr(pid, "worker_mark")
    exit_mark = access.addr(pid, "exit_mark")

    def fs_self(*args: Any) -> dict[str, Any]:
        fs_base = client.registers.get_value("fs_base")
        return {"tcb": read_long(client, fs_base)}

    def marks(*args: Any) -> dict[str, Any]:
        return {
            "worker_arg": read_long(client, worker_arg),
            "worker_mark": read_long(client, worker_mark),
            "exit_mark": read_long(client, exit_mark),
        }

    probe = Probe(
        client,
        EVENT_CREATE_THREAD | EVENT_EXIT_THREAD | EVENT_EXIT_PROCESS,
        extra={"create_thread": fs_self, "exit_thread": marks, "exit_process": marks},
    )
    client.set_event_callbacks(probe)
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert read_lines(out_file) == ["worker", "joined"]

    (created,) = probe.of("create_thread")
    assert_accessible(created)
    handle, data_offset, start_offset = created["args"]
    assert created["tid"] == handle != pid
    assert created["fs_base"] == data_offset == created["tcb"]  # glibc's TCB points at itself
    assert created["rip"] == start_offset
    assert created["rax"] == 0  # clone returns 0 in the new thread
    assert set(created["states"]) == {pid, handle}

    (exited,) = probe.of("exit_thread")
    assert_accessible(exited)
    assert exited["tid"] == handle
    assert exited["orig_rax"] == SYS_EXIT and exited["rdi"] == 0 == exited["args"][0]
    assert (exited["worker_arg"], exited["worker_mark"]) == (0x7A7A, 0x3131)

    (process_exit,) = probe.of("exit_process")
    assert_accessible(process_exit)
    assert process_exit["orig_rax"] == SYS_EXIT_GROUP
    assert process_exit["rdi"] == 9 == process_exit["args"][0]
    assert process_exit["exit_mark"] == 27


def test_module_callbacks_with_another_thread_running(client, start, out_file, libraries):
    library = os.path.realpath(libraries["libplugin"])
    start("dl", library)

    def header(*args: Any) -> dict[str, Any]:
        return {"header": client.data_spaces.read_virtual(args[1], 64)}

    def unmapped(name: str | None, base: int) -> dict[str, Any]:
        try:
            client.data_spaces.read_virtual(base, 1)
        except MemoryAccessError:
            return {"unmapped": True}
        return {"unmapped": False}

    probe = Probe(
        client,
        EVENT_LOAD_MODULE | EVENT_UNLOAD_MODULE | EVENT_CHANGE_SYMBOL_STATE,
        extra={"load_module": header, "unload_module": unmapped},
    )
    client.set_event_callbacks(probe)
    client.control.set_execution_status(GO)
    assert wait(client) is False
    assert read_lines(out_file) == ["plugin 4242"]

    loads = [s for s in probe.of("load_module") if s["args"][4] == library]
    assert len(loads) == 1
    with open(library, "rb") as f:
        assert loads[0]["header"] == f.read(64)
    unloads = [s for s in probe.of("unload_module") if s["args"][0] == library]
    assert len(unloads) == 1 and unloads[0]["unmapped"] is True
    base = loads[0]["args"][1]
    symbol_changes = [s for s in probe.of("change_symbol_state") if s["args"][1] == base]
    assert len(symbol_changes) == 2  # DEBUG_CSS_LOADS, DEBUG_CSS_UNLOADS
    for s in probe.seen:
        assert_accessible(s)
    for s in loads + unloads + symbol_changes:
        # The loader's r_brk stop: the spinner (started before the dlopen) was stopped.
        assert len(s["states"]) == 2


def test_state_change_callbacks(client, access, start):
    pid = start("note", 2, 0)
    address = access.addr(pid, "noted")
    code_breakpoint(client, address)
    probe = Probe(
        client, EVENT_BREAKPOINT | EVENT_CHANGE_ENGINE_STATE | EVENT_CHANGE_DEBUGGEE_STATE
    )
    client.set_event_callbacks(probe)
    client.control.set_execution_status(GO)
    assert wait(client) is True
    for s in probe.seen:
        assert_accessible(s)
    broke = [
        s
        for s in probe.of("change_engine_state")
        if s["args"] == (CES_EXECUTION_STATUS, 6)  # BREAK
    ]
    after = probe.of("change_debuggee_state")
    assert broke and after and after[-1]["args"] == (CDS_ALL, 0)
    for s in [broke[-1], after[-1]]:
        assert s["rip"] == address and s["rdi"] == 1007


def test_wait_timeout_notification_is_the_one_with_targets_running(client, start):
    # ChangeEngineState(EXECUTION_STATUS, GO | WAIT_TIMEOUT) says the wait timed out with the
    # targets running (spec §4.2); they are left running, so the facets say so.
    start("spin")
    probe = Probe(client, EVENT_CHANGE_ENGINE_STATE)
    client.set_event_callbacks(probe)
    client.control.set_execution_status(GO)
    assert wait(client, timeout=0.2) is False
    timeouts = [s for s in probe.seen if s["args"][1] & WAIT_TIMEOUT]
    assert len(timeouts) == 1
    assert isinstance(timeouts[0]["error"], TargetRunningError)
    client.control.set_interrupt()
    assert wait(client) is True
    assert client.registers.get_value("rip") != 0


def test_no_callback_sees_running_targets_over_a_whole_session(client, start, out_file):
    # Every callback of a session with threads, a module cycle and an exit: all accessible.
    probe = Probe(client, 0x1FFF & ~0x200)  # everything but session_status
    client.set_event_callbacks(probe)
    start("thread")
    client.control.set_execution_status(GO)
    assert wait(client) is False
    checked = [
        s
        for s in probe.seen
        if s["method"] != "change_engine_state" or s["args"][1] & STATUS_MASK != 7
    ]
    assert len(checked) > 5
    for s in checked:
        if "error" in s and isinstance(s["error"], NoTargetError):
            continue  # before the first event there is no current thread
        assert_accessible(s)
