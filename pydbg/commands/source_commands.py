"""Source commands (cdb): source mode, source listing and the source search path.

    l+t / l-t        source mode on / off: `t` and `p` step by source line (gdb's `step`
                     and `next`; Control.set_code_level(DEBUG_LEVEL_SOURCE)); l+t also
                     turns l+s on
    l+s / l-s        show the current source line at each stop, after the usual lines
    l+o / l-o        with l+s: show only the symbol line and the source line at stops
    l+l / l-l        the `[file @ line]` part of the symbol line (.prompt_allow src)
    l+* / l-*        all of the above
    lsa ADDR[,N]     list the source lines around an address (N lines, default 10)
    ls [FIRST][,N]   list N lines (default 10) of the current source file from FIRST, or
                     on from where the last listing ended
    lsf FILE         make FILE (a path, or a name the line tables know) the current
                     source file;  lsc: show the current source file and line
    .srcpath [DIRS]  show or set the source search path (`;`-separated); .srcpath+ DIRS
                     appends (Symbols.find_source_file says how files are found)
    .lines [-e|-d|-t]  source line info at stops (the `[file @ line]` part) on, off, or
                     toggled (the default), as l+l / l-l

Line numbers and counts are MASM expressions in the current radix, as every cdb number
(`ls 0n40,0n5`: decimal).  Listings look like cdb's: `   42: text`, with `>` in the
first column on the line of the address.  The window of `lsa` is gdb's `list`'s: from 5
lines before the line to 4 after.  The source line shown at a stop is `>   42:     x = f(y);`.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydbg.commands.errors import CommandError, CommandSyntaxError
from pydbg.commands.interpreter import command
from pydbg.constants import DEBUG_LEVEL_ASSEMBLY, DEBUG_LEVEL_SOURCE
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = ["SourceError", "source_state", "stop_source_line"]

_WINDOW = 10


class SourceError(CommandError):
    """A source file that cannot be found or read, a line outside it."""


@dataclass
class SourceState:
    """One interpreter's source settings: what stops show, and the listing position."""

    show_at_stop: bool = False  # l+s
    only_source: bool = False  # l+o
    file: str | None = None  # the current source file (its local path)
    next_line: int = 1  # where a bare `ls` goes on
    current_line: int = 0  # the line of the last stop or lsa
    cache: dict[str, list[str]] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[Interpreter, SourceState] = weakref.WeakKeyDictionary()


def source_state(interp: Interpreter) -> SourceState:
    state = _STATES.get(interp)
    if state is None:
        state = _STATES[interp] = SourceState()
    return state


def _lines_of(interp: Interpreter, path: str) -> list[str]:
    state = source_state(interp)
    text = state.cache.get(path)
    if text is None:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read().splitlines()
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}") from None
        state.cache[path] = text
    return text


def _locate(interp: Interpreter, dwarf_path: str) -> str:
    found = interp.client.symbols.find_source_file(dwarf_path)
    if found is None:
        path = interp.client.symbols.get_source_path() or "(empty)"
        raise SourceError(f"source file {dwarf_path} not found (source path: {path})")
    return found


def _listing(lines: list[str], first: int, count: int, mark: int) -> str:
    out = []
    for number in range(max(first, 1), min(first + count, len(lines) + 1)):
        marker = ">" if number == mark else " "
        out.append(f"{marker}{number:5}: {lines[number - 1]}\n")
    return "".join(out)


def stop_source_line(interp: Interpreter, pc: int) -> str | None:
    """The source line shown at a stop with l+s (`>   42: text`), or None (l-s, no
    line info, no source file); the listing position moves to it."""
    state = source_state(interp)
    if not state.show_at_stop:
        return None
    try:
        symbols = interp.client.symbols
        if pc == interp.client.registers.get_instruction_offset():
            number, dwarf_path = symbols.get_stop_line()  # inlined calls not entered yet
        else:
            number, dwarf_path, _ = symbols.get_line_by_offset(pc, statement=True)
        path = _locate(interp, dwarf_path)
        lines = _lines_of(interp, path)
    except PydbgError:
        return None
    state.file, state.current_line, state.next_line = path, number, number + 1
    if not 1 <= number <= len(lines):
        return None
    return f">{number:5}: {lines[number - 1]}"


# -- l+ / l- ------------------------------------------------------------------------------------

_OPTIONS = "tslo*"


@command(
    "l",
    summary="Source options: l+t/l-t source mode, l+s source at stops, l+o, l+l, l+*",
    syntax="l{+|-}{t|s|o|l|*}",
    example="l+t",
)
def _source_options(interp: Interpreter, rest: str) -> None:
    text = rest.replace(" ", "")
    if len(text) < 2 or text[0] not in "+-" or any(c not in _OPTIONS for c in text[1:]):
        raise CommandSyntaxError(f"l{rest}", 1, "expected l+t, l-t, l+s, l-s, l+o, l+l or l+*")
    on = text[0] == "+"
    letters = set("tslo") if "*" in text else set(text[1:])
    state = source_state(interp)
    if "t" in letters:
        level = DEBUG_LEVEL_SOURCE if on else DEBUG_LEVEL_ASSEMBLY
        interp.client.control.set_code_level(level)
        if on:  # source mode shows where it is in the source (l-s turns that off)
            state.show_at_stop = True
    if "s" in letters:
        state.show_at_stop = on
    if "o" in letters:
        state.only_source = on
    if "l" in letters:
        allow = set(interp.prompt_allow)
        allow.add("src") if on else allow.discard("src")
        interp.prompt_allow = frozenset(allow)
    source_mode = interp.client.control.get_code_level() == DEBUG_LEVEL_SOURCE
    interp.out(
        f"Source options are {'on' if source_mode else 'off'} for stepping: "
        f"{'lines' if source_mode else 'instructions'}"
        f"{'; source shown at stops' if state.show_at_stop else ''}\n"
    )


# -- listing ------------------------------------------------------------------------------------


def _numbers(interp: Interpreter, text: str, what: str) -> list[int | None]:
    out: list[int | None] = []
    for part in text.split(","):
        part = part.strip()
        out.append(None if not part else interp.evaluate(part))
    if len(out) > 2:
        raise CommandSyntaxError(f"{what} {text}", len(what) + 1, "expected [first][,count]")
    return out


@command(
    "lsa",
    summary="List the source lines around an address",
    syntax="lsa address[,count]",
    example="lsa @rip",
)
def _list_at(interp: Interpreter, rest: str) -> None:
    if not rest.strip():
        raise CommandSyntaxError("lsa", 4, "expected an address")
    head, _, tail = rest.partition(",")
    address = interp.evaluate(head)
    count = interp.evaluate(tail) if tail.strip() else _WINDOW
    number, dwarf_path, _ = interp.client.symbols.get_line_by_offset(address, statement=True)
    path = _locate(interp, dwarf_path)
    lines = _lines_of(interp, path)
    first = max(1, number - 5)
    state = source_state(interp)
    state.file, state.current_line, state.next_line = path, number, first + count
    interp.out(_listing(lines, first, count, number))


@command(
    "ls",
    summary="List lines of the current source file",
    syntax="ls [first][,count]",
    example="ls 0n40,0n5",
)
def _list(interp: Interpreter, rest: str) -> None:
    state = source_state(interp)
    if state.file is None:
        raise SourceError("no current source file: lsf FILE, lsa ADDR, or a stop with l+s")
    numbers = _numbers(interp, rest, "ls") if rest.strip() else [None]
    first = numbers[0] if numbers[0] is not None else state.next_line
    count = numbers[1] if len(numbers) > 1 and numbers[1] is not None else _WINDOW
    lines = _lines_of(interp, state.file)
    if first > len(lines):
        raise SourceError(f"line {first} is past the end of {state.file} ({len(lines)} lines)")
    state.next_line = first + count
    interp.out(_listing(lines, first, count, state.current_line))


@command(
    "lsf",
    summary="Load a source file for ls",
    syntax="lsf file",
    example="lsf main.c",
)
def _load_file(interp: Interpreter, rest: str) -> None:
    name = rest.strip()
    if not name:
        raise CommandSyntaxError("lsf", 4, "expected a file")
    path = interp.client.symbols.find_source_file(name)
    if path is None:  # a name the line tables know ("main.c" for /src/main.c)
        for module in _known_files(interp, name):
            path = interp.client.symbols.find_source_file(module)
            if path is not None:
                break
    if path is None:
        raise SourceError(f"source file {name} not found")
    _lines_of(interp, path)
    state = source_state(interp)
    state.file, state.current_line, state.next_line = path, 0, 1
    interp.out(f"Loaded source file '{path}'\n")


def _known_files(interp: Interpreter, name: str) -> list[str]:
    try:
        found, _line, _addresses = interp.client.symbols.resolve_source_line(f"{name}:1")
    except PydbgError:
        return []
    return [found]


@command(
    "lsc",
    summary="Show the current source file and line",
    syntax="lsc",
    example="lsc",
)
def _list_current(interp: Interpreter, rest: str) -> None:
    state = source_state(interp)
    if state.file is None:
        interp.out("No current source file\n")
        return
    interp.out(f"Current: {state.file}({state.current_line})\n")


@command(
    ".srcpath",
    summary="Show, set (.srcpath DIRS) or extend (.srcpath+ DIRS) the source search path",
    syntax=".srcpath[+] [dir[;dir...]]",
    example=".srcpath+ /usr/src/glibc",
)
def _source_path(interp: Interpreter, rest: str) -> None:
    symbols = interp.client.symbols
    text = rest.strip()
    if text.startswith("+"):
        symbols.append_source_path(os.path.expanduser(text[1:].strip()))
    elif text:
        symbols.set_source_path(os.path.expanduser(text))
    interp.out(f"Source search path is: {symbols.get_source_path() or '<empty>'}\n")


@command(
    ".lines",
    summary="Turn source line information at stops on (-e), off (-d) or over (-t)",
    syntax=".lines [-e|-d|-t]",
    example=".lines -d",
)
def _lines(interp: Interpreter, rest: str) -> None:
    option = rest.strip() or "-t"
    allow = set(interp.prompt_allow)
    if option not in ("-e", "-d", "-t"):
        raise CommandSyntaxError(f".lines {rest}", 7, "expected -e, -d or -t")
    on = option == "-e" or (option == "-t" and "src" not in allow)
    allow.add("src") if on else allow.discard("src")
    interp.prompt_allow = frozenset(allow)
    interp.out(f"Line number information will be {'loaded' if on else 'not shown'}\n")
