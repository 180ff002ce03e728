"""The frame walk: from a thread's registers to its call stack, through CFI, frame pointers
and signal frames.

For each frame, the caller is found by the first rule that applies:

1. the frame is the rt_sigreturn trampoline (its code is `mov $0xf,%rax; syscall`, or its
   CIE has the 'S' augmentation): the caller's registers are read from the ucontext the
   kernel saved on the stack, and the caller's pc is exact (it was interrupted, not calling);
2. CFI covers the frame's lookup pc: apply the row (DWARF 5 §6.4);
3. the rbp chain: [rbp] is the caller's rbp and [rbp + 8] the return address, accepted only
   if rbp is aligned, not below rsp, readable, and the return address lies in a module
   (rbp 0 in a frame > 0 marks the outermost frame, as the psABI asks);
4. for frame 0 only, when its pc is in no code (a call through a bad pointer): the return
   address is the word at rsp.

The lookup pc is the frame's pc for frame 0 and for a frame interrupted by a signal, else
pc - 1: a return address may already belong to the next function (after a noreturn call)
or the next CFI row.

The walk ends, marking why on the last frame (`Frame.stop`), when the CFI says the return
address is undefined (_start, thread entry points), the return address is 0 or in no code,
the caller's rsp is not above this frame's (except when leaving a signal frame, which may
switch stacks), a read fails, nothing applies, or max_frames is reached.  Nothing raises
during the walk: unwind information that cannot be used ends it with the reason and message.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydbg.unwind.cfi import (
    DWARF_REGISTERS,
    MASK64,
    RBP,
    RETURN_ADDRESS,
    RSP,
    CfiRow,
    ElfCfi,
    RuleKind,
    evaluate_expression,
    load_cfi,
)
from pydbg.unwind.frames import Frame, FrameMethod, ModuleInfo, UnwindError, UnwindStop

ReadMemory = Callable[[int, int], bytes]
ModuleAt = Callable[[int], "ModuleInfo | None"]

DEFAULT_MAX_FRAMES = 1024
PAGE_SIZE = 4096

# glibc's and musl's __restore_rt: mov $0xf,%rax (rt_sigreturn); syscall.
SIGRETURN_CODE = bytes.fromhex("48c7c00f0000000f05")
SYSCALL_OFFSET = 7  # a thread stopped in the trampoline may sit on its syscall

# The rt_sigframe a handler returns into (arch/x86/include/asm/sigframe.h) is pretcode
# (8 bytes) then struct ucontext; the handler's `ret` pops pretcode, so the trampoline runs
# with rsp at the ucontext.  In struct ucontext, uc_mcontext follows uc_flags (8), uc_link
# (8) and uc_stack (24), and starts with the general registers in the order of glibc's
# REG_R8 .. REG_RIP (<sys/ucontext.h>), each 8 bytes.
UCONTEXT_GREGS = 40
GREGS_DWARF = (8, 9, 10, 11, 12, 13, 14, 15, 5, 4, 6, 3, 1, 0, 2, 7, 16)  # r8..r15 rdi rsi rbp
# rbx rdx rax rcx rsp rip, as DWARF register numbers

# psABI callee-saved registers (rbx, rbp, r12-r15): a caller's value is the callee's unless
# the CFI says where it was saved.  Caller-saved ones are unknown in a caller's frame.
CALLEE_SAVED = (3, 6, 12, 13, 14, 15)
NREGS = len(DWARF_REGISTERS)
_U64 = struct.Struct("<Q")
_GREGS = struct.Struct(f"<{len(GREGS_DWARF)}Q")


class _ReadFailed(Exception):
    def __init__(self, address: int, size: int) -> None:
        super().__init__(f"cannot read {size} bytes at {address:#x}")
        self.address = address


class _Memory:
    """The caller's read_memory, page by page, with failures (any exception, or fewer
    bytes) as _ReadFailed.

    The target is stopped for the whole walk, so what was read stays true: each page is
    read once.  A walk reads the stack upwards a few words per frame, and one read of a
    page instead of one per word makes it several times faster on a live process, where
    each read is a system call.  Protection is per page, so a page either reads whole or
    not at all; a reader that fails for a whole page (a core file with a partial segment)
    is asked for the exact bytes instead.
    """

    def __init__(self, read_memory: ReadMemory) -> None:
        self._read = read_memory
        self._pages: dict[int, bytes | None] = {}

    def _fetch(self, address: int, size: int) -> bytes | None:
        try:
            data = self._read(address, size)
        except Exception:
            # read_memory is the caller's: a tracer raises its own error type for unmapped
            # memory, a core file reader another.  Any of them means "not readable".
            return None
        return data if len(data) >= size else None

    def _page(self, base: int) -> bytes | None:
        if base not in self._pages:
            self._pages[base] = self._fetch(base, PAGE_SIZE)
        return self._pages[base]

    def read(self, address: int, size: int) -> bytes:
        if address < 0 or address + size > MASK64:
            raise _ReadFailed(address, size)
        base = address & ~(PAGE_SIZE - 1)
        offset = address - base
        if offset + size <= PAGE_SIZE:
            page = self._page(base)
            if page is not None:
                return page[offset : offset + size]
        elif offset + size <= 2 * PAGE_SIZE:
            first, second = self._page(base), self._page(base + PAGE_SIZE)
            if first is not None and second is not None:
                return (first + second)[offset : offset + size]
        data = self._fetch(address, size)
        if data is None:
            raise _ReadFailed(address, size)
        return data[:size]

    def u64(self, address: int) -> int:
        value: int = _U64.unpack(self.read(address, 8))[0]
        return value

    def sized(self, address: int, size: int) -> int:
        return int.from_bytes(self.read(address, size), "little")

    def readable(self, address: int) -> bool:
        try:
            self.read(address, 1)
        except _ReadFailed:
            return False
        return True


@dataclass
class _Caller:
    """The caller of a frame, as one rule found it."""

    state: list[int | None]
    method: FrameMethod
    cfa: int | None
    exact: bool = False  # the caller's pc is exact (after a signal frame)


@dataclass
class _End:
    stop: UnwindStop
    cfa: int | None = None
    error: str | None = None


_Regs = list["int | None"]


class _Walk:
    """One unwind: the callbacks and what it looked up so far."""

    def __init__(self, read_memory: ReadMemory, module_at: ModuleAt) -> None:
        self.mem = _Memory(read_memory)
        self.module_at = module_at
        self._cfis: dict[tuple[str, str | None], ElfCfi | UnwindError] = {}

    def cfi(self, module: ModuleInfo) -> ElfCfi:
        key = (module.path, module.debug_path)
        found = self._cfis.get(key)
        if found is None:
            try:
                found = load_cfi(module.path, module.debug_path)
            except UnwindError as exc:
                found = exc
            self._cfis[key] = found
        if isinstance(found, UnwindError):
            raise found
        return found

    def is_code(self, address: int) -> bool:
        return self.module_at(address) is not None or self.mem.readable(address)

    def is_sigreturn(self, pc: int) -> bool:
        """Whether pc is the first instruction of the rt_sigreturn trampoline or its syscall."""
        start = pc - SYSCALL_OFFSET
        try:
            code = self.mem.read(start, SYSCALL_OFFSET + len(SIGRETURN_CODE))
        except _ReadFailed:
            # pc may be the first bytes of a mapping: look at pc alone.
            try:
                return self.mem.read(pc, len(SIGRETURN_CODE)) == SIGRETURN_CODE
            except _ReadFailed:
                return False
        return code[SYSCALL_OFFSET:] == SIGRETURN_CODE or code[: len(SIGRETURN_CODE)] == (
            SIGRETURN_CODE
        )

    # -- the rules --------------------------------------------------------------------------

    def from_signal_frame(self, sp: int) -> _Caller | _End:
        try:
            gregs = _GREGS.unpack(self.mem.read(sp + UCONTEXT_GREGS, _GREGS.size))
        except _ReadFailed:
            return _End(UnwindStop.READ_FAILED)
        state: _Regs = [None] * NREGS
        for value, number in zip(gregs, GREGS_DWARF, strict=True):
            state[number] = value
        # The CFA of the trampoline, as glibc's CFI for it defines it: the interrupted rsp.
        return _Caller(state, FrameMethod.SIGNAL, cfa=state[RSP], exact=True)

    def from_cfi(self, row: CfiRow, state: _Regs) -> _Caller | _End:
        mem = self.mem

        def register(number: int) -> int:
            value = state[number] if number < NREGS else None
            if value is None:
                raise UnwindError(f"the CFI needs DWARF register {number}, unknown in this frame")
            return value

        cfa_rule = row.cfa
        if cfa_rule.expression is not None:
            cfa = evaluate_expression(cfa_rule.expression, register, mem.u64, (), mem.sized)
        elif cfa_rule.register is not None:
            cfa = (register(cfa_rule.register) + cfa_rule.offset) & MASK64
        else:
            raise UnwindError("the CFI row defines no CFA")
        caller: _Regs = [None] * NREGS
        for number in CALLEE_SAVED:
            caller[number] = state[number]
        caller[RSP] = cfa  # psABI: the CFA is the caller's rsp
        return_address: int | None = None
        has_return = False
        for number, rule in row.registers.items():
            kind = rule.kind
            arg = rule.arg
            if kind is RuleKind.OFFSET:
                assert isinstance(arg, int)
                value: int | None = mem.u64((cfa + arg) & MASK64)
            elif kind is RuleKind.VAL_OFFSET:
                assert isinstance(arg, int)
                value = (cfa + arg) & MASK64
            elif kind is RuleKind.SAME_VALUE:
                value = state[number] if number < NREGS else None
            elif kind is RuleKind.REGISTER:
                assert isinstance(arg, int)
                value = state[arg] if arg < NREGS else None
            elif kind is RuleKind.EXPRESSION:
                assert isinstance(arg, bytes)
                value = mem.u64(evaluate_expression(arg, register, mem.u64, (cfa,), mem.sized))
            elif kind is RuleKind.VAL_EXPRESSION:
                assert isinstance(arg, bytes)
                value = evaluate_expression(arg, register, mem.u64, (cfa,), mem.sized)
            else:  # UNDEFINED
                value = None
            if number == row.return_column:
                has_return = True
                return_address = value
            if number < NREGS:
                caller[number] = value
        if not has_return or return_address is None:
            return _End(UnwindStop.OUTERMOST, cfa=cfa)
        caller[RETURN_ADDRESS] = return_address
        return _Caller(caller, FrameMethod.CFI, cfa=cfa)

    def from_frame_pointer(self, state: _Regs) -> _Caller | None:
        rbp = state[RBP]
        sp = state[RSP]
        if rbp is None or sp is None or rbp < sp or rbp % 8:
            return None
        try:
            saved_rbp, return_address = struct.unpack("<QQ", self.mem.read(rbp, 16))
        except _ReadFailed:
            return None
        # A frame pointer is only a guess: accept the step only if it lands in a module.
        if return_address == 0 or self.module_at(return_address - 1) is None:
            return None
        caller: _Regs = [None] * NREGS
        for number in CALLEE_SAVED:
            caller[number] = state[number]
        caller[RBP] = saved_rbp
        caller[RSP] = rbp + 16
        caller[RETURN_ADDRESS] = return_address
        return _Caller(caller, FrameMethod.FRAME_POINTER, cfa=rbp + 16)

    def from_stack_top(self, state: _Regs) -> _Caller | _End:
        sp = state[RSP]
        assert sp is not None
        try:
            return_address = self.mem.u64(sp)
        except _ReadFailed:
            return _End(UnwindStop.NO_CODE)
        if return_address == 0 or not self.is_code(return_address - 1):
            return _End(UnwindStop.NO_CODE)
        caller: _Regs = [None] * NREGS
        for number in CALLEE_SAVED:
            caller[number] = state[number]
        caller[RSP] = sp + 8
        caller[RETURN_ADDRESS] = return_address
        return _Caller(caller, FrameMethod.STACK_TOP, cfa=sp + 8)

    # -- one step ---------------------------------------------------------------------------

    def step(
        self, number: int, state: _Regs, lookup: int, module: ModuleInfo | None
    ) -> tuple[_Caller | _End, bool]:
        """The caller of the frame with registers `state`; and whether this frame is the
        signal trampoline."""
        pc = state[RETURN_ADDRESS]
        assert pc is not None
        if number == 0 and module is None and not self.mem.readable(pc):
            # A call through a bad pointer (pc 0 above all): the return address the call
            # pushed is at rsp, and a frame-pointer step would skip the calling frame.
            top = self.from_stack_top(state)
            if isinstance(top, _Caller):
                return top, False
            return self.from_frame_pointer(state) or top, False
        row: CfiRow | None = None
        error: str | None = None
        if module is not None:
            try:
                row = self.cfi(module).row_at(lookup - module.bias)
            except UnwindError as exc:
                error = str(exc)
        if self.is_sigreturn(pc) or (row is not None and row.signal_frame):
            sp = state[RSP]
            assert sp is not None
            return self.from_signal_frame(sp), True
        if row is not None:
            try:
                return self.from_cfi(row, state), False
            except _ReadFailed as exc:
                # The CFI is right about where the caller's registers are; if they cannot be
                # read the stack is broken, and an rbp chain would only skip frames.
                return _End(UnwindStop.READ_FAILED, error=str(exc)), False
            except UnwindError as exc:
                error = str(exc)
        fallback = self.from_frame_pointer(state)
        if fallback is not None:
            return fallback, False
        if error is not None:
            return _End(UnwindStop.BAD_CFI, error=error), False
        if state[RBP] == 0 and number > 0:
            # psABI §3.4.1: "the user code should mark the deepest stack frame by setting
            # the frame pointer to zero" (_start does).  Frame 0 may just be using rbp.
            return _End(UnwindStop.OUTERMOST), False
        return _End(UnwindStop.NO_UNWIND_INFO), False


def _named(state: _Regs) -> dict[str, int]:
    return {DWARF_REGISTERS[n]: v for n, v in enumerate(state) if v is not None}


def unwind(
    regs: Mapping[str, int],
    read_memory: ReadMemory,
    module_at: ModuleAt,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> list[Frame]:
    """Walk the call stack of a stopped thread, innermost frame first.

    regs: the thread's registers by name (`Regs.as_dict()`; rip and rsp are required, the
    other general registers are used when present).  read_memory(address, size): the
    target's memory; raising (any exception) or returning fewer bytes means unreadable.
    module_at(address): the module that maps a runtime address, or None.
    Returns at least one frame; the last one's `stop` says why the walk ended.  Raises
    UnwindError only for `regs` without rip or rsp, or max_frames < 1.
    """
    if max_frames < 1:
        raise UnwindError(f"max_frames must be at least 1, not {max_frames}")
    state: _Regs = [None] * NREGS
    for number, name in enumerate(DWARF_REGISTERS):
        value = regs.get(name)
        if value is not None:
            state[number] = value & MASK64
    if state[RETURN_ADDRESS] is None or state[RSP] is None:
        raise UnwindError("unwind needs the registers rip and rsp")
    walk = _Walk(read_memory, module_at)
    frames: list[Frame] = []
    method = FrameMethod.CONTEXT
    after_signal = False
    pc = state[RETURN_ADDRESS]
    assert pc is not None
    module = module_at(pc)
    while True:
        number = len(frames)
        pc = state[RETURN_ADDRESS]
        sp = state[RSP]
        assert pc is not None and sp is not None
        lookup = pc if number == 0 or after_signal else pc - 1
        caller: _Caller | None = None
        caller_module: ModuleInfo | None = None
        found, trampoline = walk.step(number, state, lookup, module)
        if isinstance(found, _End):
            end: _End | None = found
        else:
            caller = found
            end, caller_module = _check_caller(walk, caller, sp, trampoline)
            if end is None and number + 1 >= max_frames:
                end = _End(UnwindStop.MAX_FRAMES)
        frames.append(
            Frame(
                number=number,
                pc=pc,
                stack_offset=sp,
                method=method,
                module=module,
                frame_offset=found.cfa,
                return_address=None if caller is None else caller.state[RETURN_ADDRESS],
                registers=_named(state),
                signal_trampoline=trampoline,
                after_signal=after_signal,
                stop=None if end is None else end.stop,
                error=None if end is None else end.error,
            )
        )
        if end is not None or caller is None:
            return frames
        state = caller.state
        method = caller.method
        after_signal = caller.exact
        module = caller_module


def _check_caller(
    walk: _Walk, caller: _Caller, sp: int, trampoline: bool
) -> tuple[_End | None, ModuleInfo | None]:
    """Why the caller found for a frame at rsp `sp` ends the walk (None to go on), and the
    module of the caller's lookup pc."""
    pc = caller.state[RETURN_ADDRESS]
    caller_sp = caller.state[RSP]
    assert pc is not None and caller_sp is not None
    if pc == 0:
        return _End(UnwindStop.ZERO_PC), None
    if caller_sp <= sp and not trampoline:
        # Leaving a signal frame may switch stacks (sigaltstack); nothing else may go
        # inward or stand still.
        return _End(UnwindStop.NOT_OUTER), None
    lookup = pc if caller.exact else pc - 1
    module = walk.module_at(lookup)
    if module is None and not walk.mem.readable(lookup):
        return _End(UnwindStop.NO_CODE), None
    return None, module
