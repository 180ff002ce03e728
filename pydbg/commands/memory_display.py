"""Displaying memory (cdb's d* commands; spec §8).

    db  bytes and ASCII
        00007ffd`1c2a3f00  48 65 6c 6c 6f 00 00 00-2a 00 00 00 00 00 00 00  Hello...*.......
    dw  words              00007ffd`1c2a3f00  6548 6c6c 006f 0000 002a 0000 0000 0000
    dd  dwords             00007ffd`1c2a3f00  6c6c6548 0000006f 0000002a 00000000
    dc  dwords and ASCII   (dd's values, then db's character column)
    dq, dp  qwords         00007ffd`1c2a3f00  0000006f`6c6c6548 00000000`0000002a
    dps, dqs  pointers with symbols, one a line (the stack as a user reads it):
                           00007ffd`1c2a3ef8  00005555`55555189 prog!main+0x20
    dds  dwords with symbols
    da  ASCII string       00005555`55558010  "Hello, world"
    du  UTF-16 string      (the same, two bytes a character)

Rows start at the given address (not rounded down), 16 bytes each; the 8th and 9th byte
of a `db` row are joined by `-`.  A byte that cannot be read shows as `??` (`????????` for
a dword, and `?` in the character column).  Characters outside 0x20-0x7e show as `.`.

Lengths: `L count` counts the command's objects.  Without one, db/dw/dd/dc/dq/dp show
0x80 bytes and dps/dqs/dds 0x80 bytes of pointers (cdb's defaults).  da/du stop at the first
NUL or after the count of characters, 0x100 when none is given (pydbg's choice: cdb's
documentation names no default), 48 characters a line.

With no address a display goes on where the last one (any d* command) stopped, or at the
pc when there was none: `Interpreter.next_display`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.interpreter import Interpreter, command
from pydbg.commands.memory_args import (
    Range,
    parse_range,
    read_cells,
    reject_options,
    starts_with_length,
)
from pydbg.errors import SymbolError

__all__ = ["format_row"]

ROW = 16  # bytes a row
DEFAULT_BYTES = 0x80
DEFAULT_STRING_CHARS = 0x100
STRING_LINE = 48  # characters a da/du line
BLOCK = 0x1000  # bytes read and shown at a time (a multiple of ROW)


def _char(cell: int | None) -> str:
    if cell is None:
        return "?"
    return chr(cell) if 0x20 <= cell < 0x7F else "."


def _value(cells: list[int | None], unit: int) -> str:
    """One object of `unit` bytes (little-endian) in hex, `?` for each digit it cannot show."""
    if None in cells:
        text = "?" * (2 * unit)
    else:
        text = f"{int.from_bytes(bytes(cells), 'little'):0{2 * unit}x}"  # type: ignore[arg-type]
    return f"{text[:8]}`{text[8:]}" if unit == 8 else text


# The character column of a row: printable ASCII as itself, every other byte as `.`.
_CHARS = bytes(b if 0x20 <= b < 0x7F else ord(".") for b in range(256))
_ROW_FORMAT = {2: "<8H", 4: "<4I", 8: "<2Q"}


def format_row(address: int, cells: list[int | None], unit: int, ascii_column: bool) -> str:
    """One row of a display: the address, the objects of `unit` bytes in `cells` (at most
    16 bytes), and the character column if asked for, aligned as in a full row."""
    if len(cells) == ROW and None not in cells:  # the common row, quickly
        data = bytes(cells)  # type: ignore[arg-type]
        if unit == 1:
            text = data.hex(" ")
            values = f"{text[:23]}-{text[24:]}"
        else:
            numbers = struct.unpack(_ROW_FORMAT[unit], data)
            values = " ".join(
                f"{n >> 32:08x}`{n & 0xFFFFFFFF:08x}" if unit == 8 else f"{n:0{2 * unit}x}"
                for n in numbers
            )
        if ascii_column:
            return f"{hex64(address)}  {values}  {data.translate(_CHARS).decode('ascii')}"
        return f"{hex64(address)}  {values}"
    if unit == 1:
        parts = []
        for index in range(ROW):
            if index == 8:
                parts.append("-" if len(cells) > 8 else " ")
            elif index:
                parts.append(" ")
            parts.append(_value(cells[index : index + 1], 1) if index < len(cells) else "  ")
        values = "".join(parts)
    else:
        per_row = ROW // unit
        objects = [_value(cells[i : i + unit], unit) for i in range(0, len(cells), unit)]
        width = per_row * (2 * unit + (1 if unit == 8 else 0)) + per_row - 1
        values = " ".join(objects).ljust(width)
    if ascii_column:
        return f"{hex64(address)}  {values}  {''.join(_char(c) for c in cells)}"
    return f"{hex64(address)}  {values.rstrip()}"


def _start(interp: Interpreter) -> int:
    if interp.next_display is not None:
        return interp.next_display
    return interp.evaluate("@$ip")


def _range(interp: Interpreter, name: str, rest: str, unit: int, default_count: int) -> Range:
    if not rest.strip():
        return Range(_start(interp), default_count, unit)
    reject_options(rest)
    if starts_with_length(rest):  # `dd L4`: from where the last display stopped
        rest = f"{_start(interp):#x} {rest}"
    found, extra = parse_range(interp, rest, unit, default_count)
    if extra:
        raise CommandSyntaxError(f"{name} {rest}", len(name) + 1 + len(rest) - len(extra),
                                 f"unexpected {extra!r} after the range")  # fmt: skip
    return found


def _blocks(interp: Interpreter, span: Range) -> Iterator[tuple[int, list[int | None]]]:
    """The range as (offset, cells) pieces of BLOCK bytes: a long display (up to 256 MiB,
    or more with L?) is read, formatted and shown a piece at a time."""
    for offset in range(0, span.size, BLOCK):
        yield offset, read_cells(interp, span.start + offset, min(BLOCK, span.size - offset))


def _rows(interp: Interpreter, name: str, rest: str, unit: int, ascii_column: bool) -> None:
    span = _range(interp, name, rest, unit, DEFAULT_BYTES // unit)
    for offset, cells in _blocks(interp, span):
        address = span.start + offset
        lines = [
            format_row(address + i, cells[i : i + ROW], unit, ascii_column)
            for i in range(0, len(cells), ROW)
        ]
        interp.out("\n".join(lines) + "\n")
    interp.next_display = span.end % (1 << 64)


def _display(name: str, unit: int, ascii_column: bool, what: str) -> None:
    @command(
        name,
        summary=f"display memory as {what}",
        syntax=f"{name} [address [L count | L?count | end]]",
        example=f"{name} @rsp L8",
    )
    def handler(interp: Interpreter, rest: str) -> None:
        _rows(interp, name, rest, unit, ascii_column)


_display("db", 1, True, "bytes and ASCII characters")
_display("dw", 2, False, "16-bit words")
_display("dd", 4, False, "32-bit dwords")
_display("dc", 4, True, "32-bit dwords and ASCII characters")
_display("dq", 8, False, "64-bit qwords")
_display("dp", 8, False, "pointer-sized values (qwords on x86_64)")


def _symbol(interp: Interpreter, value: int) -> str:
    try:
        name, displacement = interp.client.symbols.get_name_by_offset(value)
    except SymbolError:
        return ""
    return f" {name}+{displacement:#x}" if displacement else f" {name}"


def _symbols(interp: Interpreter, name: str, rest: str, unit: int) -> None:
    span = _range(interp, name, rest, unit, DEFAULT_BYTES // unit)
    for offset, cells in _blocks(interp, span):
        lines = []
        for i in range(0, len(cells), unit):
            value = cells[i : i + unit]
            text = _value(value, unit)
            if None not in value:
                text += _symbol(interp, int.from_bytes(bytes(value), "little"))  # type: ignore[arg-type]
            lines.append(f"{hex64(span.start + offset + i)}  {text}")
        interp.out("\n".join(lines) + "\n")
    interp.next_display = span.end % (1 << 64)


def _symbol_display(name: str, unit: int, what: str) -> None:
    @command(
        name,
        summary=f"display memory as {what}, each followed by the symbol it points into",
        syntax=f"{name} [address [L count | L?count | end]]",
        example=f"{name} @rsp L10",
    )
    def handler(interp: Interpreter, rest: str) -> None:
        _symbols(interp, name, rest, unit)


_symbol_display("dps", 8, "pointers")
_symbol_display("dqs", 8, "qwords")
_symbol_display("dds", 4, "dwords")


def _string(interp: Interpreter, name: str, rest: str, width: int) -> None:
    span = _range(interp, name, rest, width, DEFAULT_STRING_CHARS)
    chars: list[str] = []
    ended = False
    for _, cells in _blocks(interp, span):
        for offset in range(0, len(cells), width):
            unit = cells[offset : offset + width]
            if None in unit:
                chars.append("?")
                continue
            code = int.from_bytes(bytes(unit), "little")  # type: ignore[arg-type]
            if code == 0:
                ended = True
                break
            chars.append(_printable(code, width))
        if ended:
            break
    lines = [
        f'{hex64(span.start + index * width)}  "{"".join(chars[index : index + STRING_LINE])}"'
        for index in range(0, max(len(chars), 1), STRING_LINE)
    ]
    interp.out("\n".join(lines) + "\n")
    interp.next_display = (span.start + (len(chars) + ended) * width) % (1 << 64)


def _printable(code: int, width: int) -> str:
    """A string character as da/du show it: itself if printable, else `.`."""
    if width == 1:
        return chr(code) if 0x20 <= code < 0x7F else "."
    shown = chr(code)
    return shown if shown.isprintable() and not 0xD800 <= code < 0xE000 else "."


@command(
    "da",
    summary="Display an ASCII string (to its NUL, at most L count characters)",
    syntax="da [address [L count]]",
    example="da poi(@rsp+8)",
)
def _ascii(interp: Interpreter, rest: str) -> None:
    _string(interp, "da", rest, 1)


@command(
    "du",
    summary="Display a UTF-16 string (to its NUL, at most L count characters)",
    syntax="du [address [L count]]",
    example="du @rdi",
)
def _unicode(interp: Interpreter, rest: str) -> None:
    _string(interp, "du", rest, 2)
