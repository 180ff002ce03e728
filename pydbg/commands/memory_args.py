"""Arguments of the memory commands as cdb reads them: address ranges, value lists, quoted
strings; and reading a range with the unreadable bytes marked.

Ranges (cdb's "Address and Address Range Syntax"; every address is a MASM expression):

    ADDR                the command's default length (a display command with no ADDR at all
                        goes on where the last display stopped)
    ADDR L COUNT        COUNT objects of the command's size (`L20`, `L 0n32`)
    ADDR L?COUNT        the same, without the size limit
    ADDR L-COUNT        COUNT objects that end just before ADDR
    ADDR ADDR2          ADDR through ADDR2, both included

A range longer than MAX_RANGE (256 MiB) is refused unless it is written with `L?`, as cdb
does: a length that large is most likely a typo, and the command would run for minutes.
A range that would run past the top of the address space is refused whatever its form.

Values (`eb`, `f`, `s`): MASM expressions separated by spaces, or characters in single
quotes: `'A'` is 0x41, and `'VUTS'` is the number 0x56555453 (written little-endian, the
bytes read S T U V, as in cdb).  A value must fit the object size, either as an unsigned
number or as a negative one (`eb x -1` writes ff).
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.addresses import hex64
from pydbg.commands.context import CommandContext
from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.expression import evaluate_prefix
from pydbg.errors import MemoryAccessError

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = [
    "MAX_RANGE",
    "BadRangeError",
    "ValueTooLargeError",
    "InaccessibleMemoryError",
    "Range",
    "check_reachable",
    "encode_values",
    "parse_range",
    "parse_string",
    "parse_values",
    "read_cells",
    "reject_options",
    "starts_with_length",
]

MAX_RANGE = 0x10000000  # 256 MiB, cdb's limit for ranges not written with L?
_TOP = 1 << 64
_LENGTH = re.compile(r"[lL]\s*([?-]?)")


class InaccessibleMemoryError(CommandError):
    """A command would read or write memory that is not there (nothing was changed):
    `address` and `size` are the range, `reachable` how many bytes from its start are."""

    def __init__(self, what: str, address: int, size: int, reachable: int) -> None:
        super().__init__(
            f"{what}: {size:#x} bytes at {hex64(address)} are not all accessible (only the "
            f"first {reachable:#x} are); nothing was changed"
        )
        self.address = address
        self.size = size
        self.reachable = reachable


class BadRangeError(CommandError, ValueError):
    """A range that cannot be taken: empty, reversed, over the size limit, or wrapping."""


class ValueTooLargeError(CommandError, ValueError):
    """A value to write or search for does not fit the object size (`eb x 100`)."""


@dataclass(frozen=True)
class Range:
    """`count` objects of `unit` bytes from `start`."""

    start: int
    count: int
    unit: int

    @property
    def size(self) -> int:
        return self.count * self.unit

    @property
    def end(self) -> int:
        return self.start + self.size


def _expression(interp: Interpreter, text: str, what: str) -> tuple[int, str]:
    """The value of the expression at the start of `text`, and the text after it."""
    if not text.strip():
        raise CommandSyntaxError(text, 0, f"expected {what}")
    reject_options(text)
    value, column = evaluate_prefix(text, CommandContext(interp), interp.radix)
    return value, text[column:].lstrip()


def parse_range(interp: Interpreter, text: str, unit: int, default_count: int) -> tuple[Range, str]:
    """The range at the start of `text` (module docstring) and the text after it.

    `default_count` objects are taken when nothing follows the address (0: a length or an
    end address is required).  Commands with more arguments after the range (f, s, c) need
    `L count` or an end address before them, as in cdb."""
    start, rest = _expression(interp, text, "an address")
    length = _LENGTH.match(rest) if starts_with_length(rest) else None
    if length:
        unlimited, backwards = length[1] == "?", length[1] == "-"
        count, rest = _expression(interp, rest[length.end() :], "a count after L")
        if backwards:
            if count * unit > start:
                raise BadRangeError(f"L-{count:#x} from {hex64(start)} runs below address 0")
            start -= count * unit
    elif rest:
        try:
            last, rest = _expression(interp, rest, "an end address")
        except CommandSyntaxError:
            raise CommandSyntaxError(
                text, len(text) - len(rest), "expected a length (L count) or an end address"
            ) from None
        if last < start:
            raise BadRangeError(f"the end address {hex64(last)} is below the start {hex64(start)}")
        unlimited, count = False, (last - start) // unit + 1
    elif default_count:
        unlimited, count = True, default_count
    else:
        raise CommandSyntaxError(text, len(text), "expected a length (L count) or an end address")
    if count <= 0:
        raise BadRangeError(f"the range length must be positive, not {count:#x}")
    if not unlimited and count * unit > MAX_RANGE:
        raise BadRangeError(
            f"a range of {count * unit:#x} bytes is over the {MAX_RANGE:#x}-byte (256 MiB) "
            "limit; write L?count to allow it"
        )
    if start + count * unit > _TOP:
        raise BadRangeError(f"the range {hex64(start)} L{count:#x} runs past the address space")
    return Range(start, count, unit), rest


def starts_with_length(text: str) -> bool:
    """Whether `text` starts with the length marker `L` (`L20`, `L 0n32`, `L?x`, `L-4`).
    An `L` that begins a longer name (`len+4`, `label`) is an expression instead; a count
    glued to the L is a number, so only a word that cannot be one is a name."""
    if not _LENGTH.match(text):
        return False
    word = re.match(r"[lL]([A-Za-z_][\w!]*)", text)
    return not word or bool(re.fullmatch(r"[0-9a-fA-F`]+h?|0[xXnNtTyY][0-9a-fA-F`]*", word[1]))


def reject_options(text: str) -> None:
    """cdb's display and edit options (`/c4`, `/p`) are not taken: say so, rather than
    failing to read `/` as an expression."""
    stripped = text.lstrip()
    if stripped.startswith("/"):
        option = stripped.split()[0]
        raise CommandSyntaxError(text, len(text) - len(stripped), f"unknown option {option!r}")


def parse_values(interp: Interpreter, text: str) -> list[int]:
    """The values of a list such as `1 2 'A' @rax+1` (module docstring)."""
    values: list[int] = []
    rest = text.strip()
    while rest:
        if rest[0] == "'":
            close = rest.find("'", 1)
            if close < 1 or close == 1:
                raise CommandSyntaxError(text, len(text) - len(rest), "expected 'characters'")
            chars = rest[1:close]
            if not chars.isascii():
                raise CommandError(f"characters in quotes must be ASCII, not {chars!r}")
            values.append(int.from_bytes(chars.encode(), "big"))
            rest = rest[close + 1 :].lstrip()
        else:
            value, rest = _expression(interp, rest, "a value")
            values.append(value)
    return values


def encode_values(values: list[int], size: int) -> bytes:
    """The values little-endian, `size` bytes each; a value that does not fit is an error."""
    out = bytearray()
    for value in values:
        if value >> (8 * size) and value < _TOP - (1 << (8 * size - 1)):
            raise ValueTooLargeError(f"the value {value:#x} does not fit in {size} byte(s)")
        out += (value % (1 << (8 * size))).to_bytes(size, "little")
    return bytes(out)


def parse_string(text: str) -> str:
    """The contents of a double-quoted string; `\\"` and `\\\\` stand for `"` and `\\`, any
    other backslash is itself (cdb has no C escapes); nothing may follow the string."""
    text = text.strip()
    if not text.startswith('"'):
        raise CommandSyntaxError(text, 0, 'expected a string in double quotes: "text"')
    out: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            if text[i + 1 :].strip():
                raise CommandSyntaxError(text, i + 1, "unexpected text after the string")
            return "".join(out)
        out.append(char)
        i += 1
    raise CommandSyntaxError(text, 0, "unterminated string")


def read_cells(interp: Interpreter, address: int, size: int) -> list[int | None]:
    """`size` bytes at `address`, None for each byte that cannot be read.  A read stops at
    the first unreadable byte; the rest of that page is unreadable too (pages are the unit
    of mapping), so reading goes on at the next page."""
    spaces = interp.client.data_spaces
    cells: list[int | None] = []
    page = mmap.PAGESIZE
    position, stop = address, address + size
    while position < stop:
        try:
            cells += spaces.read_virtual(position, stop - position)
            break
        except MemoryAccessError as exc:
            cells += exc.data
            position += len(exc.data)
            skip = min(stop, (position // page + 1) * page) - position
            cells += [None] * skip
            position += skip
    return cells


def check_reachable(interp: Interpreter, what: str, address: int, size: int) -> None:
    """Raise InaccessibleMemoryError unless all `size` bytes at `address` can be read (and
    so written: the memory interface reaches the same mappings both ways)."""
    try:
        interp.client.data_spaces.read_virtual(address, size)
    except MemoryAccessError as exc:
        raise InaccessibleMemoryError(what, address, size, exc.transferred) from None
