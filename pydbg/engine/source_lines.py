"""What a source-line step asks of the line tables about a runtime address (pydbg.engine
.stepping's LineStepPlan): the line (file, number) and the address range of its code
around the address, whether a statement starts exactly there, and whether the address
is a PLT stub or the dynamic loader's lazy-binding resolver (code a step into a call
passes through on its way to the function called); and the inlined calls around an
address, with how many of them a stop there hides (gdb's skip_inline_frames: an inlined
call whose code starts exactly at the pc is shown as not entered yet, at its call site,
until a `t` enters it without running).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.elf.errors import ImageError
from pydbg.errors import PydbgError

if TYPE_CHECKING:
    from pydbg.elf.inlines import InlinedCall
    from pydbg.engine.symbolizer import Symbolizer
    from pydbg.engine.targets import Thread

_PLT_SECTIONS = frozenset({".plt", ".plt.got", ".plt.sec", ".plt.bnd"})


@dataclass(frozen=True, slots=True)
class LineAt:
    """The line at an address as gdb picks it (of several rows at one address, the last
    is_stmt one): `key` (file path, line), `row` (the address its row starts at),
    `statement` (the row is_stmt), and [start, end) of the run of the line's code
    around the address."""

    key: tuple[str, int]
    row: int
    statement: bool
    start: int
    end: int


class LineLookup:
    """Line lookups in one process, by runtime address (module bias applied)."""

    def __init__(self, symbols: Symbolizer, pid: int) -> None:
        self._symbols = symbols
        self._pid = pid

    def at(self, pc: int) -> LineAt | None:
        """The line at `pc`, or None where there is no line info (line 0 counts as
        none, as in gdb)."""
        obj = self._symbols.module_at(self._pid, pc)
        image = self._symbols.image(obj) if obj is not None else None
        if obj is None or image is None:
            return None
        link = pc - obj.bias
        try:
            lines = image.lines
            hit = lines.find_address(link, statement=True)
            if hit is None or hit.line == 0:
                return None
            span = lines.line_range(link)
            statement = lines.is_statement(link)
        except ImageError:
            return None
        lo, hi = span if span is not None else (hit.address, hit.address + 1)
        bias = obj.bias
        return LineAt((hit.path, hit.line), hit.address + bias, statement, lo + bias, hi + bias)

    def inline_chain(self, pc: int) -> list[InlinedCall]:
        """The inlined calls around `pc`, innermost first (runtime entries)."""
        return self._symbols.inline_chain(self._pid, pc)

    def shown_line(self, pc: int, chain: list[InlinedCall], hidden: int) -> tuple[str, int] | None:
        """The line frame 0 is at when `hidden` inlined calls of `chain` are hidden: the
        call site of the outermost hidden one, else the line of the pc."""
        if hidden > 0:
            call = chain[hidden - 1]
            if call.call_file and call.call_line:
                return call.call_file, call.call_line
        at = self.at(pc)
        return None if at is None else at.key

    def in_plt(self, pc: int) -> bool:
        """Whether `pc` is in a PLT stub."""
        obj = self._symbols.module_at(self._pid, pc)
        image = self._symbols.image(obj) if obj is not None else None
        if obj is None or image is None:
            return False
        try:
            section = image.section_at(pc - obj.bias)
        except ImageError:
            return False
        return section is not None and section.name in _PLT_SECTIONS

    def in_resolver(self, pc: int) -> bool:
        """Whether `pc` is in the loader's lazy-binding trampoline (gdb steps over it)."""
        named = self._symbols.name_at(self._pid, pc)
        return named is not None and "!_dl_runtime_resolve" in named[0]

    def at_function_entry(self, pc: int) -> bool:
        """Whether `pc` is the first instruction of a symbol."""
        named = self._symbols.name_at(self._pid, pc)
        return named is not None and named[1] == 0 and "!" in named[0]

    def symbol_address(self, name: str) -> int | None:
        """The runtime address of a symbol of the process (None: unknown)."""
        try:
            found = self._symbols.lookup(self._pid, name)
        except PydbgError:
            return None
        return None if found is None else found.address

    def code(self, pc: int, size: int) -> bytes:
        """Up to `size` bytes of code at `pc` as the module's file has them (never an
        int3 a breakpoint planted), b"" when unknown."""
        obj = self._symbols.module_at(self._pid, pc)
        image = self._symbols.image(obj) if obj is not None else None
        if obj is None or image is None:
            return b""
        link = pc - obj.bias
        try:
            section = image.section_at(link)
            if section is None or not section.has_file_data:
                return b""
            size = min(size, section.end - link)
            return image.read(section.offset + link - section.addr, size)
        except ImageError:
            return b""

    def after_prologue(self, entry: int, line: LineAt | None = None) -> int:
        """Where gdb 13 on x86-64 puts a function's first stop (a step into it, a
        breakpoint on its opening line), for gcc code: past `endbr64; push %rbp; mov
        %rsp,%rbp` when the function starts so (amd64_analyze_prologue), and then on to
        the end of the line-table row that leaves it in (skip_prologue_sal: the first
        statement after the opening line).  A frameless function (-O2) and assembly
        sources (.S) stop at the entry itself."""
        line = line if line is not None else self.at(entry)
        if line is None or line.key[0].endswith((".S", ".s", ".asm")):
            return entry
        code = self.code(entry, 12)
        at = 4 if code[:4] == b"\xf3\x0f\x1e\xfa" else 0  # endbr64
        if code[at : at + 1] != b"\x55":  # push %rbp
            return entry
        if code[at + 1 : at + 4] not in (b"\x48\x89\xe5", b"\x48\x8b\xec"):  # mov %rsp,%rbp
            return entry  # gdb: frameless all the same
        after = entry + at + 4
        row = self.at(after)
        if row is None or row.row == after:
            return after
        return row.end


def hidden_at(pc: int, chain: list[InlinedCall]) -> int:
    """How many inlined calls of `chain` (innermost first) a stop at `pc` hides: those,
    from the innermost out, whose code starts exactly at pc, at their entry or at one of
    their ranges (gdb's skip_inline_frames)."""
    hidden = 0
    for call in chain:
        if call.entry != pc and pc not in call.starts:
            break
        hidden += 1
    return hidden


def hidden_frames(lines: LineLookup, thread: Thread, pc: int) -> tuple[list[InlinedCall], int]:
    """The inlined calls at the thread's pc and how many of them are hidden: as the last
    line step or a breakpoint on a source line left them (`thread.inline_stop`, while the
    thread is still at that pc: none hidden at a source-line breakpoint, gdb's
    stopped_by_user_bp_inline_frame), else as a stop there hides them (`hidden_at`)."""
    chain = lines.inline_chain(pc)
    stop = thread.inline_stop
    if stop is not None and stop[0] == pc:
        return chain, min(stop[1], len(chain))
    return chain, hidden_at(pc, chain)
