"""The Pythonic layer for scripts (pydbg.launch / pydbg.attach) end to end on real targets:
breakpoint callbacks reading registers, memory and register writes the program then
prints, watchpoints with old and new values, step and finish against gdb, typed events to
the end, threads against /proc.  The oracles are the program's own printout, its symbol
table (pyelftools through tests.support.Binary) and gdb in batch mode."""

from __future__ import annotations

import os
import signal
import sys

import pytest

import pydbg
from tests.api.scripting_support import (
    LIMIT,
    function_and_offset,
    gdb_pcs,
    launched,
    module,
    printed,
    sym,
)
from tests.support import ROOT, tracer_pid


@pytest.fixture
def script(targets):
    return targets["script"]


def _in_function(binary, pid: int, name: str, pc: int) -> bool:
    start = binary.addr(pid, name)
    return start <= pc < start + binary.sym_size(name)


# -- breakpoints and callbacks -----------------------------------------------------------------


def test_a_callback_counts_calls_and_reads_the_argument(script, tmp_path):
    out = tmp_path / "out"
    seen: list[int] = []
    with launched(script, out, "calls", 6) as proc:
        bp = proc.breakpoint(sym(script, "work"), lambda hit: seen.append(hit.process.regs.rdi))
        assert bp.address == script.addr(proc.pid, "work")
        event = proc.cont()
        assert isinstance(event, pydbg.ProcessExited)
        assert (event.exit_code, event.exit_signal) == (0, None)
        assert (proc.exit_code, proc.exit_signal) == (0, None)
    assert bp.hits == 6
    assert [f"work {v}" for v in seen] == printed(out)


def test_a_breakpoint_without_callback_stops_and_true_stops_too(script, tmp_path):
    out = tmp_path / "out"
    with launched(script, out, "calls", 3) as proc:
        plain = proc.breakpoint(sym(script, "work"))
        event = proc.cont()
        assert isinstance(event, pydbg.BreakpointHit)
        assert event.breakpoint is plain and event.pc == plain.address == proc.regs.rip
        assert proc.regs.rdi == 3
        plain.remove()
        stopper = proc.breakpoint(sym(script, "work"), lambda hit: hit.process.regs.rdi == 17)
        event = proc.cont()
        assert isinstance(event, pydbg.BreakpointHit) and event.breakpoint is stopper
        assert proc.regs.rdi == 17
        assert stopper.hits == 2  # 10 went on, 17 stopped
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert plain.hits == 1 and plain.removed and not plain.enabled
    assert printed(out) == ["work 3", "work 10", "work 17"]


def test_a_condition_filters_the_hits(script, tmp_path):
    out = tmp_path / "out"
    seen: list[int] = []
    with launched(script, out, "calls", 5) as proc:
        bp = proc.breakpoint(
            sym(script, "work"), lambda hit: seen.append(proc.regs.rdi), condition="@rdi > 0n12"
        )
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert seen == [17, 24, 31] and bp.hits == 3


def test_a_callable_condition_sees_the_process(script, tmp_path):
    with launched(script, tmp_path / "out", "calls", 5) as proc:
        bp = proc.breakpoint(sym(script, "work"), condition=lambda p: p.regs.rdi == 24)
        assert isinstance(proc.cont(), pydbg.BreakpointHit)
        assert proc.regs.rdi == 24 and bp.hits == 1
        bp.enabled = False
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert bp.hits == 1


def test_a_disabled_breakpoint_does_not_count(script, tmp_path):
    out = tmp_path / "out"
    with launched(script, out, "calls", 4) as proc:
        bp = proc.breakpoint(sym(script, "work"), lambda hit: None)
        bp.enabled = False
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert bp.hits == 0 and len(printed(out)) == 4


def test_a_hardware_breakpoint_hits_like_a_software_one(script, tmp_path):
    out = tmp_path / "out"
    seen: list[int] = []
    with launched(script, out, "calls", 3) as proc:
        bp = proc.breakpoint(
            proc.symbol(sym(script, "work")), lambda hit: seen.append(proc.regs.rdi), hardware=True
        )
        assert bp.hardware
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert seen == [3, 10, 17] and bp.hits == 3


def test_a_deferred_library_breakpoint_reads_malloc_sizes(script, tmp_path):
    # libc is not loaded at the initial breakpoint: the breakpoint waits for it.
    out = tmp_path / "out"
    sizes: list[int] = []
    with launched(script, out, "malloc") as proc:
        bp = proc.breakpoint("libc_so!malloc", lambda hit: sizes.append(proc.regs.rdi))
        assert bp.address is None
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    (line,) = printed(out)
    asked = [int(word) for word in line.split()[1:]]
    assert asked == [17, 33, 4096]
    # libc mallocs too (stdout's buffer): the program's three come in its order.
    assert [size for size in sizes if size in asked][:3] == asked
    assert bp.hits == len(sizes)


# -- memory and registers -----------------------------------------------------------------------


def test_a_memory_write_is_what_the_program_prints(script, tmp_path):
    out = tmp_path / "out"
    with launched(script, out, "poke") as proc:
        proc.breakpoint(sym(script, "script_ready"))
        assert isinstance(proc.cont(), pydbg.BreakpointHit)
        address = proc.symbol(sym(script, "value"))
        assert address == script.addr(proc.pid, "value")
        assert proc.read_int(address, 4) == 42
        assert proc.memory[address : address + 4] == (42).to_bytes(4, "little")
        assert proc.memory[address] == 42
        proc.memory[address : address + 4] = (1234).to_bytes(4, "little")
        assert proc.read(address, 4) == (1234).to_bytes(4, "little")
        proc.memory[address + 1] = 0x10  # 1234 = 0x4d2 -> 0x10d2
        proc.write_int(address + 2, 0, 2)
        assert proc.read_int(address, 4, signed=True) == 0x10D2
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert printed(out) == [f"value {0x10D2}"]


def test_a_register_write_changes_what_the_program_does(script, tmp_path):
    out = tmp_path / "out"

    def make_it_42(hit: pydbg.BreakpointHit) -> None:
        assert hit.process is not None
        regs = hit.process.regs
        assert regs.rdi == 1 and regs.edi == 1 and regs["dil"] == 1
        regs.edi = 42

    with launched(script, out, "decide") as proc:
        bp = proc.breakpoint(sym(script, "check"), make_it_42)
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert bp.hits == 1
    assert printed(out) == ["yes"]


def test_register_names_and_parts(script, tmp_path):
    with launched(script, tmp_path / "out", "decide") as proc:
        proc.breakpoint(sym(script, "check"))
        proc.cont()
        names = dir(proc.regs)
        for name in ("rax", "eax", "ax", "al", "ah", "r8d", "r15b", "rip", "efl", "xmm0"):
            assert name in names
        proc.regs.rax = 0x1122334455667788
        assert (proc.regs.eax, proc.regs.ax, proc.regs.al, proc.regs.ah) == (
            0x55667788,
            0x7788,
            0x88,
            0x77,
        )
        proc.regs.ah = 0xAB
        assert proc.regs.rax == 0x112233445566AB88
        proc.regs["xmm0"] = 1 << 100
        assert proc.regs["XMM0"] == 1 << 100
        assert proc.regs.general()["rip"] == proc.regs.rip == proc.symbol(sym(script, "check"))


# -- watchpoints ------------------------------------------------------------------------------


def test_a_watchpoint_reports_each_write_with_old_and_new_value(script, tmp_path):
    out = tmp_path / "out"
    with launched(script, out, "watch") as proc:
        watch = proc.watch(sym(script, "watched"), 8, "w")
        assert watch.address == script.addr(proc.pid, "watched")
        first = proc.cont()
        assert isinstance(first, pydbg.WatchpointHit) and first.breakpoint is watch
        assert (first.old, first.new) == ((0).to_bytes(8, "little"), (5).to_bytes(8, "little"))
        assert _in_function(script, proc.pid, "writer", first.pc)
        assert proc.symbolize(first.pc).startswith(sym(script, "writer+"))
        second = proc.cont()
        assert isinstance(second, pydbg.WatchpointHit)
        assert (second.old, second.new) == ((5).to_bytes(8, "little"), (9).to_bytes(8, "little"))
        assert isinstance(proc.cont(), pydbg.ProcessExited)  # the read of a "w" watch: no hit
    assert watch.hits == 2
    assert printed(out) == ["watched 9"]


def test_a_read_watch_sees_the_read_too(script, tmp_path):
    hits: list[pydbg.WatchpointHit] = []

    def keep(hit: pydbg.BreakpointHit) -> None:
        assert isinstance(hit, pydbg.WatchpointHit)
        hits.append(hit)

    with launched(script, tmp_path / "out", "watch") as proc:
        watch = proc.watch(proc.symbol(sym(script, "watched")), 8, "rw", keep)
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    # writer: write 5, read (sink = watched), write 9; main reads it for printf.
    assert [int.from_bytes(h.new, "little") for h in hits][:3] == [5, 5, 9]
    assert watch.hits == len(hits) >= 4


# -- step and finish (gdb is the oracle) --------------------------------------------------------


def test_finish_and_step_land_where_gdb_says(script, tmp_path):
    expected = gdb_pcs(
        script,
        ["nest"],
        ["break *leaf", "run", "finish", "p $pc", "stepi", "p $pc", "finish", "p $pc"],
    )
    with launched(script, tmp_path / "out", "nest") as proc:
        proc.breakpoint(sym(script, "leaf"))
        proc.cont()
        got = []
        pc = proc.finish()
        got.append(function_and_offset(proc.symbolize(pc)))
        pc = proc.step()
        assert pc == proc.regs.rip
        got.append(function_and_offset(proc.symbolize(pc)))
        got.append(function_and_offset(proc.symbolize(proc.finish())))
        assert proc.backtrace()[0].function == "outer"
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert got == expected
    assert proc.exit_code == 0


def test_step_into_a_call_and_the_backtrace(script, tmp_path):
    with launched(script, tmp_path / "out", "nest") as proc:
        proc.breakpoint(sym(script, "middle"))
        proc.cont()
        # Step to the call of leaf, then into it.
        while proc.memory[proc.regs.rip] != 0xE8:  # call rel32
            proc.step()
        pc = proc.step()
        assert pc == proc.symbol(sym(script, "leaf"))
        frames = proc.backtrace()
        assert [f.function for f in frames[:4]] == ["leaf", "middle", "outer", "main"]
        assert frames[0].module == module(script) and frames[0].offset == 0
        assert frames[1].file and frames[1].file.endswith("script.c") and frames[1].line
        assert str(frames[1]).startswith("#1 ")


# -- events -----------------------------------------------------------------------------------


def test_events_run_to_process_exited_with_the_exit_code(script, tmp_path):
    with launched(script, tmp_path / "out", "exit", 7) as proc:
        events = list(proc.events())
        assert proc.state == "ended"
    assert isinstance(events[-1], pydbg.ProcessExited)
    assert events[-1].exit_code == 7 and events[-1].exit_signal is None
    assert events[-1].pid == proc.pid
    loaded = [e.name for e in events if isinstance(e, pydbg.ModuleLoaded)]
    assert "libc_so" in loaded
    assert proc.exit_code == 7


def test_events_of_a_thread_come_in_order(targets, tmp_path):
    events_target = targets["events"]
    out = tmp_path / "out"
    with pydbg.launch([events_target.path, "thread", str(out)]) as proc:
        events = list(proc.events())
    kinds = [type(e) for e in events]
    created = kinds.index(pydbg.ThreadCreated)
    exited = kinds.index(pydbg.ThreadExited)
    assert created < exited < len(events) - 1
    assert events[created].tid == events[exited].tid != proc.pid
    assert isinstance(events[-1], pydbg.ProcessExited) and events[-1].exit_code == 7
    assert printed(out) == ["worker", "joined"]


def test_a_crash_is_a_sigsegv_at_the_faulting_address(script, tmp_path):
    out = tmp_path / "out"
    with launched(script, out, "crash") as proc:
        bad = proc.read_int(proc.symbol(sym(script, "bad_pointer")))
        insn = script.addr(proc.pid, "crash_insn")
        events = list(proc.events())
    signals = [e for e in events if isinstance(e, pydbg.SignalEvent)]
    first, second = signals
    for event in signals:
        assert (event.signal, event.name) == (signal.SIGSEGV, "SIGSEGV")
        assert event.address == bad and event.pc == insn
        assert event.code == 1  # SEGV_MAPERR: nothing is mapped there
    assert first.first_chance and not second.first_chance
    end = events[-1]
    assert isinstance(end, pydbg.ProcessExited)
    assert (end.exit_code, end.exit_signal, end.signal_name) == (139, signal.SIGSEGV, "SIGSEGV")
    assert printed(out) == [f"bad {bad:#x}"]


def test_cont_stops_at_a_crash_as_cdb_does(script, tmp_path):
    with launched(script, tmp_path / "out", "crash") as proc:
        event = proc.cont()
        assert isinstance(event, pydbg.SignalEvent) and event.first_chance
        assert proc.regs.rip == event.pc
        assert proc.backtrace()[0].function == "crash_here"
        assert proc.last_event is event and proc.wait() is event
        second = proc.cont()
        assert isinstance(second, pydbg.SignalEvent) and not second.first_chance
        end = proc.cont()
        assert isinstance(end, pydbg.ProcessExited) and end.exit_signal == signal.SIGSEGV
        assert proc.wait() is end
    assert (proc.exit_code, proc.exit_signal) == (128 + signal.SIGSEGV, signal.SIGSEGV)


def test_exit_with_a_signal_number_is_no_death_by_signal(script, tmp_path):
    with launched(script, tmp_path / "out", "exit", 128 + signal.SIGSEGV) as proc:
        end = proc.cont()
    assert isinstance(end, pydbg.ProcessExited)
    assert (end.exit_code, end.exit_signal) == (139, None)


# -- threads, attach, wait and interrupt --------------------------------------------------------


def test_threads_are_the_tasks_of_the_process(targets):
    threads_target = targets["threads"]
    with pydbg.launch([threads_target.path, "3"], stdin=subprocess_devnull()) as proc:
        proc.breakpoint(sym(targets["threads"], "all_ready"))
        assert isinstance(proc.cont(), pydbg.BreakpointHit)
        tids = sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task"))
        threads = proc.threads
        assert sorted(t.tid for t in threads) == tids and len(tids) == 4
        current = proc.thread
        for thread in threads:
            assert thread.pc == thread.regs.rip
            assert thread.backtrace()[-1].function in ("_start", "clone3", "clone")
        assert proc.thread == current  # reading other threads does not change it
        assert proc.regs.rip == current.pc
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert proc.exit_code == 0


def subprocess_devnull() -> int:
    import subprocess

    return subprocess.DEVNULL


def test_attach_stops_and_detach_leaves_it_running(procs, targets):
    helper = procs.start([targets["threads"].path, "2"], ready=b"ready")
    with pydbg.attach(helper.pid) as proc:
        assert proc.pid == helper.pid
        assert tracer_pid(helper.pid) == os.getpid()
        assert sorted(t.tid for t in proc.threads) == sorted(
            int(t) for t in os.listdir(f"/proc/{helper.pid}/task")
        )
        ticks = proc.symbol(sym(targets["threads"], "ticks"))
        before = proc.read_int(ticks)
        assert isinstance(proc.cont(timeout=0.2), type(None))  # it runs: nothing stops it
        assert proc.state == "running"
        proc.interrupt()
        event = proc.wait(LIMIT)
        assert isinstance(event, pydbg.BreakIn)
        assert proc.read_int(ticks) >= before
    assert proc.state == "closed"
    assert tracer_pid(helper.pid) == 0
    assert helper.poll() is None  # detached, still running


def test_events_with_a_timeout_break_into_a_quiet_process(procs, targets):
    helper = procs.start([targets["threads"].path, "1"], ready=b"ready")
    with pydbg.attach(helper.pid) as proc:
        event = next(iter(proc.events(timeout=0.2)))
        assert isinstance(event, pydbg.BreakIn)
        assert proc.state == "stopped"


def test_leaving_the_block_kills_a_launched_process(script, tmp_path):
    with launched(script, tmp_path / "out", "calls", 3) as proc:
        pid = proc.pid
        proc.breakpoint(sym(script, "work"))
        proc.cont()
    assert proc.state == "closed"
    assert not os.path.exists(f"/proc/{pid}")  # killed and reaped
    assert (proc.exit_code, proc.exit_signal) == (128 + signal.SIGKILL, signal.SIGKILL)


# -- trace ------------------------------------------------------------------------------------


def test_trace_counts_what_the_raw_native_loop_counts(script, tmp_path):
    # The oracle: examples/count_instructions.py, the native tracer stepping alone.
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        from count_instructions import count
    finally:
        sys.path.remove(os.path.join(ROOT, "examples"))
    expected, code = count([script.path, "exit", "3"])
    with launched(script, tmp_path / "out", "exit", 3) as proc:
        assert proc.trace() == expected
        assert proc.state == "ended" and proc.exit_code == code == 3


def test_trace_stops_at_max_steps_and_at_a_breakpoint(script, tmp_path):
    with launched(script, tmp_path / "out", "calls", 2) as proc:
        start = proc.regs.rip
        assert proc.trace(100) == 100
        assert proc.state == "stopped" and proc.regs.rip != start
        bp = proc.breakpoint(sym(script, "work"))
        assert proc.trace() > 0
        assert isinstance(proc.last_event, pydbg.BreakpointHit)
        assert proc.regs.rip == bp.address and proc.regs.rdi == 3


def test_leaving_the_block_kills_a_running_process(targets):
    read_end, write_end = os.pipe()  # its stdin never reaches EOF: it waits forever
    try:
        with pydbg.launch([targets["threads"].path, "2"], stdin=read_end) as proc:
            assert proc.cont(timeout=0.2) is None
            assert proc.state == "running"
            pid = proc.pid
    finally:
        os.close(read_end)
        os.close(write_end)
    assert proc.state == "closed"
    assert not os.path.exists(f"/proc/{pid}")
    assert proc.exit_signal == signal.SIGKILL


def test_callbacks_on_other_threads_see_that_thread(targets):
    threads_target = targets["threads"]
    read_end, write_end = os.pipe()  # the program runs until its stdin reaches EOF
    seen: dict[int, int] = {}

    def tick(hit: pydbg.BreakpointHit) -> bool:
        assert proc.thread.tid == hit.tid and proc.regs.rip == hit.pc
        seen[hit.tid] = seen.get(hit.tid, 0) + 1
        return len(seen) == 3  # stop once every worker has ticked

    try:
        with pydbg.launch([threads_target.path, "3"], stdin=read_end) as proc:
            os.close(read_end)
            bp = proc.breakpoint(sym(threads_target, "worker_tick"), tick)
            event = proc.cont()
            assert isinstance(event, pydbg.BreakpointHit) and event.pc == bp.address
            workers = {t.tid for t in proc.threads} - {proc.pid}
            assert set(seen) == workers and len(workers) == 3
            bp.remove()
            os.close(write_end)
            write_end = -1
            assert isinstance(proc.cont(), pydbg.ProcessExited)
    finally:
        if write_end >= 0:
            os.close(write_end)
    assert proc.exit_code == 0
    assert bp.hits == sum(seen.values())


def test_a_callback_may_vote_a_debug_status(script, tmp_path):
    from pydbg.constants import DebugStatus

    def vote(hit: pydbg.BreakpointHit) -> DebugStatus:
        return DebugStatus.BREAK if proc.regs.rdi == 17 else DebugStatus.GO

    with launched(script, tmp_path / "out", "calls", 4) as proc:
        bp = proc.breakpoint(sym(script, "work"), vote)
        event = proc.cont()
        assert isinstance(event, pydbg.BreakpointHit) and proc.regs.rdi == 17
        assert isinstance(proc.cont(), pydbg.ProcessExited)
    assert bp.hits == 4
