"""`pydbg.launch` and `pydbg.attach`: one debugged process for a script, over the facets.

    with pydbg.launch(["./prog", "arg"]) as proc:       # stopped at its initial breakpoint
        bp = proc.breakpoint("prog!work")
        event = proc.cont()                              # runs until something stops it
        print(proc.regs.rdi, proc.memory[proc.regs.rsp:proc.regs.rsp + 8], bp.hits)
        proc.finish()                                    # back in work's caller
        for event in proc.events():                      # every event, to ProcessExited
            print(event)
    print(proc.exit_code, proc.exit_signal)

A Process owns one client (pydbg.create_client) with its own event callbacks
(pydbg.scripting.listener) and calls nothing but its facets: control (waits, steps,
breakpoints, stacks), registers, data_spaces, symbols and system_objects.  `proc.client`
is that client, for anything this layer does not cover.  Like the client it belongs to
the thread that made it; only `interrupt()` may be called from another thread.

States: stopped (registers and memory readable, breakpoints settable) -> running (only
after a wait timed out: `wait()` again or `interrupt()`) -> ended (ProcessExited was
returned; exit_code and exit_signal are set) or closed (the `with` block or close() ended
the session: a launched process is killed, an attached one detached and left running).
A call that needs the process after it ended raises ProcessExitedError; after close,
NoTargetError; while it runs, TargetRunningError.

Stops: `cont()` resumes and returns the event that stopped the process: a breakpoint hit
(a handle without callback, or whose callback returned True), a signal the event filters
break on (as cdb: a first-chance access violation, a second chance of any signal the
program does not handle), a break-in, or ProcessExited.  `events()` stops at every event
instead and yields each one (see pydbg.scripting.listener).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from enum import Enum
from types import TracebackType
from typing import IO

from pydbg.breakpoints import Breakpoint
from pydbg.client import DebugClient, create_client
from pydbg.constants import DebugInterrupt, DebugStatus
from pydbg.control import StepMode
from pydbg.errors import (
    InsideWaitError,
    NoTargetError,
    ProcessExitedError,
    PydbgError,
    TargetRunningError,
)
from pydbg.scripting import placing
from pydbg.scripting.events import BreakIn, Event, ProcessExited
from pydbg.scripting.handles import BreakpointHandle, Callback, WatchpointHandle
from pydbg.scripting.listener import Listener
from pydbg.scripting.memory_view import MemoryView
from pydbg.scripting.registers_view import RegistersView
from pydbg.scripting.threads import Frame, ThreadView, frames
from pydbg.symbols import Module

__all__ = ["Process", "attach", "launch"]

# What launch() passes for the program's stdin/stdout/stderr: an fd, an open file, None
# (the script's own), or subprocess.DEVNULL / subprocess.STDOUT.
Stream = int | IO[bytes] | IO[str] | None

# control.trace records the pcs of a chunk: bounded, so a long trace needs no huge buffer.
_TRACE_CHUNK = 1 << 20


class _State(Enum):
    STOPPED = "stopped"
    WAITING = "waiting"  # inside a wait: callbacks run with the process stopped
    RUNNING = "running"  # a wait timed out
    ENDED = "ended"
    CLOSED = "closed"


class Process:
    """One debugged process (module docstring).  Made by `launch` and `attach`."""

    def __init__(self, client: DebugClient, attached: bool) -> None:
        self._client = client
        self._attached = attached
        self._stack = ExitStack()
        self._stack.enter_context(client)  # leaving it ends the session passively
        self._listener = Listener(client, self)
        client.set_event_callbacks(self._listener)
        self._state = _State.STOPPED
        self._pid = 0
        self._last: Event | None = None
        self.regs = RegistersView(client.registers, self._access)
        self.memory = MemoryView(client.data_spaces, self._access)

    def __repr__(self) -> str:
        return f"<Process {self._pid} {self._state.value}>"

    def __enter__(self) -> Process:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- state ----------------------------------------------------------------------------------

    @property
    def client(self) -> DebugClient:
        """The DebugClient behind the process (the facets)."""
        return self._client

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def state(self) -> str:
        """One of stopped, running, ended, closed (waiting inside callbacks)."""
        return self._state.value

    @property
    def last_event(self) -> Event | None:
        """The event the process last stopped (or ended) for."""
        return self._last

    @property
    def exit_code(self) -> int | None:
        """As a shell reports it (128 + N for death by signal N); None until it ended."""
        exited = self._listener.exited
        return None if exited is None else exited.exit_code

    @property
    def exit_signal(self) -> int | None:
        """The signal that killed it; None while it runs or when it exited by itself."""
        exited = self._listener.exited
        return None if exited is None else exited.exit_signal

    def _check(self, what: str) -> None:
        state = self._state
        if state is _State.STOPPED or state is _State.WAITING:
            return
        if state is _State.ENDED:
            raise ProcessExitedError(
                errno.ESRCH,
                f"process has exited (exit code {self.exit_code})",
                request=what,
                pid=self._pid,
            )
        if state is _State.CLOSED:
            raise NoTargetError(f"{what}: process {self._pid} is no longer debugged")
        raise TargetRunningError(
            f"{what}: process {self._pid} is running; wait() for it or interrupt() it first"
        )

    def _ready(self, what: str) -> None:
        """_check, and not from a callback: the process runs only from outside a wait."""
        if self._state is _State.WAITING:
            raise InsideWaitError(
                f"{what}: called from a callback, inside the wait; return True from the "
                "callback to stop the process there instead"
            )
        self._check(what)

    @contextmanager
    def _access(self, what: str) -> Iterator[None]:
        self._check(what)
        yield

    def close(self) -> None:
        """End the session: a launched process is killed (and reaped; exit_signal is then
        SIGKILL), an attached one detached and left running.  Closing twice does
        nothing."""
        if self._state is _State.CLOSED:
            return
        if self._state is _State.WAITING:
            raise InsideWaitError("close: called from a callback, inside the wait")
        try:
            if not self._attached and self._state in (_State.STOPPED, _State.RUNNING):
                # Killed here rather than by the passive end of the session, so that its
                # ExitProcess is reported: exit_code and exit_signal say SIGKILL.
                self._client.terminate_processes()
            self._stack.close()
        finally:
            if self._state is not _State.ENDED:
                self._state = _State.CLOSED

    # -- memory, symbols ------------------------------------------------------------------------

    def read(self, address: int, size: int) -> bytes:
        """`size` bytes at `address`; MemoryAccessError where nothing is mapped."""
        return self.memory.read(address, size)

    def write(self, address: int, data: bytes | bytearray | memoryview) -> None:
        self.memory.write(address, data)

    def read_int(self, address: int, size: int = 8, *, signed: bool = False) -> int:
        """A little-endian integer of 1, 2, 4 or 8 bytes at `address`."""
        return self.memory.read_int(address, size, signed=signed)

    def write_int(self, address: int, value: int, size: int = 8) -> None:
        self.memory.write_int(address, value, size)

    def symbol(self, name: str) -> int:
        """The address of `module!name` or a bare `name` (UnknownSymbolError if no loaded
        module defines it, AmbiguousSymbolError for a bare name several define)."""
        self._check("look up a symbol")
        return self._client.symbols.get_offset_by_name(name)

    def symbolize(self, address: int) -> str:
        """`module!name+0x1f` for an address (SymbolError outside every module)."""
        self._check("name an address")
        name, displacement = self._client.symbols.get_name_by_offset(address)
        return f"{name}+{displacement:#x}" if displacement else name

    @property
    def modules(self) -> list[Module]:
        """The loaded modules, by base address."""
        self._check("list the modules")
        return self._client.symbols.modules()

    # -- threads and stacks ---------------------------------------------------------------------

    @property
    def threads(self) -> list[ThreadView]:
        """Every thread of the process, in creation order."""
        self._check("list the threads")
        engine_ids, tids = self._client.system_objects.get_thread_ids_by_index()
        return [
            ThreadView(self._client, self._access, tid, engine_id)
            for engine_id, tid in zip(engine_ids, tids, strict=True)
        ]

    @property
    def thread(self) -> ThreadView:
        """The current thread: the one the last event happened on, whose registers
        `proc.regs` are."""
        self._check("find the current thread")
        objects = self._client.system_objects
        return ThreadView(
            self._client,
            self._access,
            objects.get_current_thread_system_id(),
            objects.get_current_thread_id(),
        )

    def backtrace(self, max_frames: int = 64) -> list[Frame]:
        """The current thread's call stack, innermost first."""
        self._check("unwind the stack")
        return frames(self._client, max_frames)

    # -- breakpoints ----------------------------------------------------------------------------

    def breakpoint(
        self,
        where: int | str,
        callback: Callback | None = None,
        *,
        hardware: bool = False,
        condition: str | Callable[[Process], object] | None = None,
    ) -> BreakpointHandle:
        """A code breakpoint at an address or a symbol.  `module!name` of a module not
        loaded yet waits for it (the breakpoint is deferred; `address` is None until
        then); a name no loaded module defines otherwise raises UnknownSymbolError.
        hardware: a debug register instead of an int3 (4 at most, with watchpoints).
        condition: a MASM expression (`@rdi > 0x100`), or a callable(proc) -> bool; a hit
        whose condition is false is not counted and does not call the callback.
        callback: called at each hit, see pydbg.scripting.handles for what it returns."""
        self._check("set a breakpoint")
        test = (
            condition if condition is None or isinstance(condition, str) else self._test(condition)
        )
        bp = placing.code_breakpoint(self._client, where, hardware=hardware, condition=test)
        return self._keep(BreakpointHandle(bp, callback, hardware, self._remove))

    def watch(
        self, where: int | str, size: int, access: str = "w", callback: Callback | None = None
    ) -> WatchpointHandle:
        """A hardware watchpoint on `size` (1, 2, 4 or 8, aligned) bytes at an address or
        symbol: access "w" (writes), "rw" or "r" (reads and writes: x86 cannot watch
        reads alone) or "x" (execution, size 1).  Each hit is a WatchpointHit with the
        bytes before and after."""
        self._check("set a watchpoint")
        bp, value = placing.data_breakpoint(self._client, where, size, access)
        handle = WatchpointHandle(bp, callback, self._remove, access, size, value)
        self._keep(handle)
        return handle

    def _test(self, condition: Callable[[Process], object]) -> Callable[[Breakpoint], object]:
        return lambda bp: condition(self)

    def _keep(self, handle: BreakpointHandle) -> BreakpointHandle:
        self._listener.handles[handle.id] = handle
        return handle

    def _remove(self, handle: BreakpointHandle) -> None:
        self._listener.handles.pop(handle.id, None)
        if self._state is _State.STOPPED or self._state is _State.WAITING:
            self._client.control.remove_breakpoint(handle.breakpoint)
        # (Ended or closed: the breakpoint went with the process.)

    # -- execution ------------------------------------------------------------------------------

    def cont(self, timeout: float | None = None) -> Event | None:
        """Resume and wait for the next stop (module docstring); return its event.  With a
        timeout (seconds) that passes first: None, and the process runs on (`wait()`,
        `interrupt()`)."""
        if self._state is not _State.RUNNING:
            self._ready("continue")
            self._client.control.set_execution_status(DebugStatus.GO)
        return self._wait(timeout)

    def wait(self, timeout: float | None = None) -> Event | None:
        """Wait for a running process to stop (after a `cont` or `wait` that timed out, or
        an `interrupt()`); return the event, or None if the timeout passed first.  A
        stopped process returns at once with the event it stopped for; an ended one with
        its ProcessExited."""
        if self._state is _State.RUNNING:
            return self._wait(timeout)
        if self._state is _State.ENDED:
            return self._listener.exited
        self._check("wait for a stop")
        return self._last

    def interrupt(self) -> None:
        """Break into the running process (SetInterrupt); the wait in progress, or the
        next `wait()`, returns a BreakIn.  Callable from any thread."""
        self._client.control.set_interrupt(DebugInterrupt.ACTIVE)

    def step(self) -> int:
        """Run one instruction of the current thread (`t`); return the new pc.  A call is
        stepped into.  An event that comes first (a signal) ends the step too: see
        `last_event`."""
        self._ready("step")
        self._client.control.set_execution_status(DebugStatus.STEP_INTO)
        self._wait(None, stepping=True)
        self._check("step")
        return self.regs.rip

    def finish(self) -> int:
        """Run until the current function returns to its caller (`gu`); return the pc
        there, the return address.  Breakpoints met on the way stop it (as in cdb) unless
        their callbacks let the process go on."""
        self._ready("finish")
        self._client.control.step(StepMode.GO_UP)
        self._wait(None, stepping=True)
        self._check("finish")
        return self.regs.rip

    def trace(self, max_steps: int | None = None) -> int:
        """Single-step the current thread in the native loop (control.trace) until the
        process stops for an event, ends, or `max_steps` instructions ran; return how
        many ran.  Only this thread runs.  Events on the way are decided as under `cont()`
        (a module load, a breakpoint whose callback lets it go on, a caught signal: the
        trace goes on; the step that delivers a signal lands on its handler and counts)."""
        self._ready("trace")
        control = self._client.control
        total = 0
        while max_steps is None or total < max_steps:
            chunk = _TRACE_CHUNK if max_steps is None else min(_TRACE_CHUNK, max_steps - total)
            result = control.trace(chunk)
            total += result.steps
            if result.steps == chunk:
                continue  # (reason COUNT)
            # An event or a breakpoint is pending: the engine decides it while stepping
            # one instruction, which goes on only if nothing stops the process.
            control.set_execution_status(DebugStatus.STEP_INTO)
            self._wait(None, stepping=True)
            if self._state is not _State.STOPPED or not control.last_wait_ended_a_step():
                break
            total += 1
        return total

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Resume, stopping at every event (threads, modules, signals, breakpoint hits
        but those a callback let go on), and yield each with the process stopped; the
        last is ProcessExited.  With a timeout (seconds per event): when nothing happens
        in time, break in and yield the BreakIn."""
        while self._state is not _State.ENDED:
            if self._state is not _State.RUNNING:
                self._ready("iterate over events")
                self._client.control.set_execution_status(DebugStatus.GO)
            event = self._wait(timeout, every_event=True)
            if event is None:  # nothing in time: stop it and show where it is
                self.interrupt()
                event = self._wait(None, every_event=True)
            if event is None:
                return
            yield event

    def _wait(
        self, timeout: float | None, *, stepping: bool = False, every_event: bool = False
    ) -> Event | None:
        """One wait_for_event with this layer's votes; the stop's event, or None."""
        listener = self._listener
        listener.seen = []
        listener.every_event = every_event
        listener.go = int(DebugStatus.IGNORE_EVENT if stepping else DebugStatus.GO)
        self._state = _State.WAITING
        control = self._client.control
        try:
            broke = control.wait_for_event(timeout)
        except BaseException:
            # (Ctrl-C, a lost session): whatever state the engine is left in.
            with suppress(PydbgError):
                self._settle(control.get_execution_status() == DebugStatus.BREAK)
            raise
        finally:
            listener.every_event = False
        event = self._settle(broke)
        error, listener.error = listener.error, None
        if error is not None:
            raise error
        return event

    def _settle(self, broke: bool) -> Event | None:
        """The state after a wait, and the event it stopped for."""
        listener = self._listener
        control = self._client.control
        if broke:
            self._state = _State.STOPPED
            if control.last_wait_ended_a_step() or not listener.seen:
                self._last = self._step_stop()
            else:
                self._last = listener.seen[-1]  # the engine breaks right after it
            return self._last
        if control.get_execution_status() != DebugStatus.NO_DEBUGGEE:
            self._state = _State.RUNNING
            return None
        if listener.exited is None:  # the session ended some other way (a detach)
            self._state = _State.CLOSED
            return None
        self._state = _State.ENDED
        self._last = listener.exited
        return listener.exited

    def _step_stop(self) -> Event:
        """What a stop without an event (a finished step) reports."""
        try:
            tid = self._client.system_objects.get_current_thread_system_id()
            return BreakIn(tid, self._client.registers.get_value("rip"), "step complete")
        except PydbgError:
            return BreakIn(0, 0, "step complete")

    def _started(self, pid: int) -> None:
        """Wait for the initial breakpoint of a process that just joined the session."""
        self._pid = pid
        self._wait(None)
        if self._state is _State.ENDED:
            exited = self._listener.exited
            assert isinstance(exited, ProcessExited)
            self._last = exited


def launch(
    argv: Sequence[str] | str,
    *,
    stdin: Stream = None,
    stdout: Stream = None,
    stderr: Stream = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> Process:
    """Start a program under the debugger, stopped at its initial breakpoint (in the
    dynamic loader, before any library is loaded: break on `libc_so!malloc` is deferred
    until libc loads).  argv[0] is searched in PATH.  stdin/stdout/stderr: an fd, an open
    file, subprocess.DEVNULL (or STDOUT for stderr); None keeps the script's own.  Use as
    a context manager: leaving it kills the process if it still runs."""
    if isinstance(argv, str):
        argv = [argv]
    client = create_client()
    process = Process(client, attached=False)
    try:
        pid = client.create_process(
            list(argv), env=env, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr
        )
        process._started(pid)
    except BaseException:
        process.close()
        raise
    return process


def attach(pid: int) -> Process:
    """Attach to a running process and stop it.  Use as a context manager: leaving it
    detaches, and the process runs on."""
    client = create_client()
    process = Process(client, attached=True)
    try:
        client.attach_process(pid)
        process._started(pid)
    except BaseException:
        process.close()
        raise
    return process
