"""The registers facet (IDebugRegisters): the current thread's registers by name or index.

Names are cdb's: the 64-bit general registers (`rax` ... `r15`, `rip`), their 32/16/8-bit
parts (`eax`, `ax`, `al`, `ah`, `r8d`, `r8w`, `r8b`, ...), `efl` (also `eflags`), the
segment registers, `fs_base` / `gs_base`, and `xmm0` ... `xmm15` (128-bit).  Writing a part
of a register changes only those bits, as on the hardware (except that, unlike a 32-bit
instruction, writing `eax` here does not clear the upper half: a debugger edits bits, it
does not execute).

Every write reports ChangeDebuggeeState(DEBUG_CDS_REGISTERS, index).  The session must be
accessible (targets stopped); otherwise the calls raise TargetRunningError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.constants import DEBUG_CDS_REGISTERS
from pydbg.errors import InvalidRegisterError, RegisterValueError

if TYPE_CHECKING:
    from pydbg.engine.session import Engine

__all__ = ["Registers", "REGISTER_NAMES"]

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
