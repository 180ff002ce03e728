"""What MASM expressions in commands see: registers and memory of the current thread, the
pseudo-registers, and (with the symbols work) symbol names.

Pseudo-registers (cdb's names, spec §8): `$ip`, `$csp` (and `$sp`, a pydbg alias: cdb has
none), `$ra` (the return address on the stack: valid at a function's first instruction),
`$retreg`, `$tid`, `$tpid`, `$exentry`, `$ptrsize`, `$pagesize`, `$frame`, `$t0` ... `$t19`.

Registers are those of the scope frame (`.frame N`; frame 0 unless one was chosen), as
cdb's expressions read them.
"""

from __future__ import annotations

import mmap
import struct
from typing import TYPE_CHECKING

from pydbg.commands.errors import (
    AmbiguousSymbolExpressionError,
    ExpressionError,
    UnknownPseudoRegisterError,
)
from pydbg.commands.expression import parse_number
from pydbg.engine.images import image_facts
from pydbg.errors import AmbiguousSymbolError, NoTargetError, UnknownSymbolError
from pydbg.symbols import UnknownModuleError

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter


def user_register_index(name: str) -> int | None:
    """N for the user pseudo-register `tN` (named without `$`, 0 <= N < 20), else None."""
    digits = name[1:] if name[:1] in ("t", "T") else ""
    if not (digits.isascii() and digits.isdigit()):
        return None
    index = parse_number(digits, 10)
    return index if index is not None and index < 20 else None


class CommandContext:
    """pydbg.commands.expression.ExpressionContext for one interpreter."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.interpreter = interpreter
        self.client = interpreter.client

    def register(self, name: str) -> int:
        return self.client.registers.get_scope_value(name)

    def pseudo_register(self, name: str) -> int:
        registers = self.client.registers
        if name == "ip":
            return registers.get_scope_value("rip")
        if name in ("csp", "sp"):
            return registers.get_scope_value("rsp")
        if name in ("retreg", "retreg64"):
            return registers.get_scope_value("rax")
        if name == "frame":
            return self.client.symbols.get_current_scope_frame_index()
        if name == "ra":
            rsp = registers.get_scope_value("rsp")
            return int(struct.unpack("<Q", self.client.data_spaces.read_virtual(rsp, 8))[0])
        if name == "ptrsize":
            return 8
        if name == "pagesize":
            return mmap.PAGESIZE
        if name == "tid":
            return self.client.system_objects.get_current_thread_system_id()
        if name == "tpid":
            return self.client.system_objects.get_current_process_system_id()
        if name == "exentry":
            return image_facts(self.client.system_objects.get_current_process_system_id()).entry
        index = user_register_index(name)
        if index is not None:
            return self.interpreter.user_registers[index]
        raise UnknownPseudoRegisterError(name)

    def read_memory(self, address: int, size: int) -> bytes:
        return self.client.data_spaces.read_virtual(address, size)

    def source_line(self, spec: str) -> int:
        return self.client.symbols.resolve_source_line(spec)[2][0]

    def c_expression(self, text: str) -> int:
        """`@@c++(text)`: the C evaluator's value in the scope frame, as a MASM number."""
        from pydbg.commands.evaluator_switch import masm_number
        from pydbg.dwarf.errors import DwarfError

        try:
            return masm_number(self.client.symbols.evaluate_c_expression(text))
        except DwarfError as exc:  # an unknown name, C syntax, `*` of an int...
            raise ExpressionError(f"@@c++({text.strip()}): {exc}") from None

    def symbol(self, name: str) -> int | None:
        """The address of `module!name` or an unambiguous bare `name` in the current
        process (None: no such symbol, so the word may still be a register name)."""
        try:
            return self.client.symbols.get_offset_by_name(name)
        except AmbiguousSymbolError as exc:
            raise AmbiguousSymbolExpressionError(exc.name, exc.candidates) from None
        except (UnknownSymbolError, UnknownModuleError, NoTargetError):
            return None
