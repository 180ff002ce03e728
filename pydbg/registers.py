"""The registers facet (IDebugRegisters): the current thread's registers by name or index.

Names are cdb's: the 64-bit general registers (`rax` ... `r15`, `rip`), their 32/16/8-bit
parts (`eax`, `ax`, `al`, `ah`, `r8d`, `r8w`, `r8b`, ...), `efl` (also `eflags`), the
segment registers, `fs_base` / `gs_base`, and `xmm0` ... `xmm15` (128-bit).  Writing a part
of a register changes only those bits, as on the hardware (except that, unlike a 32-bit
instruction, writing `eax` here does not clear the upper half: a debugger edits bits, it
does not execute).

Registers of the scope frame (IDebugRegisters2::GetValues2 with DEBUG_REGSRC_FRAME; cdb's
`r` after `.frame N`) are what the unwinder recovered for that frame: rip, rsp, and the
callee-saved rbx, rbp, r12-r15 wherever the CFI (or the frame-pointer chain) says where
the callee saved them or that it left them alone; every general register after a signal
frame.  The others (rax, rcx, rdx, rsi, rdi, r8-r11, efl, the xmm registers) hold whatever
the callee left there, not the caller's values: pydbg reports them as unavailable
(RegisterUnavailableError) rather than show a stale value as the caller's, where cdb and
gdb show the callee's.  Segment registers and fs_base/gs_base do not change between frames
and are the thread's.

Every write reports ChangeDebuggeeState(DEBUG_CDS_REGISTERS, index).  The session must be
accessible (targets stopped); otherwise the calls raise TargetRunningError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.constants import DEBUG_ANY_ID, DEBUG_CDS_REGISTERS
from pydbg.errors import InvalidRegisterError, PydbgError, RegisterValueError
from pydbg.symbols import Symbols

if TYPE_CHECKING:
    from pydbg.engine.session import Engine

__all__ = [
    "DEBUG_REGSRC_DEBUGGEE",
    "DEBUG_REGSRC_EXPLICIT",
    "DEBUG_REGSRC_FRAME",
    "REGISTER_NAMES",
    "RegisterUnavailableError",
    "Registers",
]

# IDebugRegisters2::GetValues2 sources: the thread itself, an explicit context (not
# supported), the current scope frame.
DEBUG_REGSRC_DEBUGGEE = 0
DEBUG_REGSRC_EXPLICIT = 1
DEBUG_REGSRC_FRAME = 2

# Registers that are the same in every frame of a thread.
_THREAD_WIDE = frozenset({"cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"})


class RegisterUnavailableError(PydbgError, LookupError):
    """A register whose value in the scope frame the unwinder could not recover (a
    caller-saved register in a caller's frame)."""


# name -> (full register in struct user_regs_struct, bit shift, bit width)
_MAP: dict[str, tuple[str, int, int]] = {}
for _full, _e, _w, _l, _h in (
    ("rax", "eax", "ax", "al", "ah"),
    ("rbx", "ebx", "bx", "bl", "bh"),
    ("rcx", "ecx", "cx", "cl", "ch"),
    ("rdx", "edx", "dx", "dl", "dh"),
    ("rsi", "esi", "si", "sil", None),
    ("rdi", "edi", "di", "dil", None),
    ("rbp", "ebp", "bp", "bpl", None),
    ("rsp", "esp", "sp", "spl", None),
):
    _MAP[_full] = (_full, 0, 64)
    _MAP[_e] = (_full, 0, 32)
    _MAP[_w] = (_full, 0, 16)
    _MAP[_l] = (_full, 0, 8)
    if _h:
        _MAP[_h] = (_full, 8, 8)
for _n in range(8, 16):
    _MAP[f"r{_n}"] = (f"r{_n}", 0, 64)
    _MAP[f"r{_n}d"] = (f"r{_n}", 0, 32)
    _MAP[f"r{_n}w"] = (f"r{_n}", 0, 16)
    _MAP[f"r{_n}b"] = (f"r{_n}", 0, 8)
for _name in ("rip", "fs_base", "gs_base", "orig_rax"):
    _MAP[_name] = (_name, 0, 64)
_MAP["eip"] = ("rip", 0, 32)
_MAP["efl"] = ("eflags", 0, 32)
_MAP["eflags"] = ("eflags", 0, 32)
_MAP["rflags"] = ("eflags", 0, 64)
for _seg in ("cs", "ss", "ds", "es", "fs", "gs"):
    _MAP[_seg] = (_seg, 0, 16)
_XMM = tuple(f"xmm{i}" for i in range(16))

# Index order: the order cdb's `r` shows them in, then the parts, then the vector registers.
REGISTER_NAMES: tuple[str, ...] = tuple(_MAP) + _XMM


class Registers:
    """client.registers."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get_number_registers(self) -> int:
        return len(REGISTER_NAMES)

    def get_index_by_name(self, name: str) -> int:
        try:
            return REGISTER_NAMES.index(name.lower())
        except ValueError:
            raise InvalidRegisterError(name, REGISTER_NAMES) from None

    def get_description(self, index: int) -> str:
        """The register's name (the DbgEng call also returns a description structure)."""
        return self._name(index)

    def _name(self, register: int | str) -> str:
        if isinstance(register, str):
            name = register.lower().removeprefix("@")
            if name not in _MAP and name not in _XMM:
                raise InvalidRegisterError(register, REGISTER_NAMES)
            return name
        if not 0 <= register < len(REGISTER_NAMES):
            raise InvalidRegisterError(str(register), ())
        return REGISTER_NAMES[register]

    def get_value(self, register: int | str) -> int:
        """GetValue: the register's value, by name or index."""
        name = self._name(register)
        thread = self._engine.require_stopped("get_value")
        backend = self._engine.backend
        if name in _XMM:
            return backend.get_fpregs(thread.tid).xmm(int(name[3:]))
        full, shift, width = _MAP[name]
        return (backend.get_reg(thread.tid, full) >> shift) & ((1 << width) - 1)

    def get_values2(self, source: int, registers: list[int | str]) -> list[int]:
        """GetValues2: the registers' values from `source`: DEBUG_REGSRC_DEBUGGEE (the
        thread's own, as get_value) or DEBUG_REGSRC_FRAME (the scope frame's, see the
        module docstring; RegisterUnavailableError for what the unwinder could not
        recover).  DEBUG_REGSRC_EXPLICIT is not supported (RegisterValueError)."""
        if source == DEBUG_REGSRC_DEBUGGEE:
            return [self.get_value(register) for register in registers]
        if source != DEBUG_REGSRC_FRAME:
            raise RegisterValueError(f"register source {source!r} is not supported")
        values = self.get_scope_values(registers)
        for register, value in zip(registers, values, strict=True):
            if value is None:
                frame = Symbols(self._engine).get_current_scope_frame_index()
                raise RegisterUnavailableError(
                    f"{self._name(register)} is not known in frame {frame:#x}: the unwinder "
                    "recovers only rip, rsp and the callee-saved registers of a caller"
                )
        return [value for value in values if value is not None]

    def get_scope_value(self, register: int | str) -> int:
        """A register of the scope frame: get_values2(DEBUG_REGSRC_FRAME, [register])."""
        return self.get_values2(DEBUG_REGSRC_FRAME, [register])[0]

    def get_scope_values(self, registers: list[int | str]) -> list[int | None]:
        """The registers of the scope frame, None for each one the unwinder could not
        recover (pydbg: one unwind for a whole register display)."""
        names = [self._name(register) for register in registers]
        symbols = Symbols(self._engine)
        if symbols.get_current_scope_frame_index() == 0:
            return [self.get_value(name) for name in names]
        known = symbols.get_scope_frame().registers
        out: list[int | None] = []
        for name in names:
            full, shift, width = (name, 0, 128) if name in _XMM else _MAP[name]
            if full in _THREAD_WIDE:
                out.append(self.get_value(name))
                continue
            value = known.get(full)
            out.append(None if value is None else (value >> shift) & ((1 << width) - 1))
        return out

    def get_xsave_area(self) -> bytes:
        """The current thread's XSAVE area, as PTRACE_GETREGSET(NT_X86_XSTATE) returns it
        (pydbg; DbgEng's GetThreadContext carries the same state in the CONTEXT's FltSave
        and its extended part): the 512-byte FXSAVE region (x87, MXCSR, xmm0-15; bytes
        464..471 hold XCR0, as Linux fills its software-reserved part), the XSAVE header
        at 512, then the enabled components (AVX...).  Core files store its first 512
        bytes as NT_FPREGSET and all of it as NT_X86_XSTATE."""
        thread = self._engine.require_stopped("get_xsave_area")
        return self._engine.backend.get_fpregs(thread.tid).raw

    def set_xsave_value(self, name: str, value: int) -> None:
        """Change one x87, MXCSR or AVX register in the current thread's XSAVE area
        (pydbg; what gdb's remote protocol can name beyond set_value's registers):
        `st0`..`st7` (80-bit, ST(i)), `fctrl`, `fstat`, `ftag` (the full tag word, kept
        as FXSAVE's abridged one: empty or not), `fop`, `fioff`/`fiseg` and
        `fooff`/`foseg` (the 64-bit instruction and operand pointers' low 32 and next 16
        bits), `mxcsr`, and `ymm0h`..`ymm15h` (the upper 128 bits of a ymm register,
        which needs AVX).  Reports ChangeDebuggeeState(DEBUG_CDS_REGISTERS, DEBUG_ANY_ID)."""
        thread = self._engine.require_stopped("set_xsave_value")
        backend = self._engine.backend
        fpregs = backend.get_fpregs(thread.tid)
        key = name.lower()
        widths = {"fctrl": 16, "fstat": 16, "ftag": 16, "fop": 11, "mxcsr": 32}
        width = 80 if key.startswith("st") else 128 if key.startswith("ymm") else 32
        width = widths.get(key, 16 if key in ("fiseg", "foseg") else width)
        if not isinstance(value, int) or not 0 <= value < 1 << width:
            raise RegisterValueError(f"{value!r} does not fit the {width}-bit {name}")
        if key in ("st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"):
            fpregs.set_st(int(key[2]), value.to_bytes(10, "little"))
        elif key.startswith("ymm") and key.endswith("h") and key[3:-1].isdigit():
            n = int(key[3:-1])
            if not 0 <= n < 16 or not fpregs.has_avx:
                raise InvalidRegisterError(name, ())
            fpregs.set_ymm(n, (value << 128) | fpregs.xmm(n))
        elif key == "fctrl":
            fpregs.fcw = value
        elif key == "fstat":
            fpregs.fsw = value
        elif key == "ftag":
            # Full tag 3 (empty) -> abridged bit clear; anything else -> set.
            fpregs.ftw = sum(1 << i for i in range(8) if (value >> (2 * i)) & 3 != 3)
        elif key == "fop":
            fpregs.fop = value
        elif key == "mxcsr":
            fpregs.mxcsr = value
        elif key in ("fioff", "fiseg"):
            fpregs.fip = _pointer_part(fpregs.fip, key == "fiseg", value)
        elif key in ("fooff", "foseg"):
            fpregs.fdp = _pointer_part(fpregs.fdp, key == "foseg", value)
        else:
            raise InvalidRegisterError(name, ())
        backend.set_fpregs(thread.tid, fpregs)
        self._engine.notifier.debuggee_state(DEBUG_CDS_REGISTERS, DEBUG_ANY_ID)

    def set_value(self, register: int | str, value: int) -> None:
        """SetValue: change one register of the current thread."""
        name = self._name(register)
        thread = self._engine.require_stopped("set_value")
        backend = self._engine.backend
        if name in _XMM:
            if not 0 <= value < 1 << 128:
                raise RegisterValueError(f"{value:#x} does not fit the 128-bit {name}")
            fpregs = backend.get_fpregs(thread.tid)
            fpregs.set_xmm(int(name[3:]), value)
            backend.set_fpregs(thread.tid, fpregs)
        else:
            full, shift, width = _MAP[name]
            if not 0 <= value < 1 << width:
                if -(1 << (width - 1)) <= value < 0:
                    value &= (1 << width) - 1  # a negative number in the register's width
                else:
                    raise RegisterValueError(
                        f"{value:#x} does not fit the {width}-bit register {name}"
                    )
            mask = ((1 << width) - 1) << shift
            old = backend.get_reg(thread.tid, full)
            if full == "rip" and width == 64:
                backend.set_pc(thread.tid, value)
            else:
                backend.set_reg(thread.tid, full, (old & ~mask) | (value << shift))
        self._engine.notifier.debuggee_state(DEBUG_CDS_REGISTERS, self.get_index_by_name(name))

    def get_instruction_offset(self) -> int:
        """GetInstructionOffset: the current thread's pc."""
        return self.get_value("rip")

    def get_stack_offset(self) -> int:
        """GetStackOffset: rsp."""
        return self.get_value("rsp")

    def get_frame_offset(self) -> int:
        """GetFrameOffset: rbp (the frame pointer, when the code keeps one)."""
        return self.get_value("rbp")


def _pointer_part(pointer: int, selector: bool, value: int) -> int:
    """An FXSAVE64 instruction/operand pointer with its offset (bits 0-31) or its
    selector part (bits 32-47) replaced."""
    if selector:
        return (pointer & ~(0xFFFF << 32)) | (value << 32)
    return (pointer & ~0xFFFFFFFF) | value
