"""Changing memory (cdb's e* and f commands; spec §8).

    eb/ew/ed/eq/ep ADDR VALUES...    write bytes / words / dwords / qwords / pointers
    ea/eza ADDR "text"               an ASCII (UTF-8) string, without / with its NUL
    eu/ezu ADDR "text"               a UTF-16 string, without / with its NUL
    f RANGE PATTERN...               fill the range with the byte pattern, repeated

No write is ever partial: every byte of the range is checked first and a command that would
touch memory out of reach (unmapped, PROT_NONE) raises InaccessibleMemoryError with nothing
written.  Values follow pydbg.commands.memory_args (`'A'`, expressions).
"""

from __future__ import annotations

from pydbg.commands.context import CommandContext
from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.expression import evaluate_prefix
from pydbg.commands.interpreter import Interpreter, command
from pydbg.commands.memory_args import (
    InaccessibleMemoryError,
    check_reachable,
    encode_values,
    parse_range,
    parse_string,
    parse_values,
    reject_options,
)
from pydbg.errors import MemoryAccessError

# -- e* -----------------------------------------------------------------------------------------


def _address_and_rest(interp: Interpreter, name: str, rest: str) -> tuple[int, str]:
    if not rest.strip():
        raise CommandSyntaxError(name, len(name), f"{name} needs an address and what to write")
    reject_options(rest)
    address, column = evaluate_prefix(rest, CommandContext(interp), interp.radix)
    return address, rest[column:].strip()


def _write(interp: Interpreter, what: str, address: int, data: bytes) -> None:
    check_reachable(interp, what, address, len(data))
    interp.client.data_spaces.write_virtual(address, data)


def _enter_values(name: str, size: int, what: str) -> None:
    @command(
        name,
        summary=f"write {what} to memory",
        syntax=f"{name} address value [value ...]",
        example=f"{name} @rsp 1 2 3",
    )
    def handler(interp: Interpreter, rest: str) -> None:
        address, text = _address_and_rest(interp, name, rest)
        if not text:
            raise CommandSyntaxError(
                f"{name} {rest}", len(name) + 1 + len(rest), f"{name} needs values to write"
            )
        _write(interp, name, address, encode_values(parse_values(interp, text), size))


_enter_values("eb", 1, "bytes")
_enter_values("ew", 2, "16-bit words")
_enter_values("ed", 4, "32-bit dwords")
_enter_values("eq", 8, "64-bit qwords")
_enter_values("ep", 8, "pointer-sized values (qwords on x86_64)")


def _enter_string(name: str, wide: bool, terminated: bool) -> None:
    kind = "UTF-16" if wide else "ASCII (UTF-8)"
    nul = "with" if terminated else "without"

    @command(
        name,
        summary=f"write an {kind} string to memory, {nul} a terminating NUL",
        syntax=f'{name} address "text"',
        example=f'{name} buffer "hello"',
    )
    def handler(interp: Interpreter, rest: str) -> None:
        address, text = _address_and_rest(interp, name, rest)
        string = parse_string(text) + ("\0" if terminated else "")
        if not string:
            raise CommandError(f"{name}: the string is empty; nothing to write")
        _write(interp, name, address, string.encode("utf-16-le" if wide else "utf-8"))


_enter_string("ea", wide=False, terminated=False)
_enter_string("eza", wide=False, terminated=True)
_enter_string("eu", wide=True, terminated=False)
_enter_string("ezu", wide=True, terminated=True)


# -- f ------------------------------------------------------------------------------------------


@command(
    "f",
    summary="Fill a memory range with a repeated byte pattern",
    syntax="f address L count pattern... | f address end pattern...",
    example="f buffer L20 'A' 'B' 0",
)
def _fill(interp: Interpreter, rest: str) -> None:
    span, text = parse_range(interp, rest, 1, 0)
    if not text:
        raise CommandSyntaxError(f"f {rest}", len(rest) + 2, "f needs a pattern of bytes")
    pattern = encode_values(parse_values(interp, text), 1)[: span.size]  # extra values: ignored
    try:
        interp.client.data_spaces.fill_virtual(span.start, span.size, pattern)
    except MemoryAccessError as exc:
        raise InaccessibleMemoryError("f", span.start, span.size, exc.transferred) from None
