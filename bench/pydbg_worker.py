"""The pydbg side of every benchmark workload: one run, one JSON line on stdout.

It takes exactly the arguments raw_tracer.c takes and prints the same keys, so run.py can
start either with the same argument list and compare the two lines.  Each workload is the
natural pydbg._native code for the job (a Python loop over `Tracer.step`, one
`Tracer.trace` call, a `wait`/`cont` loop, ...), not a tuned special case.

It runs in its own process, started by run.py already pinned (or not) to a CPU: a crash
or hang of the extension costs one measurement, not the whole run, and the targets it
spawns die with it (spawn uses kill_on_exit, i.e. PTRACE_O_EXITKILL).

The engine-step workloads are the exception: they measure the DbgEng-style engine
(pydbg.create_client(), set_execution_status + wait_for_event) rather than the native
tracer, and run.py compares them with raw_tracer.c's `step` on the same arguments.
int3-native and hwbp-native have no raw counterpart either (raw C has no native
conditions): run.py compares them with raw `int3`, the cost of a breakpoint hit that a
tracer has to look at.

Usage: python bench/pydbg_worker.py WORKLOAD ARGS...   (see raw_tracer.c for ARGS;
engine-step and engine-step-all take the ARGS of `step`, int3-native and hwbp-native
those of `int3`, engine-signal and engine-signal-filtered those of `signal` plus the offset
of the target's handler count, bench_handled; syscall-count, through the engine, and
engine-syscall-callback those of raw syscall-count)
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Sequence

import pydbg
from pydbg import _native
from pydbg._native import Event, EventKind, Tracer
from pydbg.constants import (
    DEBUG_BREAKPOINT_CODE,
    DEBUG_BREAKPOINT_ENABLED,
    DEBUG_END_ACTIVE_TERMINATE,
    DEBUG_EVENT_BREAKPOINT,
    DEBUG_EVENT_EXCEPTION,
    DEBUG_EVENT_SYSCALL,
    DEBUG_STATUS_BREAK,
    DEBUG_STATUS_GO,
    DEBUG_STATUS_GO_HANDLED,
    DEBUG_STATUS_STEP_INTO,
    FilterHandling,
    FilterStatus,
)
from pydbg.engine.signals import exception_code
from pydbg.filters import ExceptionFilterParameters

# Hits before the timed part of the breakpoint and signal loops, as in raw_tracer.c: the
# first ones include the dynamic loader's start-up and cold caches.
WARMUP_HITS = 1000
SIGUSR1_CODE = exception_code(signal.SIGUSR1)  # 0xE000000A, `sx` code e000000a
# PYDBG_BENCH_COLOCATE=0 measures Tracer(colocate=False): what an unpinned user would get
# without pydbg's default of sharing a CPU with the programs it spawns.
COLOCATE = os.environ.get("PYDBG_BENCH_COLOCATE", "1") != "0"


class BenchError(Exception):
    """The target or pydbg did something the workload did not expect."""


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def rate(workload: str, n: int, seconds: float, unit: str, **extra: object) -> None:
    emit(workload=workload, n=n, seconds=seconds, value=n / seconds, unit=unit, **extra)


def load_base(pid: int, path: str) -> int:
    """Start of the executable's first mapping with file offset 0 (as raw_tracer.c)."""
    real = os.path.realpath(path)
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and int(fields[2], 16) == 0 and fields[5] == real:
                return int(fields[0].split("-")[0], 16)
    raise BenchError(f"{real} not found in /proc/{pid}/maps")


def spawn(tracer: Tracer, target: str, *args: str) -> tuple[int, int]:
    """Spawn target with its stdout on /dev/null; return (pid, load base)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = tracer.spawn([target, *args], stdout=devnull)
    finally:
        os.close(devnull)
    return pid, load_base(pid, target)


def expect(events: list[Event], kind: EventKind, what: str) -> Event:
    """The one event of a single-threaded target; anything else is a failed run."""
    if len(events) != 1 or events[0].kind != kind:
        got = [(e.kind.name, e.tid, e.signal) for e in events]
        raise BenchError(f"{what}: expected one {kind.name} event, got {got}")
    return events[0]


def run_to(tracer: Tracer, pid: int, address: int) -> None:
    """Run from the exec stop to `address` and leave the thread there, breakpoint gone."""
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    event = expect(tracer.wait(), EventKind.BREAKPOINT, "run to ready")
    if event.address != address:
        raise BenchError(f"breakpoint at {event.address:#x}, expected {address:#x}")
    tracer.remove_breakpoint(pid, address)


def voluntary_switches(tid: int) -> int:
    """Every ptrace stop is one voluntary context switch of the tracee (it sleeps in
    TASK_TRACED), so the difference over an operation counts the stops it cost, without
    instrumenting pydbg.  raw_tracer.c checks this against its own count."""
    with open(f"/proc/{tid}/task/{tid}/status") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise BenchError("no voluntary_ctxt_switches in status")


# -- workloads --------------------------------------------------------------------------


def do_step(n: int, target: str, ready_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        run_to(tracer, pid, base + ready_off)
        step = tracer.step
        step_kind = EventKind.STEP
        t0 = time.perf_counter()
        for _ in range(n):
            if step(pid).kind != step_kind:
                raise BenchError("step: a stop other than STEP")
        t1 = time.perf_counter()
    rate("step", n, t1 - t0, "steps/s")


def do_trace(n: int, target: str, ready_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        run_to(tracer, pid, base + ready_off)
        t0 = time.perf_counter()
        result = tracer.trace(pid, n)
        t1 = time.perf_counter()
        if result.steps != n or result.reason != _native.TraceReason.COUNT:
            raise BenchError(f"trace: {result.steps} steps, reason {result.reason!r}")
        if len(result.pcs) != n or result.pcs[0] != base + ready_off:
            raise BenchError("trace: pcs not recorded from the start address")
    rate("trace", n, t1 - t0, "steps/s")


def hit_loop(tracer: Tracer, pid: int, n: int, kind: EventKind) -> float:
    """wait() + cont() for WARMUP_HITS + n hits; return the seconds of the last n."""
    wait, cont = tracer.wait, tracer.cont
    t0 = 0.0
    for i in range(WARMUP_HITS + n):
        if i == WARMUP_HITS:
            t0 = time.perf_counter()
        events = wait()
        if len(events) != 1 or events[0].kind != kind:
            expect(events, kind, "hit loop")  # raises with the details
        cont(pid)  # from a BREAKPOINT this steps over the int3 first
    return time.perf_counter() - t0


def do_int3(n: int, target: str, hit_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        tracer.insert_breakpoint(pid, base + hit_off)
        tracer.cont(pid)
        seconds = hit_loop(tracer, pid, n, EventKind.BREAKPOINT)
    rate("int3", n, seconds, "hits/s")


def do_hwbp(n: int, target: str, hit_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        tracer.set_hw_breakpoint(pid, 0, base + hit_off, _native.HW_EXECUTE, 1)
        tracer.cont(pid)
        seconds = hit_loop(tracer, pid, n, EventKind.HW_BREAKPOINT)
    rate("hwbp", n, seconds, "hits/s")


def set_declining_condition(tracer: Tracer, pid: int, address: int) -> None:
    """A native condition no hit can pass (rsp is never below 4096) that still reads a
    register at every hit, as a real register condition does."""
    tracer.set_breakpoint_condition(pid, address, register="rsp", reg_op="<", reg_value=4096)


def native_hit_loop(tracer: Tracer, pid: int, address: int, n: int) -> tuple[int, float]:
    """Let the core decline hits inside wait(); return (hits, seconds) of about n of them.

    Nothing is reported, so the hits are read from breakpoint_counts: after WARMUP_HITS,
    one wait() lasting as long as n hits took during the warm-up, counted before and after.
    """
    wait, counts = tracer.wait, tracer.breakpoint_counts
    t_start = time.perf_counter()
    while counts(pid, address)[0] < WARMUP_HITS:
        if wait(timeout=0.01):
            raise BenchError("a declined hit was reported")
    warm_rate = counts(pid, address)[0] / (time.perf_counter() - t_start)
    h0, t0 = counts(pid, address)[0], time.perf_counter()
    if wait(timeout=n / warm_rate):
        raise BenchError("a declined hit was reported")
    h1, t1 = counts(pid, address)[0], time.perf_counter()
    if counts(pid, address)[1] != 0:
        raise BenchError("the declining condition matched")
    return h1 - h0, t1 - t0


def do_int3_native(n: int, target: str, hit_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        address = base + hit_off
        tracer.insert_breakpoint(pid, address)
        set_declining_condition(tracer, pid, address)
        tracer.cont(pid)
        hits, seconds = native_hit_loop(tracer, pid, address, n)
    rate("int3-native", hits, seconds, "hits/s")


def do_hwbp_native(n: int, target: str, hit_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        address = base + hit_off
        tracer.set_process_hw_breakpoint(pid, 0, address, _native.HW_EXECUTE, 1)
        set_declining_condition(tracer, pid, address)
        tracer.cont(pid)
        hits, seconds = native_hit_loop(tracer, pid, address, n)
    rate("hwbp-native", hits, seconds, "hits/s")


def do_trace_reg(n: int, target: str, ready_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        run_to(tracer, pid, base + ready_off)
        rsp = tracer.get_reg(pid, "rsp")
        t0 = time.perf_counter()
        result = tracer.trace(pid, n, register="rsp")
        t1 = time.perf_counter()
        if result.steps != n or len(result.values) != n or len(result.pcs) != n:
            raise BenchError(f"trace-reg: {result.steps} steps, reason {result.reason!r}")
        if result.values[0] != rsp or result.pcs[0] != base + ready_off:
            raise BenchError("trace-reg: values not recorded from the start")
    rate("trace-reg", n, t1 - t0, "steps/s")


def do_signal(n: int, target: str) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, _ = spawn(tracer, target)
        tracer.cont(pid)
        wait, cont = tracer.wait, tracer.cont
        signal_kind, usr1 = EventKind.SIGNAL, signal.SIGUSR1
        t0 = 0.0
        for i in range(WARMUP_HITS + n):
            if i == WARMUP_HITS:
                t0 = time.perf_counter()
            events = wait()
            if len(events) != 1 or events[0].kind != signal_kind or events[0].signal != usr1:
                expect(events, signal_kind, "signal loop")
                raise BenchError(f"signal loop: signal {events[0].signal}, expected SIGUSR1")
            cont(pid, usr1)  # deliver it: the handler runs, as in raw_tracer.c
        t1 = time.perf_counter()
    rate("signal", n, t1 - t0, "signals/s")


def do_attach(cycles: int, pid: int) -> None:
    attach: list[float] = []
    detach: list[float] = []
    threads = 0
    with Tracer(colocate=COLOCATE) as tracer:
        for _ in range(cycles):
            t0 = time.perf_counter()
            tids = tracer.seize(pid)  # returns with every thread STOPPED
            t1 = time.perf_counter()
            tracer.detach(pid)
            t2 = time.perf_counter()
            threads = len(tids)
            attach.append(t1 - t0)
            detach.append(t2 - t1)
    # A detach that left a thread traced or stopped would make the timing meaningless.
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        if fields["TracerPid"].strip() != "0" or fields["State"].split()[0] in "tT":
            raise BenchError(f"attach100: thread {task} still traced or stopped after detach")
    attach.sort()
    detach.sort()
    emit(
        workload="attach100",
        n=cycles,
        threads=threads,
        value=attach[cycles // 2] * 1e3,
        unit="ms",
        detach_ms=detach[cycles // 2] * 1e3,
    )


def timed_reads(reps: int, read: Callable[[], int], size: int) -> float:
    """MiB/s of `reps` calls of read() after one untimed warm-up call."""
    if read() != size:
        raise BenchError("short read")
    t0 = time.perf_counter()
    for _ in range(reps):
        if read() != size:
            raise BenchError("short read")
    return size / (1 << 20) * reps / (time.perf_counter() - t0)


def do_read(reps: int, target: str, ready_off: int, buf_off: int, size: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        run_to(tracer, pid, base + ready_off)
        address = base + buf_off
        buffer = bytearray(size)  # reused: the warm-up read faults it in
        into = timed_reads(reps, lambda: tracer.read_memory_into(pid, address, buffer), size)
        if buffer[-1] != 0x5A:
            raise BenchError("read16m: wrong contents")
        alloc = timed_reads(reps, lambda: len(tracer.read_memory(pid, address, size)), size)
    emit(workload="read16m", n=reps, value=into, unit="MiB/s", alloc_value=alloc)


def do_branch(target: str, start_off: int, dest_off: int) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, base = spawn(tracer, target)
        run_to(tracer, pid, base + start_off)
        singleblock = tracer.singleblock_works()  # probe outside the measured window
        dest = base + dest_off
        pcs: list[int] = []
        kinds: list[str] = []
        v0 = voluntary_switches(pid)
        t0 = time.perf_counter()
        # One call should do; the bound only stops a runaway (e.g. a branch step that
        # returns after every instruction).
        while (not pcs or pcs[-1] != dest) and len(pcs) < 2000:
            kinds.append(tracer.branch_step(pid).kind.name)
            pcs.append(tracer.get_pc(pid))
        t1 = time.perf_counter()
        stops = voluntary_switches(pid) - v0
    if pcs[-1] != dest:
        raise BenchError(f"branch1000: never reached the jmp target after {len(pcs)} calls")
    emit(
        workload="branch1000",
        value=stops,
        unit="stops",
        seconds=t1 - t0,
        calls=len(pcs),
        pcs=[pc - base for pc in pcs[:8]],
        kinds=kinds[:8],
        singleblock_works=singleblock,
    )


def do_idle(target: str, seconds: str) -> None:
    with Tracer(colocate=COLOCATE) as tracer:
        pid, _ = spawn(tracer, target, seconds)
        tracer.cont(pid)
        waits = 0
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        # The first event is the target's PTRACE_EVENT_EXIT stop; an empty return
        # (a spurious wake-up) would be a finding, so it is counted, not hidden.
        while True:
            waits += 1
            events = tracer.wait()
            if events:
                break
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        if events[0].kind != EventKind.EXIT:
            raise BenchError(f"idle: first event {events[0].kind.name}, expected EXIT")
        # Let it finish and reap it: the target's exit stop has been collected, so it is
        # continued rather than killed.
        tracer.cont(pid)
        expect(tracer.wait(), EventKind.EXITED, "idle: exit")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    emit(
        workload="idle",
        value=100.0 * cpu / (t1 - t0),
        unit="%CPU",
        seconds=t1 - t0,
        cpu_seconds=cpu,
        wait_calls=waits,
        # Context switches of the whole worker while it waited: a blocking wait costs a
        # handful, a polling one about one per poll interval.
        switches=(r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw),
    )


# -- the engine (pydbg.create_client) --------------------------------------------------------


class StepCallbacks(pydbg.EventCallbacks):
    """The callbacks of engine-step: exception() and exit_process() overridden, so the
    default get_interest_mask() gives DEBUG_EVENT_EXCEPTION | DEBUG_EVENT_EXIT_PROCESS.
    They vote None (no opinion) and only count, so a run can show none was called while
    stepping (a step completion is not an exception event)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def exception(self, exception: object, first_chance: bool) -> None:
        self.calls["exception"] = self.calls.get("exception", 0) + 1

    def exit_process(self, exit_code: int) -> None:
        self.calls["exit_process"] = self.calls.get("exit_process", 0) + 1


class AllCallbacks(StepCallbacks):
    """engine-step-all: interest mask 0x1FFF, every event and notification (session status,
    change_engine_state, change_debuggee_state, change_symbol_state), each counted."""

    def get_interest_mask(self) -> int:
        return 0x1FFF

    def session_status(self, status: int) -> None:
        self.calls["session_status"] = self.calls.get("session_status", 0) + 1

    def change_engine_state(self, flags: int, argument: int) -> None:
        self.calls["change_engine_state"] = self.calls.get("change_engine_state", 0) + 1

    def change_debuggee_state(self, flags: int, argument: int) -> None:
        self.calls["change_debuggee_state"] = self.calls.get("change_debuggee_state", 0) + 1

    def change_symbol_state(self, flags: int, argument: int) -> None:
        self.calls["change_symbol_state"] = self.calls.get("change_symbol_state", 0) + 1


def engine_run_to(client: pydbg.DebugClient, pid: int, address: int) -> None:
    """From the initial break, run to `address` through the engine's public API and leave
    the current thread there with the code intact (the engine has no breakpoint API yet, so
    this plants an int3 with write_virtual, as raw_tracer.c's run_to does with pwrite, and
    takes the break instruction exception it raises)."""
    data, registers, control = client.data_spaces, client.registers, client.control
    original = data.read_virtual(address, 1)
    data.write_virtual(address, b"\xcc")
    control.set_execution_status(DEBUG_STATUS_GO)
    if not control.wait_for_event():
        raise BenchError("run to ready: the wait ended without an event")
    info = control.get_last_event_information()
    if info is None or registers.get_value("rip") != address + 1:
        raise BenchError(f"run to ready: broke in with {info}, not at the planted int3")
    data.write_virtual(address, original)
    registers.set_value("rip", address)


def do_engine_step(workload: str, n: int, target: str, ready_off: int) -> None:
    """n STEP_INTO round trips through set_execution_status + wait_for_event."""
    if COLOCATE:
        client = pydbg.create_client()
    else:
        client = pydbg.create_client(backend_factory=lambda: Tracer(colocate=False))
    callbacks = AllCallbacks() if workload == "engine-step-all" else StepCallbacks()
    client.set_event_callbacks(callbacks)
    try:
        pid = client.create_process([target])
        control = client.control
        if not control.wait_for_event():  # the initial breakpoint
            raise BenchError("engine-step: no initial break")
        address = load_base(pid, target) + ready_off
        engine_run_to(client, pid, address)
        before = dict(callbacks.calls)
        set_status, wait = control.set_execution_status, control.wait_for_event
        t0 = time.perf_counter()
        for _ in range(n):
            set_status(DEBUG_STATUS_STEP_INTO)
            if not wait():
                raise BenchError("engine-step: a wait ended without an event")
        t1 = time.perf_counter()
        calls = {k: v - before.get(k, 0) for k, v in callbacks.calls.items()}
        calls = {k: v for k, v in calls.items() if v}
        if control.get_execution_status() != DEBUG_STATUS_BREAK:
            raise BenchError("engine-step: not broken in after the last step")
        pc = client.registers.get_value("rip")
        if calls.get("exception") or calls.get("exit_process") or pc == address:
            raise BenchError(f"engine-step: callbacks {calls}, pc {pc - address:+#x}")
    finally:
        client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    rate(
        workload,
        n,
        t1 - t0,
        "steps/s",
        mask=callbacks.get_interest_mask(),
        callbacks_per_step={k: v / n for k, v in sorted(calls.items())},
    )


class CountingCallbacks(pydbg.EventCallbacks):
    """engine-int3-go: a Breakpoint callback that counts and votes GO, then BREAK once
    `limit` hits were seen."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.hits = 0
        self.t0 = 0.0

    def get_interest_mask(self) -> int:
        return DEBUG_EVENT_BREAKPOINT

    def breakpoint(self, bp: object) -> int:
        self.hits += 1
        if self.hits == WARMUP_HITS:
            self.t0 = time.perf_counter()
        return DEBUG_STATUS_BREAK if self.hits >= self.limit else DEBUG_STATUS_GO


def do_engine_breakpoint(workload: str, n: int, target: str, hit_off: int) -> None:
    """A breakpoint through the engine's public API (control.add_breakpoint):

    engine-int3-go: a Python Breakpoint callback returning GO at every hit;
    engine-int3-cond / engine-hwbp-cond: a condition the native core decides and no hit
    passes (so Python is not entered), on the int3 or served by a debug register.
    """
    callbacks = CountingCallbacks(WARMUP_HITS + n)
    if COLOCATE:
        client = pydbg.create_client()
    else:
        client = pydbg.create_client(backend_factory=lambda: Tracer(colocate=False))
    engine = client._engine
    try:
        pid = client.create_process([target])
        control = client.control
        if not control.wait_for_event():  # the initial breakpoint
            raise BenchError(f"{workload}: no initial break")
        address = load_base(pid, target) + hit_off
        engine.breakpoints.serve_by_register = workload == "engine-hwbp-cond"
        bp = control.add_breakpoint(DEBUG_BREAKPOINT_CODE)
        bp.set_offset(address)
        if workload != "engine-int3-go":
            bp.condition = "@rsp < 0n4096"  # read at every hit, never true
        bp.add_flags(DEBUG_BREAKPOINT_ENABLED)
        served = engine.breakpoints.served_by_register(bp)
        if served != (workload == "engine-hwbp-cond"):
            raise BenchError(f"{workload}: served by a debug register: {served}")
        if workload == "engine-int3-go":
            client.set_event_callbacks(callbacks)
            control.set_execution_status(DEBUG_STATUS_GO)
            if not control.wait_for_event() or callbacks.hits != WARMUP_HITS + n:
                raise BenchError(f"{workload}: broke in after {callbacks.hits} hits")
            hits, seconds = n, time.perf_counter() - callbacks.t0
        else:
            # Nothing is reported: run for as long as n hits take, read the core's count.
            control.set_execution_status(DEBUG_STATUS_GO)
            t_start = time.perf_counter()
            if control.wait_for_event(timeout=0.3):
                raise BenchError(f"{workload}: a declined hit broke in")
            warm = engine.backend.breakpoint_counts(pid, address)[0]
            rate_guess = warm / (time.perf_counter() - t_start)
            h0, t0 = warm, time.perf_counter()
            if control.wait_for_event(timeout=n / rate_guess):
                raise BenchError(f"{workload}: a declined hit broke in")
            h1, t1 = engine.backend.breakpoint_counts(pid, address)[0], time.perf_counter()
            hits, seconds = h1 - h0, t1 - t0
            if bp.hit_count != 0:
                raise BenchError(f"{workload}: the condition matched {bp.hit_count} times")
    finally:
        client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    rate(workload, hits, seconds, "hits/s")


class SignalCallbacks(pydbg.EventCallbacks):
    """engine-signal: an Exception callback that counts and votes GO_HANDLED, then BREAK
    once `limit` signals were seen."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.signals = 0
        self.t0 = 0.0

    def get_interest_mask(self) -> int:
        return DEBUG_EVENT_EXCEPTION

    def exception(self, exception: object, first_chance: bool) -> int:
        self.signals += 1
        if self.signals == WARMUP_HITS:
            self.t0 = time.perf_counter()
        return DEBUG_STATUS_BREAK if self.signals >= self.limit else DEBUG_STATUS_GO_HANDLED


def do_engine_signal(workload: str, n: int, target: str, handled_off: int) -> None:
    """SIGUSR1 raised in a loop, through the engine's public API.

    engine-signal: a Python Exception callback decides every signal (GO_HANDLED: the
    target's handler does not run).  engine-signal-filtered: no callback, and the SIGUSR1
    filter set to ignore and not handled (`sxi e000000a`), so the engine decides nothing
    and the native core delivers the signal; the target's own handler count, read with
    process_vm_readv around a timed wait, says how many were delivered.
    """
    if COLOCATE:
        client = pydbg.create_client()
    else:
        client = pydbg.create_client(backend_factory=lambda: Tracer(colocate=False))
    engine = client._engine
    callbacks = SignalCallbacks(WARMUP_HITS + n)
    try:
        pid = client.create_process([target])
        control = client.control
        if not control.wait_for_event():  # the initial breakpoint
            raise BenchError(f"{workload}: no initial break")
        handled = load_base(pid, target) + handled_off
        if workload == "engine-signal":
            client.set_event_callbacks(callbacks)
            control.set_execution_status(DEBUG_STATUS_GO)
            if not control.wait_for_event() or callbacks.signals != WARMUP_HITS + n:
                raise BenchError(f"{workload}: broke in after {callbacks.signals} signals")
            count, seconds = n, time.perf_counter() - callbacks.t0
        else:
            control.set_exception_filter_parameters(
                [
                    ExceptionFilterParameters(
                        FilterStatus.IGNORE, FilterHandling.GO_NOT_HANDLED, SIGUSR1_CODE
                    )
                ]
            )

            def delivered() -> int:
                return int.from_bytes(engine.backend.read_memory(pid, handled, 4), "little")

            control.set_execution_status(DEBUG_STATUS_GO)
            t_start = time.perf_counter()
            if control.wait_for_event(timeout=0.3):
                raise BenchError(f"{workload}: an ignored signal broke in")
            warm = delivered()
            rate_guess = warm / (time.perf_counter() - t_start)
            h0, t0 = warm, time.perf_counter()
            if control.wait_for_event(timeout=n / rate_guess):
                raise BenchError(f"{workload}: an ignored signal broke in")
            h1, t1 = delivered(), time.perf_counter()
            count, seconds = h1 - h0, t1 - t0
    finally:
        client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    rate(workload, count, seconds, "signals/s")


class SyscallCallbacks(pydbg.EventCallbacks):
    """engine-syscall-callback: a syscall callback that counts entries and votes GO, then
    BREAK once `limit` calls were entered."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls = 0
        self.t0 = 0.0

    def get_interest_mask(self) -> int:
        return DEBUG_EVENT_SYSCALL

    def syscall(
        self,
        thread: int,
        number: int,
        name: str,
        args: tuple[int, ...],
        is_exit: bool,
        result: int | None,
    ) -> int:
        if is_exit:
            return DEBUG_STATUS_GO
        self.calls += 1
        if self.calls == WARMUP_HITS:
            self.t0 = time.perf_counter()
        return DEBUG_STATUS_BREAK if self.calls > self.limit else DEBUG_STATUS_GO


def do_engine_syscalls(workload: str, n: int, target: str) -> None:
    """getpid in a loop, every system call counted through the engine's public API.

    syscall-count: Control.set_syscall_counting, nothing else listening, so the native
    core counts and resumes each syscall stop (strace -c's job); the counts are read with
    get_syscall_counts around a timed wait_for_event(timeout), as long as the warm-up
    suggests n calls take.  engine-syscall-callback: a Python syscall callback hears
    every entry and exit (votes GO) until n calls after the warm-up were entered.
    """
    if COLOCATE:
        client = pydbg.create_client()
    else:
        client = pydbg.create_client(backend_factory=lambda: Tracer(colocate=False))
    try:
        client.create_process([target])
        control = client.control
        if not control.wait_for_event():  # the initial breakpoint
            raise BenchError(f"{workload}: no initial break")
        if workload == "engine-syscall-callback":
            callbacks = SyscallCallbacks(WARMUP_HITS + n)
            client.set_event_callbacks(callbacks)
            control.set_execution_status(DEBUG_STATUS_GO)
            if not control.wait_for_event() or callbacks.calls != WARMUP_HITS + n + 1:
                raise BenchError(f"{workload}: broke in after {callbacks.calls} calls")
            count, seconds = n, time.perf_counter() - callbacks.t0
        else:
            control.set_syscall_counting(True)

            def counted() -> tuple[int, int]:
                counts = control.get_syscall_counts()
                return sum(counts.values()), counts.get("getpid", 0)

            control.set_execution_status(DEBUG_STATUS_GO)
            t_start = time.perf_counter()
            if control.wait_for_event(timeout=0.3):
                raise BenchError(f"{workload}: counting broke in")
            (c0, g0), t0 = counted(), time.perf_counter()
            rate_guess = c0 / (t0 - t_start)
            if control.wait_for_event(timeout=n / rate_guess):
                raise BenchError(f"{workload}: counting broke in")
            (c1, g1), t1 = counted(), time.perf_counter()
            if g1 - g0 != c1 - c0:  # the loop makes nothing but getpid calls
                raise BenchError(f"{workload}: {c1 - c0} calls, {g1 - g0} of them getpid")
            count, seconds = c1 - c0, t1 - t0
    finally:
        client.end_session(DEBUG_END_ACTIVE_TERMINATE)
    rate(workload, count, seconds, "syscalls/s")


def main(argv: Sequence[str]) -> int:
    workload, args = (argv[0], list(argv[1:])) if argv else ("", [])

    def num(i: int) -> int:
        return int(args[i], 0)

    runs: dict[tuple[str, int], Callable[[], None]] = {
        ("step", 3): lambda: do_step(num(0), args[1], num(2)),
        ("trace", 3): lambda: do_trace(num(0), args[1], num(2)),
        ("int3", 3): lambda: do_int3(num(0), args[1], num(2)),
        ("hwbp", 3): lambda: do_hwbp(num(0), args[1], num(2)),
        ("int3-native", 3): lambda: do_int3_native(num(0), args[1], num(2)),
        ("hwbp-native", 3): lambda: do_hwbp_native(num(0), args[1], num(2)),
        ("trace-reg", 3): lambda: do_trace_reg(num(0), args[1], num(2)),
        ("signal", 2): lambda: do_signal(num(0), args[1]),
        ("attach100", 2): lambda: do_attach(num(0), num(1)),
        ("read16m", 5): lambda: do_read(num(0), args[1], num(2), num(3), num(4)),
        ("branch1000", 3): lambda: do_branch(args[0], num(1), num(2)),
        ("idle", 2): lambda: do_idle(args[0], args[1]),
        ("engine-step", 3): lambda: do_engine_step(workload, num(0), args[1], num(2)),
        ("engine-step-all", 3): lambda: do_engine_step(workload, num(0), args[1], num(2)),
        ("engine-int3-go", 3): lambda: do_engine_breakpoint(workload, num(0), args[1], num(2)),
        ("engine-int3-cond", 3): lambda: do_engine_breakpoint(workload, num(0), args[1], num(2)),
        ("engine-hwbp-cond", 3): lambda: do_engine_breakpoint(workload, num(0), args[1], num(2)),
        ("engine-signal", 3): lambda: do_engine_signal(workload, num(0), args[1], num(2)),
        ("engine-signal-filtered", 3): lambda: do_engine_signal(workload, num(0), args[1], num(2)),
        ("syscall-count", 2): lambda: do_engine_syscalls(workload, num(0), args[1]),
        ("engine-syscall-callback", 2): lambda: do_engine_syscalls(workload, num(0), args[1]),
    }
    run = runs.get((workload, len(args)))
    if run is None:
        print(__doc__, file=sys.stderr)
        return 2
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
