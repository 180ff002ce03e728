"""`proc.regs`: a thread's registers as attributes and items, over the registers facet.

    proc.regs.rdi                 # read (an int)
    proc.regs.rax = 0             # write
    proc.regs["xmm0"]             # any name the facet knows, as an item too
    dir(proc.regs)                # every register name

The names are the registers facet's (pydbg.registers.REGISTER_NAMES): the 64-bit general
registers and their 32/16/8-bit parts (`eax`, `ax`, `al`, `ah`, `r8d` ...), `rip`,
`efl`, the segment registers, `fs_base`/`gs_base`, `xmm0`-`xmm15`.  A write of a part
changes only its bits; a negative value is taken in the register's width.  A name that is
no register raises RegisterAttributeError (an InvalidRegisterError that is also an
AttributeError, so hasattr() works); a value that does not fit raises RegisterValueError.

The view of `proc.regs` is the current thread's; `thread.regs` is that thread's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from pydbg.errors import InvalidRegisterError, RegisterAttributeError
from pydbg.registers import REGISTER_NAMES, Registers

__all__ = ["RegistersView"]

_KNOWN = frozenset(REGISTER_NAMES)

# Enters the thread's context for one access: checks the process can be read and, for a
# thread other than the current one, selects it (pydbg.scripting.threads).
Access = Callable[[str], AbstractContextManager[object]]


class RegistersView:
    """The registers of one thread, by attribute or item."""

    __slots__ = ("_registers", "_access")
    _registers: Registers
    _access: Access

    def __init__(self, registers: Registers, access: Access) -> None:
        object.__setattr__(self, "_registers", registers)
        object.__setattr__(self, "_access", access)

    def __repr__(self) -> str:
        return "<registers: " + " ".join(f"{n}={v:#x}" for n, v in self.general().items()) + ">"

    def __dir__(self) -> list[str]:
        return sorted(REGISTER_NAMES) + ["general"]

    def __getattr__(self, name: str) -> int:
        if name not in _KNOWN:
            raise RegisterAttributeError(name)
        with self._access("read a register"):
            return self._registers.get_value(name)

    def __setattr__(self, name: str, value: int) -> None:
        if name not in _KNOWN:
            raise RegisterAttributeError(name)
        self._set(name, value)

    def __getitem__(self, name: str) -> int:
        with self._access("read a register"):
            return self._registers.get_value(self._name(name))

    def __setitem__(self, name: str, value: int) -> None:
        self._set(self._name(name), value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in _KNOWN

    @staticmethod
    def _name(name: str) -> str:
        if not isinstance(name, str) or name.lower() not in _KNOWN:
            raise InvalidRegisterError(str(name))
        return name.lower()

    def _set(self, name: str, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"a register value is an int, not {value!r}")
        with self._access("write a register"):
            self._registers.set_value(name, value)

    def general(self) -> dict[str, int]:
        """rax ... r15, rip and efl in one dict (what cdb's `r` shows)."""
        names = (
            "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            *(f"r{n}" for n in range(8, 16)), "rip", "efl",
        )  # fmt: skip
        with self._access("read the registers"):
            return {name: self._registers.get_value(name) for name in names}
