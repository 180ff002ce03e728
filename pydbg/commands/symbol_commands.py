"""Commands about modules, symbols, code and the stack (spec §8).

lm                  the modules: start, end, name, path (and build id)
x [mod!]pattern     symbols matching a wildcard (by linkage or demangled name:
                    `x cpp!ns::K::*`): address and name, demangled
ln [addr]           the nearest symbol at or before an address (default: the pc)
u [addr] [L count]  disassemble (default: 8 instructions from the pc, or from where
                    the last `u` stopped when no address is given)
k / kn / kb [count] the call stack: frame (kn), child-SP, return address, [first
                    stack words (kb)], symbol and source line; functions the compiler
                    inlined are frames of their own (control.get_stack_trace_ex),
                    shown as cdb shows them: `02 (Inline Function) --------`--------
                    prog!leaf [file @ line]`, each at the line it is stopped at, the
                    frame it was inlined into at the line of the call (as gdb's `bt`);
                    numbered with the others, so that `.frame N` selects them
"""

from __future__ import annotations

import re

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.frame_commands import frame_line
from pydbg.commands.interpreter import Interpreter, command
from pydbg.symbols import Module

MODULES_HEADER = "start             end                 module name"


def module_line(module: Module) -> str:
    """One `lm` line: start, end, module name, path and build id."""
    build = f"  build id {module.build_id}" if module.build_id else ""
    end = module.base + module.size
    name = f"{module.module_name:<18}"
    return f"{hex64(module.base)} {hex64(end)}   {name} {module.image_name}{build}"


@command("lm", summary="List the loaded modules", syntax="lm", example="lm")
def _modules(interp: Interpreter, rest: str) -> None:
    interp.out(MODULES_HEADER + "\n")
    for module in interp.client.symbols.modules():
        interp.out(module_line(module) + "\n")


@command(
    "x",
    summary="Examine symbols matching a wildcard",
    syntax="x [module!]pattern",
    example="x libc_so!mem*",
)
def _examine(interp: Interpreter, rest: str) -> None:
    pattern = rest.strip()
    if not pattern:
        raise CommandSyntaxError("x", 1, "x takes a symbol pattern: x module!name*")
    hits = interp.client.symbols.get_symbols_matching(pattern)
    for name, address in sorted(hits, key=lambda hit: hit[1]):
        interp.out(f"{hex64(address)} {name}\n")
    if not hits:
        interp.out(f"no symbol matches {pattern!r}\n")


@command(
    "ln",
    summary="The nearest symbol at or before an address",
    syntax="ln [address]",
    example="ln @rip",
)
def _nearest(interp: Interpreter, rest: str) -> None:
    address = interp.evaluate(rest) if rest.strip() else interp.evaluate("@$ip")
    name, displacement = interp.client.symbols.get_name_by_offset(address)
    where = f"{name}+{displacement:#x}" if displacement else name
    interp.out(f"({hex64(address)})   {where}\n")


_LENGTH = re.compile(r"(?:^|\s)[lL]\s*(\S+)\s*$")


@command(
    "u",
    summary="Unassemble: disassemble code (Enter goes on)",
    syntax="u [address] [L count]",
    example="u main L10",
)
def _unassemble(interp: Interpreter, rest: str) -> None:
    count = 8
    text = rest.strip()
    length = _LENGTH.search(text)
    if length:
        count = interp.evaluate(length[1])
        text = text[: length.start()].strip()
        if not 0 < count <= 0x10000:
            raise CommandSyntaxError(f"u {rest}", 2, f"bad instruction count {count}")
    if text:
        address = interp.evaluate(text)
    else:
        address = getattr(interp, "next_unassemble", None) or interp.evaluate("@$ip")
    interp.next_unassemble = interp.client.control.output_disassembly_lines(address, count)


def _stack(interp: Interpreter, rest: str, numbered: bool, words: bool) -> None:
    count = interp.evaluate(rest) if rest.strip() else 0x100
    frames = interp.client.control.get_stack_trace_ex(max(1, count))
    header = " # " if numbered else ""
    extra = "Args to Child                                          " if words else ""
    interp.out(f"{header}Child-SP          RetAddr           {extra}Call Site\n")
    for frame in frames:
        args = ""
        if words:
            # An inline frame has no stack of its own: blanks as wide as the words.
            args = " " * _WORDS_WIDTH if frame.inline else _first_words(interp, frame.stack_offset)
        interp.out(frame_line(frame, numbered, args) + "\n")
    last = frames[-1]
    if last.best_effort:
        interp.out(f"(the walk stopped here: {last.note})\n")


_WORDS_WIDTH = 3 * 17 + 2 * 3  # three `xxxxxxxx`xxxxxxxx` joined by " : "


def _first_words(interp: Interpreter, address: int) -> str:
    try:
        data = interp.client.data_spaces.read_virtual(address, 24)
    except Exception:  # noqa: BLE001 - unreadable stack: show question marks, go on
        return " ".join(["????????`????????"] * 3)
    return " : ".join(hex64(int.from_bytes(data[i : i + 8], "little")) for i in (0, 8, 16))


@command("k", summary="Show the call stack", syntax="k [frames]", example="k 5")
def _k(interp: Interpreter, rest: str) -> None:
    _stack(interp, rest, numbered=False, words=False)


@command("kn", summary="Show the call stack with frame numbers", syntax="kn [frames]", example="kn")
def _kn(interp: Interpreter, rest: str) -> None:
    _stack(interp, rest, numbered=True, words=False)


@command(
    "kb",
    summary="Show the call stack with the first stack words",
    syntax="kb [frames]",
    example="kb",
)
def _kb(interp: Interpreter, rest: str) -> None:
    _stack(interp, rest, numbered=True, words=True)
