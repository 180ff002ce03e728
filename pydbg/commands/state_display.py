"""What cdb shows at a stop (IDebugControl::OutputCurrentState) and with `r`: the registers
of the scope frame, the `module!symbol+0x4 [file @ line]:` line, and the next instruction
with its effective address.

    rax=0000000000000001 rbx=00007ffd4c4f1e28 rcx=0000555555557dd8
    ...
    iopl=0         nv up ei pl zr na pe nc
    cs=0033  ss=002b  ds=0000  es=0000  fs=0000  gs=0000             efl=00000246
    state_pie!inner+0x1d [/src/tests/targets/state.c @ 41]:
    00005555`55555191 8b45fc          mov     eax, dword ptr [rbp - 4] ss:00007ffd`4c4f1cfc=00000005

`.prompt_allow [+|-]sym [+|-]dis [+|-]ea [+|-]reg [+|-]src` chooses what a stop shows
(sym: the symbol line, src: its `[file @ line]` part, dis: the instruction, ea: its
effective address, reg: the registers); cdb's `r` always shows registers, symbol and
instruction.  In a frame other than 0 (`.frame N`) a register the unwinder could not recover
shows as `????????????????` (pydbg.registers says which ones).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import capstone
from capstone import x86

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.interpreter import command
from pydbg.control import (
    DEBUG_CURRENT_DISASM,
    DEBUG_CURRENT_REGISTERS,
    DEBUG_CURRENT_SOURCE_LINE,
    DEBUG_CURRENT_SYMBOL,
)
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = ["PROMPT_PARTS", "SHOWN_REGISTERS", "register_lines", "state_text"]

# `.prompt_allow` items, in the order cdb lists them, with cdb's descriptions.
PROMPT_PARTS = {
    "sym": "Symbol for current instruction",
    "dis": "Disassembly of current instruction",
    "ea": "Effective address for current instruction",
    "reg": "Register state",
    "src": "Source info for current instruction",
}

# The registers `r` shows, in its order.
SHOWN_REGISTERS = _SHOWN = (
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp", "rbp", "r8", "r9", "r10",
    "r11", "r12", "r13", "r14", "r15", "efl", "cs", "ss", "ds", "es", "fs", "gs",
)  # fmt: skip

_FLAG_NAMES = (  # (bit, set, clear), in cdb's order
    (11, "ov", "nv"),
    (10, "dn", "up"),
    (9, "ei", "di"),
    (7, "ng", "pl"),
    (6, "zr", "nz"),
    (4, "ac", "na"),
    (2, "pe", "po"),
    (0, "cy", "nc"),
)

_CS = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
_CS.detail = True
# Instructions with a memory operand that do not access it.
_NO_ACCESS = ("lea", "nop", "prefetch")


def register_lines(values: dict[str, int | None]) -> list[str]:
    """cdb's register block (six rows of general registers, the flags, the segments);
    None values (not recovered in this frame) show as question marks."""

    def show(name: str, width: int) -> str:
        value = values.get(name)
        return "?" * width if value is None else f"{value:0{width}x}"

    def row(*names: str) -> str:
        return " ".join(f"{n:>3}={show(n, 16)}" for n in names)

    efl = values.get("efl")
    if efl is None:
        flags = "iopl=?         (flags not recovered in this frame)"
    else:
        words = " ".join(on if efl >> bit & 1 else off for bit, on, off in _FLAG_NAMES)
        flags = f"iopl={efl >> 12 & 3:<9} {words}"
    return [
        row("rax", "rbx", "rcx"),
        row("rdx", "rsi", "rdi"),
        row("rip", "rsp", "rbp"),
        row("r8", "r9", "r10"),
        row("r11", "r12", "r13"),
        row("r14", "r15"),
        flags,
        "  ".join(f"{s}={show(s, 4)}" for s in ("cs", "ss", "ds", "es", "fs", "gs"))
        + f"{'':13}efl={show('efl', 8)}",
    ]


def scope_registers(interp: Interpreter) -> dict[str, int | None]:
    """The registers `r` shows, of the scope frame."""
    values = interp.client.registers.get_scope_values(list(_SHOWN))
    return dict(zip(_SHOWN, values, strict=True))


def symbol_line(interp: Interpreter, address: int, source: bool) -> str | None:
    """`module!name+0x4 [file @ line]:`, None where no module holds the address.  In a
    caller's frame (`.frame 1`) the line is the call's, as `kn` shows it: a return
    address may be on the next line already."""
    symbols = interp.client.symbols
    try:
        name, displacement = symbols.get_name_by_offset(address)
    except PydbgError:
        return None
    text = f"{name}+{displacement:#x}" if displacement else name
    if source:
        if symbols.get_current_scope_frame_index():
            found = symbols.get_scope_frame().source.rpartition(":")
            where = f"{found[0]} @ {found[2]}" if found[0] else ""
        else:
            try:
                line, file, _ = symbols.get_line_by_offset(address)
                where = f"{file} @ {line}"
            except PydbgError:
                where = ""
        if where:
            text += f" [{where}]"
    return text + ":"


def instruction_line(
    interp: Interpreter, address: int, registers: dict[str, int | None] | None
) -> str:
    """The `u` line of the instruction at `address`, with its effective address and the
    value there when `registers` (those of the scope frame) are given."""
    control = interp.client.control
    try:
        text, _ = control.disassemble(address)
    except PydbgError:
        return f"{hex64(address)} ??              ???"
    if registers is not None:
        ea = effective_address(interp, address, registers)
        if ea:
            text += " " + ea
    return text


def effective_address(
    interp: Interpreter, address: int, registers: dict[str, int | None]
) -> str | None:
    """cdb's `ss:00007ffd`4c4f1cfc=00000005` for the memory operand the instruction at
    `address` reads or writes; None for an instruction without one (or one whose address
    uses a register not known in this frame)."""
    data = interp.client.data_spaces
    try:
        code = data.read_virtual(address, 15)
    except PydbgError:
        return None
    insn = next(_CS.disasm(code, address, 1), None)
    if insn is None or insn.mnemonic.startswith(_NO_ACCESS):
        return None
    for operand in insn.operands:
        if operand.type != x86.X86_OP_MEM:
            continue
        mem = operand.mem
        target = mem.disp
        parts = ((mem.base, 1), (mem.index, mem.scale))
        for reg, scale in parts:
            if reg == x86.X86_REG_INVALID:
                continue
            if reg == x86.X86_REG_RIP:
                target += address + insn.size
                continue
            value = _register(interp, insn.reg_name(reg), registers)
            if value is None:
                return None
            target += value * scale
        segment = "ds"
        if mem.segment in (x86.X86_REG_FS, x86.X86_REG_GS):
            segment = insn.reg_name(mem.segment)
            base = _register(interp, f"{segment}_base", registers)
            if base is None:
                return None
            target += base
        elif mem.base in (x86.X86_REG_RSP, x86.X86_REG_RBP, x86.X86_REG_ESP, x86.X86_REG_EBP):
            segment = "ss"
        target &= (1 << 64) - 1
        where = f"{segment}:{hex64(target)}"
        if operand.size not in (1, 2, 4, 8):
            return where
        try:
            raw = data.read_virtual(target, operand.size)
        except PydbgError:
            return f"{where}={'?' * operand.size * 2}"
        value = int.from_bytes(raw, "little")
        shown = hex64(value) if operand.size == 8 else f"{value:0{operand.size * 2}x}"
        return f"{where}={shown}"
    return None


def _register(interp: Interpreter, name: str, registers: dict[str, int | None]) -> int | None:
    if name in registers:
        return registers[name]
    try:
        return interp.client.registers.get_scope_value(name)
    except PydbgError:
        return None


def state_text(interp: Interpreter, flags: int, allow: Collection[str]) -> str:
    """The current state as OutputCurrentState shows it, parts chosen by DEBUG_CURRENT_*
    `flags` and the `.prompt_allow` items in `allow`."""
    lines: list[str] = []
    registers = scope_registers(interp)
    if flags & DEBUG_CURRENT_REGISTERS and "reg" in allow:
        lines.extend(register_lines(registers))
    pc = registers["rip"]
    if pc is None:  # (rip is recovered in every frame; this keeps mypy and odd stacks happy)
        return "\n".join(lines) + "\n" if lines else ""
    from pydbg.commands.source_commands import source_state, stop_source_line

    shown = stop_source_line(interp, pc) if flags & DEBUG_CURRENT_SOURCE_LINE else None
    if shown is not None and source_state(interp).only_source:  # l+o
        lines.clear()
    if flags & DEBUG_CURRENT_SYMBOL and "sym" in allow:
        source = bool(flags & DEBUG_CURRENT_SOURCE_LINE) and "src" in allow
        header = symbol_line(interp, pc, source)
        if header:
            lines.append(header)
    if (
        flags & DEBUG_CURRENT_DISASM
        and "dis" in allow
        and not (shown is not None and source_state(interp).only_source)
    ):
        lines.append(instruction_line(interp, pc, registers if "ea" in allow else None))
    if shown is not None:  # l+s: the source line after the usual lines, as cdb
        lines.append(shown)
    return "\n".join(lines) + "\n" if lines else ""


@command(
    ".prompt_allow",
    summary="Choose what a stop shows: registers, symbol, source, instruction, address",
    syntax=".prompt_allow [+|-]reg [+|-]sym [+|-]src [+|-]dis [+|-]ea ...",
    example=".prompt_allow -reg +dis",
)
def _prompt_allow(interp: Interpreter, rest: str) -> None:
    allow = set(interp.prompt_allow)
    for word in rest.split():
        sign, item = word[:1], word[1:].lower()
        if sign not in "+-" or not sign or item not in PROMPT_PARTS:
            column = rest.find(word) + len(".prompt_allow ")
            known = ", ".join(PROMPT_PARTS)
            raise CommandSyntaxError(
                f".prompt_allow {rest}", column, f"expected +item or -item, item one of {known}"
            )
        if sign == "+":
            allow.add(item)
        else:
            allow.discard(item)
    interp.prompt_allow = frozenset(allow)
    interp.out("Allow the following information to be displayed at the prompt:\n")
    interp.out("(Other settings can affect whether the information is actually displayed)\n")
    shown = [item for item in PROMPT_PARTS if item in allow]
    hidden = [item for item in PROMPT_PARTS if item not in allow]
    for item in shown:
        interp.out(f"   {item:>3} - {PROMPT_PARTS[item]}\n")
    if not shown:
        interp.out("   (None)\n")
    interp.out("Do not allow the following information to be displayed at the prompt:\n")
    for item in hidden:
        interp.out(f"   {item:>3} - {PROMPT_PARTS[item]}\n")
    if not hidden:
        interp.out("   (None)\n")
