"""Breakpoint and step-to commands (spec §8).

Breakpoints:

    bp[ID] [/1] [/w "cond"] ADDR [PASSES] ["COMMANDS"]   code breakpoint (int3)
    bu[ID] [/1] [/w "cond"] EXPR [PASSES] ["COMMANDS"]   deferred: EXPR is kept and
                                                         evaluated again at module loads
    ba[ID] [/1] [/w "cond"] {e|r|w}{1|2|4|8} ADDR [PASSES] ["COMMANDS"]
                                                         processor (debug-register) breakpoint
    bl                     list          bc / bd / be IDS|*   clear / disable / enable

ADDR is a MASM expression (`main`, `prog!tick+5`, `@!"cpp!ns::Box<int>::get"`) or a source
name: `bp ns::K::f` sets one breakpoint per overload (gdb's `break` sets one location per
overload; DbgEng breakpoints have one address each, so each location is its own
breakpoint, listed as `bm` lists what it sets), `bp "ns::K::f(int)"` one, and a quoted name
may hold anything (`bp "ns::V::operator+"`).  gcc clones are found by their source name
(`bp scaled` breaks in `scaled.constprop.0` when gcc left no `scaled`).

IDS are decimal ids, separated by spaces or commas, with ranges (`1-3`: the breakpoints that
exist in it).  `/1` makes a one-shot breakpoint, `/w` a condition.  As in cdb, a `/w`
condition is C++ (C here: `bp /w "count > 3 && p->next == 0" file.c:42`, evaluated at each
hit in frame 0 of the thread that hit, Breakpoint.set_condition_c), unless it is written in
MASM: it has a register or pseudo-register (`@rdi`, `$t0`), a `module!symbol`, a backtick,
a `0n`/`0y` number or a MASM memory function (`by( wo( dwo( qwo( poi( hi( low(`), or is
`@@masm(...)`; `@@c++(...)` makes it C whatever it holds.  MASM conditions are evaluated as
before (see pydbg.breakpoints for the forms the native core decides).  A C condition that
cannot be evaluated at a hit (unknown variable, optimized out) is reported and the
breakpoint triggers.  `bp` at
an address that does not evaluate yet becomes a `bu`, as in cdb.  A source line is
`` `file.c:42` `` (cdb) or a bare `file.c:42`, optionally `module!file.c:42`
(Symbols.resolve_source_line places it as gdb's `break`; a line with code in several
places -- a function inlined into several callers, a template -- gets one breakpoint per
place with `bp`); `bp` on a file no module has lines for is an error, `bu` defers it.  A
plain C name two modules define (`bp NAME`) sets a breakpoint in each, as gdb's `break`.

Steps: `tc` / `pc` (to the next call), `tt` / `pt` (to the next return), `th` / `ph` (to
the next branching instruction), `ta ADDR` / `pa ADDR` (to an address), each with an
optional count; `gu` (to the caller; it prints the value returned, as gdb's `finish`:
pydbg.commands.return_display).  The `t` forms step into calls, the `p` forms over
them.  `gc` goes on from a breakpoint as execution went before it (a step goes on).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydbg.addresses import hex64
from pydbg.breakpoints import Breakpoint, BreakpointError, CCondition
from pydbg.commands.builtins import step_count as _count
from pydbg.commands.context import CommandContext
from pydbg.commands.errors import CommandSyntaxError
from pydbg.commands.expression import evaluate_prefix, parse_number
from pydbg.commands.interpreter import ID_OPTION, Interpreter, Quit, Run, command
from pydbg.commands.return_display import expect_return
from pydbg.commands.watch_values import WatchedValue
from pydbg.constants import (
    DEBUG_ANY_ID,
    DEBUG_BREAK_EXECUTE,
    DEBUG_BREAK_READ,
    DEBUG_BREAK_WRITE,
    DEBUG_BREAKPOINT_CODE,
    DEBUG_BREAKPOINT_DATA,
    DEBUG_BREAKPOINT_DEFERRED,
    DEBUG_BREAKPOINT_ENABLED,
    DEBUG_BREAKPOINT_ONE_SHOT,
    DEBUG_INVALID_OFFSET,
    DEBUG_STATUS_INSIDE_WAIT,
    DebugStatus,
)
from pydbg.control import StepMode
from pydbg.data_spaces import PageProtection
from pydbg.dwarf.values import Value
from pydbg.errors import PydbgError, UnknownSourceFileError, UnknownSymbolError

_ACCESS = {"e": DEBUG_BREAK_EXECUTE, "r": DEBUG_BREAK_READ, "w": DEBUG_BREAK_WRITE}
_ACCESS_SPEC = re.compile(r"([erwi])([1248])?(?:\s+|$)", re.IGNORECASE)
# `bp file.c:42` / `bp prog!src/file.c:42`: a path with a dot in its last part, a line.
_BARE_LINE = re.compile(r"(?:[\w.+-]+!)?[\w./+-]*\.[\w+]+:\d+(?=\s|$)")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
# What the MASM evaluator reads as one symbol word (pydbg.commands.expression).
_MASM_WORD = re.compile(r"[A-Za-z0-9_]+(?:(?:!|::)[A-Za-z0-9_]+)*")
# A source line as `bp` takes it: `` `[module!]file.c:42` `` or the bare form.
_SOURCE_LINE = re.compile(r"`([^`\s]+:\d+)`|((?:[\w.+-]+!)?[\w./+-]+\.\w+:\d+)(?=\s|$)")


class _Words:
    """The arguments of one breakpoint command, consumed left to right."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.pos = 0

    @property
    def rest(self) -> str:
        return self.text[self.pos :]

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def error(self, reason: str) -> CommandSyntaxError:
        return CommandSyntaxError(f"{self.name} {self.text}", len(self.name) + 1 + self.pos, reason)

    def quoted(self) -> str | None:
        self.skip_space()
        match = _QUOTED.match(self.text, self.pos)
        if match is None:
            if self.rest.startswith('"'):
                raise self.error("unterminated string")
            return None
        self.pos = match.end()
        return match[1].replace('\\"', '"')

    def expression(
        self, interp: Interpreter, what: str, defer_files: bool = True
    ) -> tuple[int | None, str]:
        """(value or None when it names something unknown yet, its text).  A bare
        `file.c:42` is read as cdb's `` `file.c:42` ``; a file no module has lines
        for is an error unless `defer_files` (bu)."""
        self.skip_space()
        if not self.rest or self.rest.startswith('"'):
            raise self.error(f"expected {what}")
        bare = _BARE_LINE.match(self.rest)
        if bare is not None:
            self.text = f"{self.text[: self.pos]}`{bare[0]}`{self.text[self.pos + bare.end() :]}"
        start = self.pos
        try:
            value, used = evaluate_prefix(self.rest, interp_context(interp), interp.radix)
        except UnknownSourceFileError:
            if not defer_files:
                raise
            end = self.text.find("`", start + 1) + 1 if self.rest.startswith("`") else 0
            end = end or len(self.text)
            self.pos = end
            return None, self.text[start:end]
        except UnknownSymbolError:  # a name no loaded module defines (yet)
            end = self.text.find(" ", start)
            end = len(self.text) if end < 0 else end
            self.pos = end
            return None, self.text[start:end]
        self.pos = start + used
        return value, self.text[start : self.pos].strip()


def interp_context(interp: Interpreter) -> CommandContext:
    return CommandContext(interp)


# What only MASM writes (see the module docstring): such a /w condition is MASM.
_MASM_MARKS = re.compile(
    r"[@$`]|\w!\w|\b0[ny][0-9]|\b(?:by|wo|dwo|qwo|poi|hi|low)\s*\(", re.IGNORECASE
)
_FORCED = re.compile(r"\s*@@(c\+\+|masm)\((.*)\)\s*", re.IGNORECASE | re.DOTALL)


def set_condition(bp: Breakpoint, text: str) -> None:
    """A `/w` condition, in C unless written in MASM (module docstring)."""
    forced = _FORCED.fullmatch(text)
    if forced is not None and forced[1] == "c++":
        bp.set_condition_c(forced[2])
    elif forced is not None or _MASM_MARKS.search(text):
        bp.condition = forced[2] if forced is not None else text
    else:
        bp.set_condition_c(text)


def _options(words: _Words) -> tuple[int, bool, str | None]:
    """(desired id, one-shot, condition) from the leading options."""
    desired, one_shot, condition = DEBUG_ANY_ID, False, None
    while True:
        words.skip_space()
        rest = words.rest
        if rest.startswith(ID_OPTION):
            words.pos += len(ID_OPTION)
            words.skip_space()
            digits = re.match(r"[0-9]+", words.rest)
            value = parse_number(digits[0], 10) if digits else None
            if digits is None or value is None:
                raise words.error("expected a breakpoint id")
            if value >= DEBUG_ANY_ID:  # which would mean "any id", not this one
                raise words.error(f"breakpoint ids are below {DEBUG_ANY_ID}, not {value}")
            desired = value
            words.pos += digits.end()
        elif rest.startswith("/1") and (len(rest) == 2 or rest[2].isspace()):
            one_shot = True
            words.pos += 2
        elif rest.startswith("/w"):
            words.pos += 2
            condition = words.quoted()
            if condition is None:
                raise words.error('/w takes a quoted condition: /w "@rax == 0"')
        elif rest.startswith("/"):
            raise words.error(f"unknown option {rest.split()[0]!r} (pydbg has /1 and /w)")
        else:
            return desired, one_shot, condition


def _make(
    interp: Interpreter,
    name: str,
    rest: str,
    break_type: int,
    deferred_ok: bool,
) -> list[tuple[Breakpoint, str]]:
    """The breakpoints one command sets, each with the text of its address: one, or one
    per location of a source name (`@!"module!name"`)."""
    words = _Words(name, rest)
    desired, one_shot, condition = _options(words)
    access = size = 0
    watched: tuple[str, Value] | None = None
    if break_type == DEBUG_BREAKPOINT_DATA:
        words.skip_space()
        spec = _ACCESS_SPEC.match(words.rest)
        if spec is None:
            raise words.error("expected an access and a size: e1, r4, w8 ...")
        if spec[1].lower() == "i":
            raise words.error("I/O breakpoints do not exist in user mode")
        access, size = _ACCESS[spec[1].lower()], int(spec[2] or 0)
        words.pos += spec.end()
        if access != DEBUG_BREAK_EXECUTE:
            watched = _watched_lvalue(interp, words)
        if watched is not None and not size:
            size = watched[1].size
            if size not in (1, 2, 4, 8):
                raise words.error(
                    f"{watched[0]} is {size} bytes: give a size of 1, 2, 4 or 8 (ba w4 ...)"
                )
        elif not size:
            raise words.error("expected a size: e1, r4, w8 ... (only a variable may omit it)")
    words.skip_space()
    by_line = _SOURCE_LINE.match(words.text, words.pos) is not None
    named = None
    if break_type == DEBUG_BREAKPOINT_CODE:
        named = _line_locations(interp, words) if not deferred_ok else None
        named = named or _named_locations(interp, words)
    if watched is not None:
        locations = [(watched[1].address, watched[0])]
    elif named is None:
        locations = [words.expression(interp, "an address", defer_files=deferred_ok)]
    else:
        locations = named
        if len(locations) > 1 and desired != DEBUG_ANY_ID:
            raise words.error("a name with several locations takes no breakpoint id")
    passes = 1
    words.skip_space()
    if words.rest and not words.rest.startswith('"'):
        value, _ = words.expression(interp, "a pass count")
        if value is None or value < 1:
            raise words.error("the pass count must be a number >= 1")
        passes = value
    commands = words.quoted()
    words.skip_space()
    if words.rest:
        raise words.error(f"unexpected {words.rest!r}")
    made: list[tuple[Breakpoint, str]] = []
    try:
        for address, expression in locations:
            bp = _place(interp, break_type, desired, address, expression, deferred_ok, size, access)
            made.append((bp, expression))
            if passes != 1:
                bp.set_pass_count(passes)
            if condition is not None:
                set_condition(bp, condition)
            if watched is not None and address is not None:
                text, lvalue = watched
                bp.condition = WatchedValue(
                    interp, text, lvalue.type, address, access, inner=bp.condition
                )
            if commands:
                bp.set_command(commands)
            # At a line of an inlined function, gdb stops in it, not at its call site.
            bp.stops_in_inlined = by_line
            bp.add_flags(DEBUG_BREAKPOINT_ENABLED | (DEBUG_BREAKPOINT_ONE_SHOT if one_shot else 0))
    except BaseException:
        for bp, _ in made:
            interp.client.control.remove_breakpoint(bp)
        raise
    return made


def _place(
    interp: Interpreter,
    break_type: int,
    desired: int,
    address: int | None,
    expression: str,
    deferred_ok: bool,
    size: int,
    access: int,
) -> Breakpoint:
    """One breakpoint, placed at `address` (or at `expression`, evaluated again at module
    loads, for `bu` and for what cannot be evaluated yet)."""
    control = interp.client.control
    existing = _existing(interp, desired)
    if existing is not None:
        control.remove_breakpoint(existing)  # cdb: bpN on a used id redefines it
    bp = control.add_breakpoint(break_type, desired)
    try:
        if break_type == DEBUG_BREAKPOINT_DATA:
            if address is not None and address % size:
                raise BreakpointError(f"address {address:#x} is not aligned to {size} bytes")
            bp.set_data_parameters(size, access)
        if address is None or deferred_ok:
            if address is None and not deferred_ok and break_type == DEBUG_BREAKPOINT_DATA:
                raise BreakpointError(f"cannot evaluate {expression!r}")
            bp.set_offset_expression(expression)
        else:
            bp.set_offset(address)
    except BaseException:
        control.remove_breakpoint(bp)
        raise
    return bp


def _watched_lvalue(interp: Interpreter, words: _Words) -> tuple[str, Value] | None:
    """(text, value) of a C lvalue in memory at the words (`counter`, `p->field`,
    `nodes[3].value`), consumed; None (nothing consumed) for a MASM address
    (pydbg.commands.watch_values)."""
    words.skip_space()
    start = words.pos
    end = words.text.find('"', start)
    candidate = words.text[start : end if end >= 0 else len(words.text)].rstrip()
    if not candidate or candidate[0].isdigit() or _MASM_MARKS.search(candidate):
        return None
    first = re.match(r"[\s(*&]*([A-Za-z_]\w*)", candidate)
    if first is None or not _names_data(interp, first[1]):
        return None
    texts = [candidate]
    passes = re.fullmatch(r"(.+?)\s+(?:0x[0-9a-f]+|[0-9]+)", candidate, re.IGNORECASE)
    if passes is not None:  # `ba w4 counter 3`: a pass count follows
        texts.append(passes[1])
    for text in texts:
        try:
            value = interp.client.symbols.evaluate_c_expression(text)
        except PydbgError:
            continue
        if value.address is None:
            continue  # a number or a register variable: not something to watch
        words.pos = start + len(text)
        return text, value
    return None


def _names_data(interp: Interpreter, name: str) -> bool:
    """Whether `name` is a local or parameter of the scope frame, or a symbol of data (not
    code): what the C evaluator can watch.  Checked first because the C evaluator looks an
    unknown global up in every module's DWARF (in libc's debug file, seconds the first
    time): `ba w4 main` or `ba r4 nothing` stay MASM without that search."""
    symbols = interp.client.symbols
    try:
        if symbols.get_scope_variables().named(name) is not None:
            return True
    except PydbgError:
        pass  # no DWARF for the scope frame: globals may still have it
    try:
        region = interp.client.data_spaces.query_virtual(symbols.get_offset_by_name(name))
    except PydbgError:
        return False
    return region.protect in (PageProtection.READONLY, PageProtection.READWRITE)


def _named_locations(interp: Interpreter, words: _Words) -> list[tuple[int | None, str]] | None:
    """The locations of a code breakpoint given by a source name, or None when the
    address is a MASM expression (`main`, `main+5`, `@rip`), left to `words.expression`.

    `bp "ns::K::f(int)"` (quoted: any name, with blanks or parentheses) and
    `bp ns::K::f` or `bp cpp!ns::Box<int>::get` (a name MASM cannot read, or one with
    several locations in one module) take every location the name has, as gdb's
    `break` does: one breakpoint per overload, each placed by its own
    `@!"module!name"` (what `bu` evaluates again at module loads).  A quoted name
    nothing defines yet is deferred."""
    words.skip_space()
    start = words.pos
    quoted = words.quoted()
    if quoted is not None:
        name = quoted.strip()
    else:
        name = words.rest.split(None, 1)[0] if words.rest.strip() else ""
        if not name or name[0].isdigit() or name[0] in "@$.(-~+":
            return None
    try:
        entries = interp.client.symbols.get_symbol_entries_by_name(name)
    except PydbgError:
        entries = []
    if quoted is None:
        masm = _MASM_WORD.fullmatch(name) is not None
        # A bare name several modules define: a location in each, as gdb's `break`
        # (in expressions it stays cdb's ambiguity error).
        if not entries or (len(entries) == 1 and masm):
            words.pos = start
            return None  # an expression, or one MASM can read as it is
        words.pos = start + len(name)
    if not entries:
        return [(None, f'@!"{name}"')]
    return [(address, f'@!"{qualified}"') for qualified, address in entries]


def _line_locations(interp: Interpreter, words: _Words) -> list[tuple[int | None, str]] | None:
    """The locations of `bp file.c:42` when the line has code in several places (a line
    of a function inlined into several callers, a template's line): one breakpoint per
    place, as gdb's `break` sets one location per place.  None for a line with one place
    (and anything else), left to `words.expression`."""
    words.skip_space()
    match = _SOURCE_LINE.match(words.text, words.pos)
    if match is None:
        return None
    spec = match[1] or match[2]
    try:
        path, line, addresses = interp.client.symbols.resolve_source_line(spec)
    except PydbgError:
        return None  # the expression reader says what is wrong
    if len(addresses) < 2:
        return None
    words.pos = match.end()
    return [(address, f"`{path}:{line}`") for address in addresses]


def _existing(interp: Interpreter, desired: int) -> Breakpoint | None:
    if desired == DEBUG_ANY_ID:
        return None
    try:
        return interp.client.control.get_breakpoint_by_id(desired)
    except BreakpointError:
        return None


@command(
    "bp",
    summary="Set a code breakpoint",
    syntax='bp[ID] [/1] [/w "cond"] address [passes] ["commands"]',
    example='bp main "r rip; g"',
)
def _bp(interp: Interpreter, rest: str) -> None:
    made = _make(interp, "bp", rest, DEBUG_BREAKPOINT_CODE, deferred_ok=False)
    _report(interp, made)
    for bp, _ in made:
        if bp.flags & DEBUG_BREAKPOINT_DEFERRED:
            expression = bp.get_offset_expression()
            interp.out(f"Bp expression '{expression}' could not be resolved, adding deferred bp\n")


def _report(interp: Interpreter, made: list[tuple[Breakpoint, str]]) -> None:
    """A name with several locations: one line per breakpoint, as cdb's `bm` prints them
    (`  0: 00005555`55555189 @!"cpp!ns::K::f(int)"`)."""
    if len(made) < 2:
        return
    for bp, expression in made:
        offset = bp.get_offset()
        where = "????????`????????" if offset == DEBUG_INVALID_OFFSET else hex64(offset)
        interp.out(f"{bp.get_id():>3}: {where} {expression}\n")


@command(
    "bu",
    summary="Set a deferred breakpoint, resolved again at every module load",
    syntax='bu[ID] [/1] [/w "cond"] expression [passes] ["commands"]',
    example="bu libc_so!malloc",
)
def _bu(interp: Interpreter, rest: str) -> None:
    _report(interp, _make(interp, "bu", rest, DEBUG_BREAKPOINT_CODE, deferred_ok=True))


@command(
    "ba",
    summary="Set a processor breakpoint: execute, read or write",
    syntax='ba[ID] [/1] [/w "cond"] {e|r|w}{1|2|4|8} address [passes] ["commands"]',
    example="ba w8 counter",
)
def _ba(interp: Interpreter, rest: str) -> None:
    _make(interp, "ba", rest, DEBUG_BREAKPOINT_DATA, deferred_ok=False)


def _ids(interp: Interpreter, name: str, rest: str) -> Iterator[Breakpoint]:
    text = rest.strip()
    if not text:
        raise CommandSyntaxError(name, len(name), f"{name} takes breakpoint ids or *")
    control = interp.client.control
    if text == "*":
        yield from control.breakpoints()
        return
    wanted: list[tuple[int, int | None]] = []  # (id, None) or a range (low, high)
    for part in re.split(r"[\s,]+", text):
        match = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", part)
        low = parse_number(match[1], 10) if match else None
        high = parse_number(match[2], 10) if match and match[2] else None
        if low is None:
            raise CommandSyntaxError(f"{name} {rest}", len(name) + 1, f"bad breakpoint id {part!r}")
        wanted.append((low, high))
    for low, high in wanted:
        if high is None:
            yield control.get_breakpoint_by_id(low)
        else:  # the breakpoints that exist in the range (never a list of every id in it)
            yield from (bp for bp in control.breakpoints() if low <= bp.get_id() <= high)


@command("bc", summary="Clear breakpoints", syntax="bc ids|*", example="bc 1-3")
def _bc(interp: Interpreter, rest: str) -> None:
    for bp in list(_ids(interp, "bc", rest)):
        interp.client.control.remove_breakpoint(bp)


@command("bd", summary="Disable breakpoints", syntax="bd ids|*", example="bd 0")
def _bd(interp: Interpreter, rest: str) -> None:
    for bp in list(_ids(interp, "bd", rest)):
        bp.remove_flags(DEBUG_BREAKPOINT_ENABLED)


@command("be", summary="Enable breakpoints", syntax="be ids|*", example="be *")
def _be(interp: Interpreter, rest: str) -> None:
    for bp in list(_ids(interp, "be", rest)):
        bp.add_flags(DEBUG_BREAKPOINT_ENABLED)


@command("bl", summary="List the breakpoints", syntax="bl", example="bl")
def _bl(interp: Interpreter, rest: str) -> None:
    for bp in interp.client.control.breakpoints():
        interp.out(describe(bp) + "\n")


def describe(bp: Breakpoint) -> str:
    """One `bl` line: id, e/d (u: deferred), address, passes left (of), thread, where."""
    state = "e" if bp.flags & DEBUG_BREAKPOINT_ENABLED else "d"
    if bp.flags & DEBUG_BREAKPOINT_DEFERRED:
        state += "u"
    offset = bp.get_offset()
    where = "????????`????????" if offset == DEBUG_INVALID_OFFSET else hex64(offset)
    if not bp.is_code:
        size, access = bp.get_data_parameters()
        kind = {DEBUG_BREAK_EXECUTE: "e", DEBUG_BREAK_READ: "r", DEBUG_BREAK_WRITE: "w"}[access]
        where += f" {kind} {size}"
    thread = "****" if bp.match_thread == DEBUG_ANY_ID else f"{bp.match_thread:04}"
    line = (
        f"{bp.get_id():>2} {state:<2} {where}     {bp.get_current_pass_count():04x} "
        f"({bp.get_pass_count():04x})  0:{thread}"
    )
    if bp.get_offset_expression():
        line += f" {bp.get_offset_expression()}"
    if bp.flags & DEBUG_BREAKPOINT_ONE_SHOT:
        line += " /1"
    if isinstance(bp.condition, str):
        line += f' /w "{bp.condition}"'
    elif isinstance(bp.condition, CCondition):
        line += f' /w "@@c++({bp.condition.text})"'
    elif isinstance(bp.condition, WatchedValue):
        line += f" watch {bp.condition.expression}"
    if bp.get_command():
        line += f' "{bp.get_command()}"'
    return line


# -- steps ----------------------------------------------------------------------------------------


def _step_to(mode: StepMode, over: bool) -> None:
    status = DebugStatus.STEP_OVER if over else DebugStatus.STEP_INTO

    def handler(interp: Interpreter, rest: str) -> Run:
        return Run(status, _count(interp, rest), mode)

    command(("p" if over else "t") + mode.value[1:])(handler)


for _mode in (StepMode.TO_CALL, StepMode.TO_RETURN, StepMode.TO_BRANCHING):
    _step_to(_mode, over=False)
    _step_to(_mode, over=True)


@command(
    "ta", summary="Trace (into calls) to an address", syntax="ta address", example="ta main+0x20"
)
def _trace_to(interp: Interpreter, rest: str) -> Run:
    return Run(DebugStatus.STEP_INTO, 1, StepMode.TO_ADDRESS, _address(interp, "ta", rest))


@command("pa", summary="Step (over calls) to an address", syntax="pa address", example="pa @$ra")
def _step_to_address(interp: Interpreter, rest: str) -> Run:
    return Run(DebugStatus.STEP_OVER, 1, StepMode.TO_ADDRESS, _address(interp, "pa", rest))


def _address(interp: Interpreter, name: str, rest: str) -> int:
    if not rest.strip():
        raise CommandSyntaxError(name, len(name), f"{name} takes an address")
    return interp.evaluate(rest)


@command("gu", summary="Go up: run until the current function returns", syntax="gu", example="gu")
def _go_up(interp: Interpreter, rest: str) -> Run:
    if rest.strip():
        raise CommandSyntaxError(f"gu {rest}", 3, "gu takes no arguments")
    expect_return(interp)  # the stop that ends it prints the value returned, as gdb's finish
    return Run(DebugStatus.STEP_OVER, 1, StepMode.GO_UP)


@command(
    "gc",
    summary="Go on from a breakpoint as before it (a step goes on)",
    syntax="gc",
    example='bp tick "gc"',
)
def _go_conditional(interp: Interpreter, rest: str) -> Run | Quit:
    if rest.strip():
        raise CommandSyntaxError(f"gc {rest}", 3, "gc takes no arguments")
    control = interp.client.control
    if control.get_execution_status_ex() & DEBUG_STATUS_INSIDE_WAIT:
        control.go_conditional()
        return Quit()  # an execution command: nothing after it runs
    return Run(DebugStatus.GO)
