"""What the api tests compare against: callbacks that record every call, and the DbgEng
values written out from spec/dbgeng-model.md (not imported from pydbg, so the engine is
checked against the spec rather than against itself).

A `Recorder` keeps each call as a short tuple, e.g. ("exception", 0x80000003, True), and the
raw arguments beside it; the builders below make the same tuples for expected sequences::

    assert recorder.take() == [session(ACTIVE), debuggee(CDS_ALL, 0), current(0), ...]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydbg

# §1.1 execution status codes.
NO_CHANGE, GO, GO_HANDLED, GO_NOT_HANDLED, STEP_OVER, STEP_INTO, BREAK = 0, 1, 2, 3, 4, 5, 6
NO_DEBUGGEE, STEP_BRANCH = 7, 8
STATUS_MASK = 0x1F
# §1.2 flag bits of a ChangeEngineState(EXECUTION_STATUS) argument.
INSIDE_WAIT, WAIT_TIMEOUT = 0x1_0000_0000, 0x2_0000_0000
# §2.1 SessionStatus arguments.
ACTIVE, END_ACTIVE_TERMINATE, END_ACTIVE_DETACH, END_PASSIVE, END = 0, 1, 2, 3, 4
# §3.1 interest mask bits.
EVENT_BREAKPOINT, EVENT_EXCEPTION, EVENT_CREATE_THREAD, EVENT_EXIT_THREAD = 0x1, 0x2, 0x4, 0x8
EVENT_CREATE_PROCESS, EVENT_EXIT_PROCESS, EVENT_SESSION_STATUS = 0x10, 0x20, 0x200
EVENT_CHANGE_DEBUGGEE_STATE, EVENT_CHANGE_ENGINE_STATE = 0x400, 0x800
ALL_EVENTS = 0x1FFF
# LoadModule, UnloadModule and ChangeSymbolState: module tracking has tests of its own; the
# session sequences here are written without them.
MODULE_EVENTS = 0x40 | 0x80 | 0x1000
SESSION_EVENTS = ALL_EVENTS & ~MODULE_EVENTS
# §3.3 / §3.4.
CDS_ALL, CDS_REGISTERS = 0xFFFFFFFF, 0x1
CES_CURRENT_THREAD, CES_EXECUTION_STATUS = 0x1, 0x10
# §4.4 SetInterrupt flags.
INTERRUPT_ACTIVE, INTERRUPT_PASSIVE, INTERRUPT_EXIT = 0, 1, 2
# §6.5 EndSession flags (not the DEBUG_SESSION_* numbers).
END_PASSIVE_FLAG, END_ACTIVE_TERMINATE_FLAG, END_ACTIVE_DETACH_FLAG = 0, 1, 2
# §6.2 CreateProcess flag: debug the children too.
DEBUG_PROCESS = 0x1
# §6.6 output mask bit of errors (tracebacks of callbacks that raised).
OUTPUT_ERROR = 0x2
# §5.4 / §9.2 exception codes.
STATUS_BREAKPOINT = 0x80000003
STATUS_ACCESS_VIOLATION = 0xC0000005
DBG_CONTROL_C = 0x40010005  # SIGINT
# §9.2: a signal without a Windows counterpart is 0xE0000000 | signo (SIGUSR1 = 10).
SIGUSR1_CODE = 0xE000000A


# -- expected calls -------------------------------------------------------------------------------


def session(status: int) -> tuple[Any, ...]:
    return ("session_status", status)


def engine(flags: int, argument: int) -> tuple[Any, ...]:
    return ("change_engine_state", flags, argument)


def status(value: int) -> tuple[Any, ...]:
    """ChangeEngineState(DEBUG_CES_EXECUTION_STATUS, value)."""
    return engine(CES_EXECUTION_STATUS, value)


def current(engine_thread_id: int) -> tuple[Any, ...]:
    """ChangeEngineState(DEBUG_CES_CURRENT_THREAD, id)."""
    return engine(CES_CURRENT_THREAD, engine_thread_id)


def debuggee(flags: int, argument: int) -> tuple[Any, ...]:
    return ("change_debuggee_state", flags, argument)


def exception(code: int, first_chance: bool = True) -> tuple[Any, ...]:
    return ("exception", code, first_chance)


def create_process(handle: int, initial_thread_handle: int) -> tuple[Any, ...]:
    return ("create_process", handle, initial_thread_handle)


def create_thread(handle: int) -> tuple[Any, ...]:
    return ("create_thread", handle)


def exit_thread(code: int) -> tuple[Any, ...]:
    return ("exit_thread", code)


def exit_process(code: int) -> tuple[Any, ...]:
    return ("exit_process", code)


# The session becomes accessible (§4.7): the last two calls of every wait that breaks in.
BROKE_IN = [status(BREAK), debuggee(CDS_ALL, 0)]


def ended(how: int) -> list[tuple[Any, ...]]:
    """The last two calls of a session (§2.2 rule 5)."""
    return [status(NO_DEBUGGEE), session(how)]


# -- recorders ------------------------------------------------------------------------------------

Vote = Callable[..., int | None] | int | None


class Recorder(pydbg.EventCallbacks):
    """Event callbacks that record every call and vote as told.

    `votes` maps a method name to a status, or to a function of the call's arguments that
    returns one; unlisted methods vote NO_CHANGE (None).
    """

    def __init__(self, mask: int = SESSION_EVENTS, votes: dict[str, Vote] | None = None) -> None:
        self.mask = mask
        self.votes: dict[str, Vote] = dict(votes or {})
        self.calls: list[tuple[Any, ...]] = []  # the short form
        self.raw: list[tuple[str, tuple[Any, ...]]] = []  # (method, arguments)

    def get_interest_mask(self) -> int:
        return self.mask

    def take(self) -> list[tuple[Any, ...]]:
        """The calls recorded since the last take()."""
        calls, self.calls = self.calls, []
        return calls

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]

    def args_of(self, method: str) -> list[tuple[Any, ...]]:
        """Raw arguments of every call of `method` so far (take() does not clear them)."""
        return [args for name, args in self.raw if name == method]

    def _record(self, short: tuple[Any, ...], args: tuple[Any, ...]) -> int | None:
        method = short[0]
        self.calls.append(short)
        self.raw.append((method, args))
        vote = self.votes.get(method)
        return vote(*args) if callable(vote) else vote

    def breakpoint(self, bp: object) -> int | None:
        return self._record(("breakpoint",), (bp,))

    def exception(self, exception: Any, first_chance: bool) -> int | None:
        short = ("exception", exception.exception_code, first_chance)
        return self._record(short, (exception, first_chance))

    def create_thread(self, handle: int, data_offset: int, start_offset: int) -> int | None:
        return self._record(("create_thread", handle), (handle, data_offset, start_offset))

    def exit_thread(self, exit_code: int) -> int | None:
        return self._record(("exit_thread", exit_code), (exit_code,))

    def create_process(self, *args: Any) -> int | None:
        # (image_file_handle, handle, base_offset, module_size, module_name, image_name,
        #  check_sum, time_date_stamp, initial_thread_handle, thread_data_offset, start_offset)
        return self._record(("create_process", args[1], args[8]), args)

    def exit_process(self, exit_code: int) -> int | None:
        return self._record(("exit_process", exit_code), (exit_code,))

    def load_module(self, *args: Any) -> int | None:
        return self._record(("load_module", args[3]), args)

    def unload_module(self, image_base_name: str | None, base_offset: int) -> int | None:
        return self._record(("unload_module", image_base_name), (image_base_name, base_offset))

    def system_error(self, error: int, level: int) -> int | None:
        return self._record(("system_error", error, level), (error, level))

    def session_status(self, status: int) -> None:
        self._record(("session_status", status), (status,))

    def change_debuggee_state(self, flags: int, argument: int) -> None:
        self._record(("change_debuggee_state", flags, argument), (flags, argument))

    def change_engine_state(self, flags: int, argument: int) -> None:
        self._record(("change_engine_state", flags, argument), (flags, argument))

    def change_symbol_state(self, flags: int, argument: int) -> None:
        self._record(("change_symbol_state", flags, argument), (flags, argument))


class OutputRecorder(pydbg.OutputCallbacks):
    """Output callbacks that keep every piece of text with its DEBUG_OUTPUT_* mask."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, str]] = []

    def output(self, mask: int, text: str) -> None:
        self.pieces.append((mask, text))

    def text(self, mask: int | None = None) -> str:
        return "".join(t for m, t in self.pieces if mask is None or m & mask)

    def take(self) -> str:
        text = self.text()
        self.pieces.clear()
        return text
