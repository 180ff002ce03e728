"""Searching and comparing memory (cdb's s and c commands; spec §8).

    s [-b|-w|-d|-q|-a|-u] RANGE PATTERN
                                     search: each hit's address and the memory there
    s -sa|-su RANGE                  every printable ASCII / UTF-16 string of 3 or more
    c RANGE ADDR                     compare: each differing byte of both ranges

`s` reads RANGE in bytes whatever the type (`s -d x L20 ...` searches 0x20 bytes), finds
overlapping matches ("QQQ" three times in "QQQQQ") that lie wholly inside the range, and
only aligned ones for -w/-d/-q.  A hit is shown as cdb does: the address and the 16 bytes
there, as `db` for -b and -a, words and characters for -w and -u, dwords and characters
(`dc`) for -d, qwords and characters for -q.  Memory out of reach is skipped.  `c` reads
both ranges whole and raises InaccessibleMemoryError when either is not all there.
"""

from __future__ import annotations

from pydbg.addresses import hex64
from pydbg.commands.context import CommandContext
from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.expression import evaluate_prefix
from pydbg.commands.interpreter import Interpreter, command
from pydbg.commands.memory_args import (
    InaccessibleMemoryError,
    encode_values,
    parse_range,
    parse_string,
    parse_values,
    read_cells,
)
from pydbg.commands.memory_display import format_row
from pydbg.errors import MemoryAccessError

# -- s ------------------------------------------------------------------------------------------

STRING_BLOCK = 1 << 16  # bytes read at a time by -sa / -su (even: keeps UTF-16 in phase)
# option: (object size, granularity, row unit, pattern is a string)
_SEARCH = {
    "-b": (1, 1, 1, False),
    "-w": (2, 2, 2, False),
    "-d": (4, 4, 4, False),
    "-q": (8, 8, 8, False),
    "-a": (1, 1, 1, True),
    "-u": (2, 1, 2, True),
}


@command(
    "s",
    summary="Search memory for bytes, words, dwords, qwords or a string",
    syntax="s [-b|-w|-d|-q|-a|-u] address (L count | end) pattern | s -sa|-su range",
    example='s -a @rsp L1000 "HOME"',
)
def _search(interp: Interpreter, rest: str) -> None:
    option, text = "-b", rest.strip()
    if text.startswith("-"):
        option, _, text = text.partition(" ")
        option = option.lower()
        if option in ("-sa", "-su"):
            _search_strings(interp, rest, text, wide=option == "-su")
            return
        if option not in _SEARCH:
            known = " ".join([*_SEARCH, "-sa", "-su"])
            raise CommandSyntaxError(f"s {rest}", 2, f"unknown option {option!r} (known: {known})")
    size, granularity, unit, is_string = _SEARCH[option]
    span, pattern_text = parse_range(interp, text, 1, 0)
    if not pattern_text:
        raise CommandSyntaxError(f"s {rest}", len(rest) + 2, "s needs a pattern to search for")
    if is_string:
        pattern = parse_string(pattern_text).encode("utf-16-le" if size == 2 else "utf-8")
        if not pattern:
            raise CommandError("s: the search string is empty")
    else:
        pattern = encode_values(parse_values(interp, pattern_text), size)
    found = interp.client.data_spaces.search_virtual_all(
        span.start, span.size, pattern, granularity
    )
    lines = [format_row(hit, read_cells(interp, hit, 16), unit, ascii_column=True) for hit in found]
    if lines:
        interp.out("\n".join(lines) + "\n")


MIN_STRING = 3  # cdb's default shortest string for -sa / -su


def _search_strings(interp: Interpreter, rest: str, text: str, wide: bool) -> None:
    """s -sa / -su: every run of at least MIN_STRING printable ASCII characters (as bytes,
    or as UTF-16 code units at even addresses), shown as `address  "text"`."""
    span, extra = parse_range(interp, text, 1, 0)
    if extra:
        raise CommandSyntaxError(f"s {rest}", len(rest) - len(extra) + 2,
                                 f"unexpected {extra!r}: -sa and -su take no pattern")  # fmt: skip
    width = 2 if wide else 1
    spaces = interp.client.data_spaces
    lines: list[str] = []
    for region in spaces.regions():
        if not region.accessible or region.end <= span.start or region.base >= span.end:
            continue
        start = max(span.start, region.base)
        start += start % width  # UTF-16 code units at even addresses
        stop = min(span.end, region.end)
        run_start, run = 0, bytearray()
        for position in range(start, stop, STRING_BLOCK):
            try:
                data = spaces.read_virtual(position, min(STRING_BLOCK, stop - position))
            except MemoryAccessError as exc:
                data = exc.data
            for index in range(0, len(data) - width + 1, width):
                code = int.from_bytes(data[index : index + width], "little")
                if 0x20 <= code < 0x7F:
                    if not run:
                        run_start = position + index
                    run.append(code)
                    continue
                if len(run) >= MIN_STRING:
                    lines.append(f'{hex64(run_start)}  "{run.decode()}"')
                run.clear()
        if len(run) >= MIN_STRING:
            lines.append(f'{hex64(run_start)}  "{run.decode()}"')
    if lines:
        interp.out("\n".join(lines) + "\n")


# -- c ------------------------------------------------------------------------------------------


@command(
    "c",
    summary="Compare two memory ranges byte by byte, showing each difference",
    syntax="c address (L count | end) address2",
    example="c buffer L20 buffer+40",
)
def _compare(interp: Interpreter, rest: str) -> None:
    span, text = parse_range(interp, rest, 1, 0)
    if not text:
        raise CommandSyntaxError(f"c {rest}", len(rest) + 2, "c needs a second address")
    other, column = evaluate_prefix(text, CommandContext(interp), interp.radix)
    extra = text[column:].strip()
    if extra:
        raise CommandSyntaxError(f"c {rest}", 2, f"unexpected {extra!r} after the addresses")
    first = _read_all(interp, span.start, span.size)
    second = _read_all(interp, other, span.size)
    lines = [
        f"{hex64(span.start + i)}  {a:02x} - {hex64(other + i)}  {b:02x}"
        for i, (a, b) in enumerate(zip(first, second, strict=True))
        if a != b
    ]
    if lines:
        interp.out("\n".join(lines) + "\n")


def _read_all(interp: Interpreter, address: int, size: int) -> bytes:
    try:
        return interp.client.data_spaces.read_virtual(address, size)
    except MemoryAccessError as exc:
        raise InaccessibleMemoryError("c", address, size, exc.transferred) from None
