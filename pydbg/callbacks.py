"""The callback classes users subclass: `EventCallbacks` (IDebugEventCallbacks) and
`OutputCallbacks` (IDebugOutputCallbacks).

Event callbacks
---------------
Register an instance with `client.set_event_callbacks(cb)`.  `get_interest_mask()` is called
once, then, and only the methods whose `DEBUG_EVENT_*` bit it returns are ever called.  All
calls happen on the engine thread, inside `wait_for_event` (or inside the client call that
caused a state change), with every thread of every target stopped, so that every facet
works inside them; the one exception is ChangeEngineState(EXECUTION_STATUS, ... |
DEBUG_STATUS_WAIT_TIMEOUT), which reports that a wait timed out with the targets running.

The nine target events (and the `syscall` extension below) return a `DEBUG_STATUS_*`
instruction; the engine collects the votes
of every client's callbacks, the event filter and any command, and acts on the one with the
highest precedence (BREAK > STEP_INTO > STEP_BRANCH > STEP_OVER > GO_NOT_HANDLED >
GO_HANDLED > GO > IGNORE_EVENT > RESTART_REQUESTED > NO_CHANGE).  Returning None is
NO_CHANGE.  A return value that is not a status is reported through the output callbacks
and counts as BREAK; so does an exception raised by the callback (the traceback goes to the
output callbacks as DEBUG_OUTPUT_ERROR).  The other four methods are notifications; what
they return is ignored.

Order, for one session (`*` marks optional repetition)::

    create_process / attach_process:
        change_engine_state(EXECUTION_STATUS, GO)    (an acquisition arms the next wait)
    wait_for_event:
        session_status(ACTIVE)
        change_debuggee_state(DEBUG_CDS_ALL, 0)
        change_engine_state(CURRENT_THREAD, engine thread id)
        create_process(...)                  (attach: then create_thread(...) per thread)
        exception(STATUS_BREAKPOINT record, True)     the initial breakpoint
        change_engine_state(EXECUTION_STATUS, BREAK)
        change_debuggee_state(DEBUG_CDS_ALL, 0)
    set_execution_status(GO):
        change_engine_state(EXECUTION_STATUS, GO)
    wait_for_event:
        [change_engine_state(CURRENT_THREAD, id)]     when the event thread differs
        create_thread / exit_thread / exception / breakpoint ...*
        exit_process(exit_code)
        change_engine_state(EXECUTION_STATUS, NO_DEBUGGEE)
        session_status(END)                  (END_SESSION_* when end_session ended it)

Loaded extensions (`client.load_extension`) hear DEBUG_NOTIFY_SESSION_ACTIVE after
session_status(ACTIVE) reached every callback, DEBUG_NOTIFY_SESSION_INACTIVE after any other
session_status, and ACCESSIBLE / INACCESSIBLE whenever the targets stop or start running.

`syscall(thread, number, name, args, is_exit, result)` is a pydbg extension under its own
interest bit, DEBUG_EVENT_SYSCALL (0x00100000, a bit DbgEng leaves unused): a system call
entry (is_exit False, result None) or exit (is_exit True, result the raw return value, a
negative errno on failure) of any thread.  It votes like the nine target events.  While any
client's mask has the bit (or a `sys` event filter breaks, prints or has a command), every
thread runs under PTRACE_SYSCALL; otherwise under plain PTRACE_CONT, at no cost.

Linux has no handles: `create_process` receives the pid as `handle` and the initial tid as
`initial_thread_handle`; `create_thread` the tid as `handle`, the thread's fs_base (its TLS
block) as `data_offset` and its pc as `start_offset`.  Values pydbg cannot know are 0.

Output callbacks
----------------
`output(mask, text)` receives every piece of output whose DEBUG_OUTPUT_* kind is in the
client's output mask.  Text arrives in pieces; lines end with "\\n".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.constants import DebugEvent

if TYPE_CHECKING:
    from pydbg.engine.signals import ExceptionRecord

__all__ = ["EventCallbacks", "OutputCallbacks"]

Vote = int | None


class EventCallbacks:
    """IDebugEventCallbacks.  Subclass it and override what you are interested in."""

    def get_interest_mask(self) -> int:
        """GetInterestMask: the DEBUG_EVENT_* bits whose methods should be called.
        The default is every event the class overrides."""
        mask = DebugEvent(0)
        for bit, name in METHOD_OF_EVENT.items():
            if getattr(type(self), name) is not getattr(EventCallbacks, name):
                mask |= bit
        return int(mask)

    def breakpoint(self, bp: object) -> Vote:
        """Breakpoint: a breakpoint the engine knows triggered; its command has run."""
        return None

    def exception(self, exception: ExceptionRecord, first_chance: bool) -> Vote:
        """Exception: a signal, the initial breakpoint, or a break-in."""
        return None

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> Vote:
        """CreateThread: a new thread (not the initial one: create_process covers it)."""
        return None

    def exit_thread(self, exit_code: int) -> Vote:
        """ExitThread: a thread is exiting (the current thread is that thread)."""
        return None

    def create_process(
        self,
        image_file_handle: int,
        handle: int,
        base_offset: int,
        module_size: int,
        module_name: str,
        image_name: str,
        check_sum: int,
        time_date_stamp: int,
        initial_thread_handle: int,
        thread_data_offset: int,
        start_offset: int,
    ) -> Vote:
        """CreateProcess: a process joined the session (launched, attached, or forked)."""
        return None

    def exit_process(self, exit_code: int) -> Vote:
        """ExitProcess: the process exits with exit_code (128+N for death by signal N)."""
        return None

    def load_module(
        self,
        image_file_handle: int,
        base_offset: int,
        module_size: int,
        module_name: str,
        image_name: str,
        check_sum: int,
        time_date_stamp: int,
    ) -> Vote:
        """LoadModule."""
        return None

    def unload_module(self, image_base_name: str | None, base_offset: int) -> Vote:
        """UnloadModule."""
        return None

    def system_error(self, error: int, level: int) -> Vote:
        """SystemError: never called on Linux (spec §9.4)."""
        return None

    def syscall(
        self,
        thread: int,
        number: int,
        name: str,
        args: tuple[int, ...],
        is_exit: bool,
        result: int | None,
    ) -> Vote:
        """pydbg extension (DEBUG_EVENT_SYSCALL): thread `thread` (its tid) enters system
        call `number` (`name` from pydbg.syscall_table, "syscall_N" if unknown) with `args`
        (as many as the call takes, unsigned 64-bit), or leaves it (is_exit, `result` the
        signed return value: -errno on failure).  Registers and memory are readable."""
        return None

    def session_status(self, status: int) -> None:
        """SessionStatus: a DEBUG_SESSION_* change.  Needs DEBUG_EVENT_SESSION_STATUS."""

    def change_debuggee_state(self, flags: int, argument: int) -> None:
        """ChangeDebuggeeState: DEBUG_CDS_* (registers, memory, or everything changed)."""

    def change_engine_state(self, flags: int, argument: int) -> None:
        """ChangeEngineState: DEBUG_CES_* (execution status, current thread, filters...)."""

    def change_symbol_state(self, flags: int, argument: int) -> None:
        """ChangeSymbolState: DEBUG_CSS_*."""


METHOD_OF_EVENT: dict[DebugEvent, str] = {
    DebugEvent.BREAKPOINT: "breakpoint",
    DebugEvent.EXCEPTION: "exception",
    DebugEvent.CREATE_THREAD: "create_thread",
    DebugEvent.EXIT_THREAD: "exit_thread",
    DebugEvent.CREATE_PROCESS: "create_process",
    DebugEvent.EXIT_PROCESS: "exit_process",
    DebugEvent.LOAD_MODULE: "load_module",
    DebugEvent.UNLOAD_MODULE: "unload_module",
    DebugEvent.SYSTEM_ERROR: "system_error",
    DebugEvent.SESSION_STATUS: "session_status",
    DebugEvent.CHANGE_DEBUGGEE_STATE: "change_debuggee_state",
    DebugEvent.CHANGE_ENGINE_STATE: "change_engine_state",
    DebugEvent.CHANGE_SYMBOL_STATE: "change_symbol_state",
    DebugEvent.SYSCALL: "syscall",
}


class OutputCallbacks:
    """IDebugOutputCallbacks."""

    def output(self, mask: int, text: str) -> None:
        """Output: `text` of kind `mask` (one DEBUG_OUTPUT_* bit)."""
