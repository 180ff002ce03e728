"""Stack frames: the values an unwind hands out (`Frame`, how it was found, why the walk ended)
and the one exception of the unwind package.

DbgEng's DEBUG_STACK_FRAME names the fields: `pc` is InstructionOffset, `return_address`
ReturnOffset, `frame_offset` FrameOffset (here the DWARF canonical frame address), and
`stack_offset` StackOffset.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydbg.errors import PydbgError


class UnwindError(PydbgError):
    """Unwind information that cannot be read or used: a file that is not ELF, a malformed
    .eh_frame, an expression outside the supported set.  The message names the file and
    the address or offset involved.  A PydbgError like every error pydbg raises on
    purpose (pydbg.errors has no import of its own beyond the standard library, so the
    unwind package stays usable without the engine)."""


@dataclass(frozen=True)
class ModuleInfo:
    """What the unwinder needs to know about the module that holds an address.

    path: the ELF file to read CFI from (a readable path: for a deleted file,
    /proc/PID/map_files/START-END still opens it); bias: load bias, runtime address minus
    link-time address (0 for non-PIE executables); debug_path: a separate debug file whose
    .debug_frame is searched when the file's own CFI does not cover an address.
    """

    path: str
    bias: int = 0
    debug_path: str | None = None


class FrameMethod(enum.Enum):
    """How a frame's registers (its pc and stack pointer above all) were found."""

    CONTEXT = "context"
    """Frame 0: the thread's own registers."""
    CFI = "cfi"
    """Unwound from the callee by its DWARF call frame information."""
    FRAME_POINTER = "frame pointer"
    """Unwound from the callee by its rbp chain (the callee had no CFI): a heuristic."""
    SIGNAL = "signal"
    """Read from the ucontext that the kernel saved in a signal frame: exact."""
    STACK_TOP = "stack top"
    """Frame 0's pc is in no code (a call through a bad pointer): the return address was
    taken from the top of the stack.  A guess."""


class UnwindStop(enum.Enum):
    """Why the walk ended after the last frame."""

    OUTERMOST = "outermost"
    """The CFI marks the return address undefined (_start, thread entry): a normal end."""
    ZERO_PC = "zero pc"
    """The return address is 0: a normal end for code that pushes no return address."""
    NO_CODE = "no code"
    """The return address is in no module and not readable."""
    NOT_OUTER = "not outer"
    """The caller's stack pointer is not above this frame's, or the frame repeats (corrupt
    stack)."""
    MAX_FRAMES = "max frames"
    """The walk reached max_frames."""
    READ_FAILED = "read failed"
    """Memory the unwind rules name could not be read."""
    NO_UNWIND_INFO = "no unwind info"
    """No CFI covers the pc and the frame-pointer chain does not hold."""
    BAD_CFI = "bad cfi"
    """The CFI for the pc could not be parsed or evaluated (`Frame.error` says why)."""


# Ends that are a failure: the last frame's caller may exist but could not be found.
FAILED_STOPS = frozenset(
    {
        UnwindStop.NO_CODE,
        UnwindStop.NOT_OUTER,
        UnwindStop.READ_FAILED,
        UnwindStop.NO_UNWIND_INFO,
        UnwindStop.BAD_CFI,
    }
)


@dataclass(frozen=True)
class Frame:
    """One frame of a call stack, innermost (number 0) first.

    pc: the frame's instruction pointer; for frames > 0 the return address into it (what
    gdb prints), so symbol and line lookups should use `lookup_pc`.
    return_address: the pc of the caller's frame, also on the last frame when it was found
    but not walked to (MAX_FRAMES, and the 0 or bad address of ZERO_PC, NO_CODE,
    NOT_OUTER); None when no caller was found.
    frame_offset: the canonical frame address (the caller's rsp after the return), None
    when not known.  stack_offset: rsp in this frame.
    registers: the register values known in this frame (callee-saved ones are carried
    through; caller-saved ones are known only in frame 0 and after a signal frame).
    signal_trampoline: this frame is the rt_sigreturn trampoline (gdb's
    `<signal handler called>`); after_signal: this frame was interrupted by a signal, so its
    pc is exact.  stop / best_effort / error: on the last frame, why the walk ended, whether
    that was a failure, and the error behind BAD_CFI.
    """

    number: int
    pc: int
    stack_offset: int
    method: FrameMethod
    module: ModuleInfo | None = None
    frame_offset: int | None = None
    return_address: int | None = None
    registers: Mapping[str, int] = field(default_factory=dict, repr=False)
    signal_trampoline: bool = False
    after_signal: bool = False
    stop: UnwindStop | None = None
    error: str | None = None

    @property
    def best_effort(self) -> bool:
        """True when the walk ended at this frame by a failure, not at a natural end."""
        return self.stop in FAILED_STOPS

    @property
    def lookup_pc(self) -> int:
        """The address to look up symbols, lines and CFI for: pc, or pc - 1 for a return
        address (which may already belong to the next line or function)."""
        return self.pc if self.number == 0 or self.after_signal else self.pc - 1
