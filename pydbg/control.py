"""The control facet (IDebugControl): execution status, WaitForEvent, interrupts, commands,
expressions, engine options and event filters.

The execution model in one paragraph (spec §4): set a status (`set_execution_status`,
`step`, or a command such as `g`), then call `wait_for_event`.  The targets run until an
event breaks in (True: everything is stopped and can be inspected), the timeout passes
(False: they keep running; wait again or `set_interrupt()`), or the session ends (False,
and `get_execution_status()` is DEBUG_STATUS_NO_DEBUGGEE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pydbg.breakpoints import Breakpoint, BreakpointError
from pydbg.constants import (
    DEBUG_ANY_ID,
    DEBUG_BREAKPOINT_ADDER_ONLY,
    DEBUG_OUTCTL_AMBIENT_TEXT,
    DEBUG_STATUS_INSIDE_WAIT,
    DebugInterrupt,
    DebugStatus,
    OutputMask,
)
from pydbg.engine import events as ev
from pydbg.engine.session import EngineError
from pydbg.engine.signals import ExceptionRecord
from pydbg.engine.stepping import StepMode
from pydbg.filters import ExceptionFilterParameters, SpecificFilterParameters

if TYPE_CHECKING:
    from pydbg._native import TraceResult
    from pydbg.client import DebugClient
    from pydbg.elf.inlines import InlinedCall
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Thread

__all__ = [
    "Control",
    "LastEventBreakpoint",
    "LastEventException",
    "LastEventExitProcess",
    "LastEventExitThread",
    "LastEventInformation",
    "LastEventLoadModule",
    "LastEventSyscall",
    "LastEventUnloadModule",
    "StackFrame",
    "StepMode",
    "stack_trace",
]

# IDebugControl::OutputCurrentState flags (DEBUG_CURRENT_*): what a stop shows.
DEBUG_CURRENT_SYMBOL = 0x1
DEBUG_CURRENT_DISASM = 0x2
DEBUG_CURRENT_REGISTERS = 0x4
DEBUG_CURRENT_SOURCE_LINE = 0x8
DEBUG_CURRENT_DEFAULT = 0xF


@dataclass(frozen=True)
class StackFrame:
    """DEBUG_STACK_FRAME, with what pydbg knows besides: the symbol (`module!name+0x1f`),
    the source line (`file:line`), how the frame was found (cfi, frame pointer, signal
    frame...), on the last frame why the walk ended, and the registers the unwinder
    recovered for the frame (all general registers in frame 0; in callers rip, rsp and
    the callee-saved ones the CFI or a signal frame gives)."""

    instruction_offset: int
    return_offset: int
    frame_offset: int  # the canonical frame address: the caller's rsp after the return
    stack_offset: int
    frame_number: int
    symbol: str = ""
    source: str = ""
    method: str = ""
    best_effort: bool = False
    note: str = ""
    registers: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    # The address the symbol, line and inlined calls are looked up at: a caller's return
    # address less one (it is inside the call), the pc itself in frame 0.
    lookup_offset: int = 0
    # get_stack_trace_ex only (DEBUG_STACK_FRAME_EX's InlineFrameContext, as fields):
    # `inline` marks a function the compiler inlined (no stack or return address of its
    # own: the offsets are those of the physical frame holding it), `physical_number` is
    # that physical frame's number in get_stack_trace, and `inline_depth` which function
    # at its pc the frame is, counted out from the innermost inlined one (the physical
    # function's is the number of inlined calls there).  In get_stack_trace: False, the
    # frame's own number, 0.
    inline: bool = False
    physical_number: int = -1
    inline_depth: int = 0


@dataclass(frozen=True)
class LastEventBreakpoint:
    """DEBUG_LAST_EVENT_INFO_BREAKPOINT."""

    id: int


@dataclass(frozen=True)
class LastEventException:
    """DEBUG_LAST_EVENT_INFO_EXCEPTION."""

    exception_record: ExceptionRecord
    first_chance: bool


@dataclass(frozen=True)
class LastEventExitThread:
    """DEBUG_LAST_EVENT_INFO_EXIT_THREAD."""

    exit_code: int


@dataclass(frozen=True)
class LastEventExitProcess:
    """DEBUG_LAST_EVENT_INFO_EXIT_PROCESS, and (a pydbg addition) the signal that killed
    the process: 0 when it exited, so that exit(128 + N) and a death by signal N, both
    exit code 128 + N, can be told apart."""

    exit_code: int
    exit_signal: int = 0


@dataclass(frozen=True)
class LastEventLoadModule:
    """DEBUG_LAST_EVENT_INFO_LOAD_MODULE."""

    base: int


@dataclass(frozen=True)
class LastEventUnloadModule:
    """DEBUG_LAST_EVENT_INFO_UNLOAD_MODULE."""

    base: int


@dataclass(frozen=True)
class LastEventSyscall:
    """pydbg extension (type DEBUG_EVENT_SYSCALL): a system call entry or exit."""

    number: int
    name: str
    args: tuple[int, ...]
    is_exit: bool
    result: int | None  # the exit's return value (-errno on failure); None at an entry


LastEventExtra = (
    LastEventBreakpoint
    | LastEventException
    | LastEventExitThread
    | LastEventExitProcess
    | LastEventLoadModule
    | LastEventUnloadModule
    | LastEventSyscall
)


@dataclass(frozen=True)
class LastEventInformation:
    """GetLastEventInformation's results.

    `type` is the event's DEBUG_EVENT_* bit, 0 for the break that ends a step (the
    engine's own, no DbgEng event: spec §4.6); `process_id` and `thread_id` are engine ids
    (DEBUG_ANY_ID when the thread is gone); `description` is cdb's one line (`.lastevent`);
    `extra` is the event's DEBUG_LAST_EVENT_INFO_* structure, None for events without one
    (create process / thread, a completed step).
    """

    type: int
    process_id: int
    thread_id: int
    description: str
    extra: LastEventExtra | None


def _extra(event: ev.Event) -> LastEventExtra | None:
    if isinstance(event, ev.BreakpointHit):
        bp = event.breakpoint
        return LastEventBreakpoint(bp.get_id()) if isinstance(bp, Breakpoint) else None
    if isinstance(event, ev.ExceptionEvent):
        record = event.record
        return None if record is None else LastEventException(record, event.first_chance)
    if isinstance(event, ev.ExitThread):
        return LastEventExitThread(event.exit_code)
    if isinstance(event, ev.ExitProcess):
        return LastEventExitProcess(event.exit_code, event.exit_signal)
    if isinstance(event, ev.LoadModule):
        return LastEventLoadModule(event.base_offset)
    if isinstance(event, ev.UnloadModule):
        return LastEventUnloadModule(event.base_offset)
    if isinstance(event, ev.SyscallEvent):
        return LastEventSyscall(
            event.number, event.name, event.arguments, event.is_exit, event.result
        )
    return None


class Control:
    """client.control."""

    def __init__(self, client: DebugClient) -> None:
        self._client = client
        self._engine = client._engine
        self._step_ended = False

    # -- execution ------------------------------------------------------------------------------

    def wait_for_event(self, timeout: float | None = None) -> bool:
        """WaitForEvent(0, timeout): True when an event broke in; False on timeout (the
        targets still run), after set_interrupt(DEBUG_INTERRUPT_EXIT), or when the session
        ended.  `timeout` is in seconds (None: no limit).  Raises InsideWaitError when
        called from a callback, NoTargetError without a target."""
        engine = self._engine
        before = engine.last_event
        self._step_ended = False
        broke = engine.wait_for_event(timeout)
        after = engine.last_event
        # A finished step is the engine's own break: no new event, or a StepComplete.
        self._step_ended = broke and (after is before or isinstance(after, ev.StepComplete))
        return broke

    def last_wait_ended_a_step(self) -> bool:
        """Whether the last wait_for_event of this client broke in because an armed step
        (`t`, `p`, `tc`, ...) finished, not for an event (a breakpoint, a signal) that
        came first.  A pydbg extension: DbgEng leaves what GetLastEventInformation says
        after a step undocumented, and pydbg keeps the last real event there."""
        return self._step_ended

    def set_execution_status(self, status: int, count: int = 1) -> None:
        """SetExecutionStatus: GO, GO_HANDLED, GO_NOT_HANDLED, STEP_INTO, STEP_OVER or
        STEP_BRANCH; runs nothing until wait_for_event.  `count` repeats a step (pydbg)."""
        self._engine.set_execution_status(status, count)

    def get_execution_status(self) -> DebugStatus:
        """GetExecutionStatus; callable from any thread."""
        return self._engine.get_execution_status()

    def get_execution_status_ex(self) -> int:
        """GetExecutionStatusEx: the execution status with its extended bits:
        DEBUG_STATUS_INSIDE_WAIT while a wait_for_event is deciding an event (event
        callbacks, breakpoint and filter commands run then, and what they set is their
        vote).  Callable from any thread."""
        status = int(self._engine.get_execution_status())
        return status | DEBUG_STATUS_INSIDE_WAIT if self._engine.inside_wait else status

    def step(
        self,
        mode: StepMode,
        count: int = 1,
        address: int | None = None,
        *,
        over: bool = False,
    ) -> None:
        """Arm a step beyond DbgEng's three step statuses; it runs at the next
        wait_for_event, which returns when it ends (or at an event that breaks first).
        A pydbg extension (DbgEng has no such call) doing what cdb's commands do:

            StepMode.INTO          t    (over=True: p)     as STEP_INTO / STEP_OVER
            StepMode.BRANCH        tb                      as STEP_BRANCH
            StepMode.TO_CALL       tc   (over=True: pc)    until the next instruction is a call
            StepMode.TO_RETURN     tt   (over=True: pt)    ... is a return
            StepMode.TO_BRANCHING  th   (over=True: ph)    ... is any control transfer
            StepMode.TO_ADDRESS    ta   (over=True: pa)    until the pc is `address`
            StepMode.GO_UP         gu                      until the current function returns
            StepMode.LINE          t/p in source mode      one source line (gdb's step, next)

        At least one instruction runs.  `over` steps over calls (every thread runs during
        the call); otherwise only the current thread runs.  `count` repeats the step.  The
        status reported is STEP_OVER for over steps and gu, else STEP_INTO.  Inside a wait
        (a callback, a breakpoint command) the step is the caller's vote.  Raises
        EngineError for a bad argument, or for gu when the caller cannot be found."""
        if not isinstance(mode, StepMode):
            raise EngineError(f"mode must be a pydbg.control.StepMode, not {mode!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise EngineError(f"count must be a positive int, not {count!r}")
        if (address is None) != (mode is not StepMode.TO_ADDRESS):
            raise EngineError("an address is given with StepMode.TO_ADDRESS, and only then")
        if address is not None and (not isinstance(address, int) or address < 0):
            raise EngineError(f"address must be a non-negative int, not {address!r}")
        if over and mode is StepMode.BRANCH:
            raise EngineError("a branch step (tb) has no form that steps over calls")
        self._engine.step(mode, over=over, count=count, address=address)

    def get_code_level(self) -> int:
        """GetCodeLevel: DEBUG_LEVEL_SOURCE (0: STEP_INTO / STEP_OVER step by source line,
        cdb's `l+t`) or DEBUG_LEVEL_ASSEMBLY (1, the default: by instruction)."""
        return self._engine.code_level

    def set_code_level(self, level: int) -> None:
        """SetCodeLevel.  In source mode `t`/`p` (STEP_INTO / STEP_OVER, with their
        counts) step by line as gdb's `step`/`next` (pydbg.engine.stepping.LineStepPlan);
        the other steps (`tc`, `gu`, `tb` ...) are unchanged.  Notifies
        DEBUG_CES_CODE_LEVEL when it changes; raises EngineError for another value."""
        self._engine.set_code_level(level)

    def go_conditional(self) -> None:
        """cdb's `gc` (a pydbg extension): go on as before the event that is being decided,
        so a step in progress goes on and otherwise the targets run (GO).  Inside a wait
        (a breakpoint command, a callback) this is the caller's vote; outside one it is
        set_execution_status(DEBUG_STATUS_GO)."""
        if self._engine.inside_wait:
            self._engine.vote_continue()
        else:
            self.set_execution_status(DebugStatus.GO)

    def set_interrupt(self, flags: int = DebugInterrupt.ACTIVE) -> None:
        """SetInterrupt; callable from any thread.  ACTIVE breaks into running targets,
        EXIT makes a pending wait return False without stopping them, PASSIVE only
        registers a user interrupt (see get_interrupt)."""
        self._engine.set_interrupt(flags)

    def get_interrupt(self) -> bool:
        """GetInterrupt: True (once) if a user interrupt was registered."""
        return self._engine.get_interrupt()

    # -- commands ---------------------------------------------------------------------------

    def execute(self, command: str, output_control: int = DEBUG_OUTCTL_AMBIENT_TEXT) -> None:
        """Execute: a `;`-separated cdb command sequence, with implicit waits between
        execution commands (see pydbg.commands.interpreter).  Its output goes where
        `output_control` (DEBUG_OUTCTL_*) routes it; AMBIENT (the default): this client's
        output callbacks."""
        self._client._check_connected("execute")
        with self._client.output_routing(output_control):
            self._client._interpreter.execute(command)

    def controlled_output(self, output_control: int, mask: int, text: str) -> None:
        """ControlledOutput: text of kind `mask` routed by `output_control`
        (DEBUG_OUTCTL_THIS_CLIENT, ALL_CLIENTS, ALL_OTHER_CLIENTS, IGNORE, LOG_ONLY, with
        OVERRIDE_MASK / NOT_LOGGED / DML; AMBIENT: the current routing)."""
        self._client._check_connected("controlled_output")
        with self._client.output_routing(output_control):
            self._client.output(mask, text)

    def output_current_state(self, flags: int = DEBUG_CURRENT_DEFAULT) -> None:
        """OutputCurrentState: what cdb shows at a stop, to this client's output callbacks
        (DEBUG_OUTPUT_PROMPT_REGISTERS): the registers (DEBUG_CURRENT_REGISTERS), the
        `module!symbol+0x4 [file @ line]:` line (DEBUG_CURRENT_SYMBOL, with
        DEBUG_CURRENT_SOURCE_LINE for the part in brackets) and the next instruction
        (DEBUG_CURRENT_DISASM), all of the current scope (pydbg.symbols), as far as the
        interpreter's `.prompt_allow` settings allow."""
        self._client._interpreter.output_current_state(flags)

    def evaluate(self, expression: str) -> int:
        """Evaluate: a MASM expression (numbers in the current radix, 16 by default;
        @registers, $pseudo-registers, poi()...) as an unsigned 64-bit int."""
        return self._client._interpreter.evaluate(expression)

    def output(self, mask: int, text: str) -> None:
        """Output: send text of kind `mask` to every client's output callbacks."""
        self._engine.output(mask, text)

    def get_last_event_information(self) -> LastEventInformation | None:
        """GetLastEventInformation: the last event the engine broke in or reported for
        (see LastEventInformation), or None before the first."""
        from pydbg.engine.dispatch import describe

        event: ev.Event | None = self._engine.last_event
        if event is None:
            return None
        thread = event.thread
        return LastEventInformation(
            type=int(event.mask),
            process_id=event.process.engine_id,
            thread_id=thread.engine_id if thread is not None else DEBUG_ANY_ID,
            description=describe(event),
            extra=_extra(event),
        )

    # -- breakpoints ----------------------------------------------------------------------------

    def add_breakpoint(self, break_type: int, desired_id: int = DEBUG_ANY_ID) -> Breakpoint:
        """AddBreakpoint: a new breakpoint of DEBUG_BREAKPOINT_CODE or _DATA in the current
        process, empty and disabled (pydbg.breakpoints says how to configure it)."""
        self._engine.check_thread("add_breakpoint")
        self._engine.refuse_dump("add_breakpoint")
        return self._engine.breakpoints.add(break_type, desired_id, self._client._slot)

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        """RemoveBreakpoint: unplant it; the object is dead afterwards."""
        self._engine.check_thread("remove_breakpoint")
        self._engine.breakpoints.remove(bp)

    def get_breakpoint_by_id(self, bp_id: int) -> Breakpoint:
        bp = self._engine.breakpoints.get(bp_id)
        if not self._visible(bp):
            raise BreakpointError(f"breakpoint {bp_id} is private to another client")
        return bp

    def get_breakpoint_by_index(self, index: int) -> Breakpoint:
        """The index-th breakpoint (by id) this client can see."""
        visible = self.breakpoints()
        if not 0 <= index < len(visible):
            raise BreakpointError(f"breakpoint index {index} out of range (0..{len(visible) - 1})")
        return visible[index]

    def get_number_breakpoints(self) -> int:
        return len(self.breakpoints())

    def breakpoints(self) -> list[Breakpoint]:
        """Every breakpoint this client can see, by id (pydbg)."""
        return [bp for bp in self._engine.breakpoints if self._visible(bp)]

    def _visible(self, bp: Breakpoint) -> bool:
        return not bp.flags & DEBUG_BREAKPOINT_ADDER_ONLY or bp.adder is self._client._slot

    # -- tracing ------------------------------------------------------------------------------

    def trace(
        self,
        max_steps: int,
        *,
        until: int | None = None,
        until_return: bool = False,
        register: str | None = None,
    ) -> TraceResult:
        """Single-step the current thread in the native loop, up to `max_steps`
        instructions, and return the pcs it executed (`pcs`, a 'Q' memoryview) and, with
        `register`, that register's value before each of them (`values`).

        Stops early at `until` (an address), with until_return when the current function
        returns to its caller (at the same stack depth: a recursive call returning to the
        same address does not count), at a code breakpoint, or at any event (signal, exit,
        a data breakpoint): `reason` says which, and the breakpoint hit or event is
        reported by the next wait_for_event.  Only this thread runs.

        Code breakpoints stop it as gdb's `stepi N` stops (gdb 13: at a `break` and an
        `hbreak` alike): an int3 breakpoint (`bp`) and a debug-register one (`ba e1`, or a
        `bp` the engine serves with a register) each end the trace when the thread is
        about to run their instruction, reason BREAKPOINT, `event` their record.  Not at
        the pc the trace starts from, nor GO_ONLY breakpoints; unlike gdb, a breakpoint
        the last of the max_steps instructions lands on ends it with reason COUNT and is
        not reported as a hit.
        """
        return self._engine.trace(
            max_steps, until=until, until_return=until_return, register=register
        )

    # -- stack and disassembly ------------------------------------------------------------------

    def get_stack_trace(self, max_frames: int = 256) -> list[StackFrame]:
        """GetStackTrace of the current thread: frames innermost first, each with its
        instruction, return, frame (CFA) and stack offsets, the symbol and source line
        when known.  The last frame says how the walk ended (`best_effort` when a frame
        could not be unwound: garbage on the stack, no unwind information)."""
        engine = self._engine
        thread = engine.require_stopped("get_stack_trace")
        if max_frames < 1:
            raise EngineError(f"max_frames must be >= 1, not {max_frames}")
        return stack_trace(engine, thread, max_frames)

    def get_stack_trace_ex(self, max_frames: int = 256) -> list[StackFrame]:
        """GetStackTraceEx of the current thread: get_stack_trace's frames with a frame
        before each physical one for every function the compiler inlined at its pc
        (DWARF inlined subroutines), innermost first, numbered together (as cdb's `kn`
        and gdb's `bt` count them).  An inline frame (`inline`) has the symbol of the
        inlined function and the line it is at; the function it was inlined into is at
        the line of the call.  In frame 0, inlined calls whose code starts exactly at the
        pc are not shown until a line step enters them (gdb:
        pydbg.engine.source_lines.hidden_frames)."""
        engine = self._engine
        thread = engine.require_stopped("get_stack_trace_ex")
        if max_frames < 1:
            raise EngineError(f"max_frames must be >= 1, not {max_frames}")
        return stack_trace_ex(engine, thread, max_frames)

    def disassemble(self, offset: int) -> tuple[str, int]:
        """Disassemble: (one instruction as `u` shows it, the address after it)."""
        lines = self._disassembly(offset, 1)
        return lines[0][0], lines[0][1]

    def output_disassembly_lines(self, offset: int, count: int) -> int:
        """OutputDisassemblyLines: `count` instructions from `offset` to the output
        callbacks, a `module!symbol:` line where a symbol starts; returns the next address."""
        lines = self._disassembly(offset, count, labels=True)
        for text, _ in lines:
            self._engine.output(OutputMask.NORMAL, text + "\n")
        return lines[-1][1]

    def get_near_instruction(self, offset: int, delta: int) -> int:
        """GetNearInstruction: the address of the instruction `delta` instructions after
        (delta > 0) or before (delta < 0) the one at `offset`.

        x86 cannot be decoded backwards, so the instructions before `offset` are found by
        decoding forwards from a start whose instruction stream lands exactly on `offset`:
        first the start of the function holding it (when it is at most 64 KiB back), else
        the farthest of the |delta| * 15 bytes before it from which decoding meets
        `offset` with no undecodable byte on the way (x86 streams resynchronise within a
        few instructions, so the farthest good start is the likeliest true one).  Raises
        EngineError when no start fits (unreadable or garbage code before `offset`)."""
        from pydbg.engine.disassembler import MAX_INSN, decode

        engine = self._engine
        pid = engine.require_stopped("get_near_instruction").process.pid
        if delta >= 0:
            code = engine.backend.read_memory(pid, offset, (delta + 1) * MAX_INSN, partial=True)
            found = decode(code, offset, delta + 1)
            if len(found) <= delta or any(i.mnemonic == "(bad)" for i in found):
                raise EngineError(f"no instruction {delta} after {offset:#x}")
            return found[delta].address
        want = -delta

        def stream(start: int) -> list[int] | None:
            """Instruction addresses from start up to offset, None unless one is offset."""
            if start < 0:
                return None
            code = engine.backend.read_memory(pid, start, offset - start, partial=True)
            if len(code) != offset - start:
                return None
            addresses, end = [], start
            for insn in decode(code, start, len(code)):
                if insn.mnemonic == "(bad)":
                    return None
                addresses.append(insn.address)
                end = insn.address + insn.size
            return addresses if end == offset else None

        named = engine.symbols.name_at(pid, offset)
        if named is not None and "!" in named[0] and 0 < named[1] <= 0x10000:
            addresses = stream(offset - named[1])
            if addresses is not None and len(addresses) >= want:
                return addresses[-want]
        for start in range(offset - want * MAX_INSN, offset):
            addresses = stream(start)
            if addresses is not None and len(addresses) >= want:
                return addresses[-want]
        raise EngineError(f"no {want} instructions decode up to {offset:#x}")

    def _disassembly(self, offset: int, count: int, labels: bool = False) -> list[tuple[str, int]]:
        from pydbg.engine.disassembler import MAX_INSN, decode, render

        engine = self._engine
        pid = engine.require_stopped("disassemble").process.pid
        if count < 1:
            raise EngineError(f"count must be >= 1, not {count}")
        code = engine.backend.read_memory(pid, offset, count * MAX_INSN, partial=True)
        if not code:
            raise EngineError(f"address {offset:#x} is not readable")
        symbols = engine.symbols

        def name_of(address: int) -> str | None:
            return symbols.describe(pid, address) if symbols.module_at(pid, address) else None

        out: list[tuple[str, int]] = []
        for insn in decode(code, offset, count):
            if labels:
                named = symbols.name_at(pid, insn.address)
                if named is not None and named[1] == 0 and "!" in named[0]:
                    out.append((named[0] + ":", insn.address))
            out.append((render(insn, name_of), insn.address + insn.size))
        return out

    # -- engine options -------------------------------------------------------------------------

    def get_engine_options(self) -> int:
        return self._engine.get_engine_options()

    def set_engine_options(self, options: int) -> None:
        """SetEngineOptions.  INITIAL_BREAK (on by default) is the `ibp` filter seen as an
        option; FINAL_BREAK breaks at every ExitProcess; DISABLE_EXECUTION_COMMANDS refuses
        to run the targets.  Others are kept but change nothing on Linux."""
        self._engine.set_engine_options(options)

    def add_engine_options(self, options: int) -> None:
        self.set_engine_options(self.get_engine_options() | options)

    def remove_engine_options(self, options: int) -> None:
        self.set_engine_options(self.get_engine_options() & ~options)

    # -- event filters --------------------------------------------------------------------------

    def get_number_event_filters(self) -> tuple[int, int, int]:
        """(specific events, specific exceptions, arbitrary exceptions)."""
        return self._engine.filters.get_number_event_filters()

    def get_event_filter_text(self, index: int) -> str:
        return self._engine.filters.get_event_filter_text(index)

    def get_event_filter_name(self, index: int) -> str:
        """The sx code of a filter (`ct`, `ibp`, `av`, `*` for the default exception
        filter, the code in hex for an arbitrary one).  pydbg extension."""
        return self._engine.filters.name_of(index)

    def get_event_filter_index(self, name: str) -> int:
        """The index of the filter an sx code names (`ld`, `av`, `cc`...).  A hexadecimal
        exception code without a filter of its own gets a new arbitrary filter with the
        default filter's settings, as `sxe c0000096` does in cdb; `sys` and `sys:NAME` /
        `sys:NUMBER` name syscall rows, a missing one added with `sys`'s settings.  Raises
        FilterError for anything else.  pydbg extension."""
        return self._engine.filters.index_of_name(name)

    def reset_event_filters(self) -> None:
        """Every filter, command and argument back to cdb's defaults; arbitrary exception
        filters are removed (cdb's `sxr`; pydbg extension).  The `ibp` filter's default
        (break) turns DEBUG_ENGOPT_INITIAL_BREAK back on."""
        self._engine.filters.reset()

    def get_event_filter_command(self, index: int) -> str:
        return self._engine.filters.get_event_filter_command(index)

    def set_event_filter_command(self, index: int, command: str) -> None:
        self._engine.filters.set_event_filter_command(index, command)

    def get_specific_filter_parameters(
        self, start: int, count: int
    ) -> list[SpecificFilterParameters]:
        return self._engine.filters.get_specific_filter_parameters(start, count)

    def set_specific_filter_parameters(
        self, start: int, params: list[SpecificFilterParameters]
    ) -> None:
        """SetSpecificFilterParameters.  The `ibp` filter and DEBUG_ENGOPT_INITIAL_BREAK are
        one setting: changing either changes the other."""
        self._engine.filters.set_specific_filter_parameters(start, params)

    def get_specific_filter_argument(self, index: int) -> str:
        return self._engine.filters.get_specific_filter_argument(index)

    def set_specific_filter_argument(self, index: int, argument: str) -> None:
        self._engine.filters.set_specific_filter_argument(index, argument)

    def get_exception_filter_parameters(
        self, codes: list[int] | None = None, start: int = 0, count: int | None = None
    ) -> list[ExceptionFilterParameters]:
        return self._engine.filters.get_exception_filter_parameters(codes, start, count)

    def set_exception_filter_parameters(self, params: list[ExceptionFilterParameters]) -> None:
        self._engine.filters.set_exception_filter_parameters(params)

    def get_exception_filter_second_command(self, index: int) -> str:
        return self._engine.filters.get_exception_filter_second_command(index)

    def set_exception_filter_second_command(self, index: int, command: str) -> None:
        self._engine.filters.set_exception_filter_second_command(index, command)

    def set_syscall_counting(self, enabled: bool) -> None:
        """Count every system call of every thread from the next resume on (True; the
        counts start again at zero) or stop counting (False).  While nothing else listens,
        the native core counts and resumes each syscall stop itself: an strace -c that
        costs no trip through Python per call.  pydbg extension."""
        engine = self._engine
        engine.check_thread("set_syscall_counting")
        if enabled:
            engine.syscall_counted.clear()
            backend = engine._backend  # (none yet: nothing was counted)
            if backend is not None and not backend.closed:
                backend.syscall_counts(reset=True)
        engine.syscall_counting = bool(enabled)

    def get_syscall_counts(self) -> dict[str, int]:
        """System call name -> entries counted since set_syscall_counting(True), in
        every thread of every target.  pydbg extension."""
        from pydbg.engine.syscalls import counts

        engine = self._engine
        engine.check_thread("get_syscall_counts")
        backend = engine._backend
        native = backend.syscall_counts() if backend is not None and not backend.closed else {}
        return counts(native, engine.syscall_counted)

    def get_number_syscall_filters(self) -> int:
        """The syscall filter rows, `sys` first; their indices follow the DbgEng filters'
        (get_number_event_filters).  pydbg extension: see pydbg.filters."""
        return self._engine.filters.get_number_syscall_filters()

    def get_syscall_filter_parameters(self, index: int) -> SpecificFilterParameters:
        """The break status and command of a syscall row (`sys`, `sys:openat`...), by the
        index get_event_filter_index gives for that name.  pydbg extension."""
        return self._engine.filters.get_syscall_filter_parameters(index)

    def set_syscall_filter_parameters(self, index: int, params: SpecificFilterParameters) -> None:
        """Set a syscall row's break status (BREAK, OUTPUT, IGNORE; SECOND_CHANCE_BREAK
        breaks, as for the specific filters).  pydbg extension."""
        self._engine.filters.set_syscall_filter_parameters(index, params)


def stack_trace(engine: Engine, thread: Thread, max_frames: int) -> list[StackFrame]:
    """The call stack of a stopped thread as StackFrames (Control.get_stack_trace, and
    the scope of pydbg.symbols)."""
    from pydbg.engine.frames import stack_frames

    pid = thread.process.pid
    out = []
    for frame in stack_frames(engine, thread, max_frames):
        lookup = frame.lookup_pc
        named = engine.symbols.name_at(pid, lookup)
        symbol = ""
        if named is not None:
            name, displacement = named
            displacement += frame.pc - lookup
            symbol = f"{name}+{displacement:#x}" if displacement else name
        line = engine.symbols.line_at(pid, lookup)
        out.append(
            StackFrame(
                instruction_offset=frame.pc,
                return_offset=frame.return_address or 0,
                frame_offset=frame.frame_offset or 0,
                stack_offset=frame.stack_offset,
                frame_number=frame.number,
                symbol=symbol,
                source=f"{line[0]}:{line[1]}" if line else "",
                method=frame.method.value,
                best_effort=frame.best_effort,
                note=(frame.stop.value if frame.stop else "")
                + (f": {frame.error}" if frame.error else ""),
                registers=dict(frame.registers),
                lookup_offset=lookup,
                physical_number=frame.number,
            )
        )
    return out


def stack_trace_ex(engine: Engine, thread: Thread, max_frames: int) -> list[StackFrame]:
    """The call stack with inline frames (Control.get_stack_trace_ex, and the scope of
    pydbg.symbols)."""
    from pydbg.engine.source_lines import LineLookup, hidden_frames

    pid = thread.process.pid
    out: list[StackFrame] = []
    for frame in stack_trace(engine, thread, max_frames):
        number = frame.frame_number
        at = frame.lookup_offset or frame.instruction_offset
        source = frame.source
        hidden = 0
        if number == 0:
            chain, hidden = hidden_frames(LineLookup(engine.symbols, pid), thread, at)
        else:
            chain = engine.symbols.inline_chain(pid, at)
        if hidden:
            source = _call_site(chain[hidden - 1])
        for depth in range(hidden, len(chain)):
            call = chain[depth]
            out.append(
                replace(
                    frame,
                    frame_number=len(out),
                    symbol=call.function,
                    source=source,
                    inline=True,
                    physical_number=number,
                    inline_depth=depth,
                )
            )
            source = _call_site(call)
        out.append(
            replace(
                frame,
                frame_number=len(out),
                source=source,
                physical_number=number,
                inline_depth=len(chain),
            )
        )
        if len(out) >= max_frames:
            break
    return out[:max_frames]


def _call_site(call: InlinedCall) -> str:
    return f"{call.call_file}:{call.call_line}" if call.call_file and call.call_line else ""
