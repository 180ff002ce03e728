"""The symbols facet (IDebugSymbols): modules, symbol names, source lines.

Modules are what the dynamic loader has loaded (pydbg.engine.modules: the main image, the
loader, the vDSO and every shared library), each with its base (lowest mapped address),
size, path, WinDbg-style name (`libc.so.6` -> `libc_so`, spec §9.5) and build id.
Symbols come from each module's file (.symtab, .dynsym, PLT stubs, a separate debug file
found by build id or .gnu_debuglink) and are named `module!name`; lines from DWARF line
tables.  Everything is about the current process; addresses are runtime addresses.

The scope (IDebugSymbols::GetScope / SetScopeFrameByIndex / ResetScope, cdb's `.frame`)
is one frame of the current thread's stack; the registers facet reads a frame's registers
from it (DEBUG_REGSRC_FRAME).  As in DbgEng it is the engine's, shared by its clients, and
falls back to frame 0 when the current thread changes or the targets run: a scope is kept
only while the current thread, the last event and the thread's registers are the ones it
was set with.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.control import StackFrame, stack_trace, stack_trace_ex
from pydbg.dwarf.types import Type as TypeBase
from pydbg.elf.errors import ImageError
from pydbg.engine.source_lines import LineLookup, hidden_frames
from pydbg.engine.symbolizer import split_module
from pydbg.errors import (
    EngineError,
    NoCodeAtLineError,
    SymbolError,
    UnknownSourceFileError,
    UnknownSymbolError,
)

if TYPE_CHECKING:
    from pydbg.dwarf.frame_variables import FrameVariables
    from pydbg.dwarf.types import Type
    from pydbg.dwarf.values import Value
    from pydbg.engine.rendezvous import LoadedObject
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Thread
    from pydbg.symbol_group import SymbolGroup

__all__ = [
    "Module",
    "ScopeError",
    "Symbols",
    "SymbolError",
    "UnknownModuleError",
    "UnknownModuleSymbolError",
]


class UnknownModuleError(EngineError, LookupError):
    """No module has this name, index or address."""


class UnknownModuleSymbolError(UnknownModuleError, UnknownSymbolError):
    """`module!name` where no module of that name is loaded: an unknown module, and so an
    unknown symbol (which a later module load may define)."""


class ScopeError(EngineError, IndexError):
    """A scope frame the current thread's stack does not have (`.frame 99`)."""


@dataclass(frozen=True)
class _Scope:
    """A scope set by set_scope_frame_by_index, and what it is valid for."""

    key: tuple[object, ...]
    index: int  # the physical frame (get_stack_trace's number)
    ex_index: int = 0  # the frame in get_stack_trace_ex (inline frames counted)
    inline_depth: int = 0  # which function at its pc (StackFrame.inline_depth)


# engine -> the source search path (.srcpath), shared by its clients as in DbgEng.
_SOURCE_PATHS: weakref.WeakKeyDictionary[Engine, list[str]] = weakref.WeakKeyDictionary()

# engine -> its scope (the engine is the session: every client sees one scope).
_SCOPES: weakref.WeakKeyDictionary[Engine, _Scope] = weakref.WeakKeyDictionary()


def reset_scope(engine: Engine) -> None:
    """The engine's scope back to frame 0 (the current thread changed)."""
    _SCOPES.pop(engine, None)


@dataclass(frozen=True)
class Module:
    """DEBUG_MODULE_PARAMETERS, the parts Linux has, and the build id."""

    base: int
    size: int
    module_name: str
    image_name: str
    build_id: str | None = None
    bias: int = 0  # what link-time addresses of the file add up with at runtime


def _module(obj: LoadedObject) -> Module:
    return Module(obj.base, obj.size, obj.module_name, obj.path, obj.build_id, obj.bias)


class Symbols:
    """client.symbols."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _pid(self, what: str) -> int:
        return self._engine.require_stopped(what).process.pid

    # -- modules --------------------------------------------------------------------------------

    def modules(self) -> list[Module]:
        """Every module of the current process, by base address."""
        pid = self._pid("modules")
        objects = self._engine.symbols.modules(pid)
        return sorted((_module(o) for o in objects if o.size), key=lambda m: m.base)

    def get_number_modules(self) -> tuple[int, int]:
        """(loaded, unloaded) module counts; unloaded modules are not kept."""
        return len(self.modules()), 0

    def get_module_by_index(self, index: int) -> int:
        modules = self.modules()
        if not 0 <= index < len(modules):
            raise UnknownModuleError(f"module index {index} out of range (0..{len(modules) - 1})")
        return modules[index].base

    def get_module_by_module_name(self, name: str, start_index: int = 0) -> tuple[int, int]:
        """(index, base) of the first module from `start_index` with this name."""
        for index, module in enumerate(self.modules()):
            if index >= start_index and module.module_name.lower() == name.lower():
                return index, module.base
        known = ", ".join(m.module_name for m in self.modules())
        raise UnknownModuleError(f"no module is named {name!r} (modules: {known})")

    def get_module_by_offset(self, offset: int, start_index: int = 0) -> tuple[int, int]:
        """(index, base) of the module whose mapped range contains `offset`."""
        for index, module in enumerate(self.modules()):
            if index >= start_index and module.base <= offset < module.base + module.size:
                return index, module.base
        raise UnknownModuleError(f"no module contains address {offset:#x}")

    def get_module_parameters(self, bases: list[int]) -> list[Module]:
        by_base = {m.base: m for m in self.modules()}
        try:
            return [by_base[base] for base in bases]
        except KeyError as exc:
            raise UnknownModuleError(f"no module has base {exc.args[0]:#x}") from None

    # -- symbols --------------------------------------------------------------------------------

    def get_offset_by_name(self, name: str) -> int:
        """GetOffsetByName: the address of `module!name` or a bare `name`.  Raises
        UnknownSymbolError if nothing has the name, AmbiguousSymbolError for a bare name
        several modules define, UnknownModuleError for `module!name` of no loaded module.
        The targets need not be stopped: a lookup reads the module lists and their files,
        not the process."""
        self._engine.check_thread("get_offset_by_name")
        pid = self._engine.current_process("get_offset_by_name").pid
        found = self._engine.symbols.lookup(pid, name)
        if found is None:
            module, _ = split_module(name)
            if module and self._engine.symbols.module_named(pid, module) is None:
                raise UnknownModuleSymbolError(name, f"no module is named {module!r}")
            raise UnknownSymbolError(name, f"no symbol is named {name!r}")
        return found.address

    def get_symbol_entries_by_name(self, name: str) -> list[tuple[str, int]]:
        """GetSymbolEntriesByName: (`module!name` as shown, address) of every location a
        name has -- each overload of a C++ function name (`ns::K::f`), each static function
        of that name -- one per address; the main image's alone when it has the name.
        Raises UnknownSymbolError (UnknownModuleSymbolError) as get_offset_by_name."""
        self._engine.check_thread("get_symbol_entries_by_name")
        pid = self._engine.current_process("get_symbol_entries_by_name").pid
        found = self._engine.symbols.lookup_all(pid, name)
        if not found:
            module, _ = split_module(name)
            if module and self._engine.symbols.module_named(pid, module) is None:
                raise UnknownModuleSymbolError(name, f"no module is named {module!r}")
            raise UnknownSymbolError(name, f"no symbol is named {name!r}")
        return [(hit.qualified, hit.address) for hit in found]

    def get_name_by_offset(self, offset: int) -> tuple[str, int]:
        """GetNameByOffset: (`module!name`, displacement) of the symbol at or before the
        address, or (`module`, offset) where the module has no symbol there."""
        pid = self._pid("get_name_by_offset")
        named = self._engine.symbols.name_at(pid, offset)
        if named is None:
            raise SymbolError(f"address {offset:#x} is in no module")
        return named

    def get_symbols_matching(self, pattern: str) -> list[tuple[str, int]]:
        """(`module!name`, address) of every symbol matching `module!pattern` (pydbg; the
        `x` command)."""
        pid = self._pid("get_symbols_matching")
        return [(hit.qualified, hit.address) for hit in self._engine.symbols.match(pid, pattern)]

    def get_inlined_calls(self, offset: int) -> list[tuple[str, str]]:
        """The calls the compiler inlined at an address, innermost first: (`module!name`
        of the inlined function, `file:line` it was called from), from DWARF (pydbg; what
        `k` shows as inline frames).  Empty where nothing is inlined or there is no
        DWARF.  For a caller's frame, ask about its `lookup_offset`."""
        pid = self._pid("get_inlined_calls")
        return [
            (name, f"{file}:{line}" if file and line else "")
            for name, file, line in self._engine.symbols.inlined_at(pid, offset)
        ]

    # -- lines ----------------------------------------------------------------------------------

    def get_line_by_offset(self, offset: int, *, statement: bool = False) -> tuple[int, str, int]:
        """GetLineByOffset: (line, file, displacement of offset from the line's start).
        Of several line-table rows at one address this is the last, as addr2line says;
        `statement=True` (pydbg) prefers the last is_stmt one, as gdb shows a stop."""
        pid = self._pid("get_line_by_offset")
        if statement:
            obj = self._engine.symbols.module_at(pid, offset)
            image = self._engine.symbols.image(obj) if obj is not None else None
            row = None
            if obj is not None and image is not None:
                try:
                    row = image.lines.find_address(offset - obj.bias, statement=True)
                except ImageError:
                    row = None
            if obj is None or row is None or row.line == 0:
                raise SymbolError(f"no line information for address {offset:#x}")
            return row.line, row.path, offset - obj.bias - row.address
        found = self._engine.symbols.line_at(pid, offset)
        if found is None:
            raise SymbolError(f"no line information for address {offset:#x}")
        file, line, displacement = found
        return line, file, displacement

    def get_stop_line(self) -> tuple[int, str]:
        """pydbg: (line, file) where frame 0 of the current thread is, as gdb shows a
        stop: an inlined call whose code starts exactly at the pc is not entered yet (the
        stop is at its call site) unless a line step (`t`) entered it; else the line of
        the pc, as `get_line_by_offset(pc, statement=True)`.  Raises SymbolError where
        there is no line information."""
        thread = self._engine.require_stopped("get_stop_line")
        pc = self._engine.backend.get_pc(thread.tid)
        lookup = LineLookup(self._engine.symbols, thread.process.pid)
        chain, hidden = hidden_frames(lookup, thread, pc)
        if hidden:
            shown = lookup.shown_line(pc, chain, hidden)
            if shown is not None:
                return shown[1], shown[0]
        line, file, _ = self.get_line_by_offset(pc, statement=True)
        return line, file

    def get_offset_by_line(self, line: int, file: str) -> int:
        """GetOffsetByLine: the first address of a source line (file by path or name)."""
        pid = self._pid("get_offset_by_line")
        addresses = self._engine.symbols.addresses_of_line(pid, file, line)
        if not addresses:
            raise SymbolError(f"no code for {file}:{line}")
        return addresses[0]

    def resolve_source_line(self, spec: str) -> tuple[str, int, list[int]]:
        """Where a breakpoint on `[module!]file:line` goes, as gdb's `break file:line`
        places it: (file path, line, addresses).  `file` matches by base name or path
        tail; a line without code moves to the next line that has some; a line with code
        in several places keeps, per function, the lowest address (a `for` line's
        condition code at the loop's end is not a second location).

        Raises UnknownSourceFileError when no loaded module has lines of the file,
        NoCodeAtLineError past its last line with code, SymbolError for bad syntax."""
        self._engine.check_thread("resolve_source_line")
        pid = self._engine.current_process("resolve_source_line").pid
        module, bang, rest = spec.rpartition("!")
        file, colon, number = rest.rpartition(":")
        if not colon or not file or not number.strip().isdigit():
            raise SymbolError(f"{spec!r} is not file:line")
        line = int(number)
        symbolizer = self._engine.symbols
        objects = list(symbolizer.modules(pid))
        if bang:
            named = symbolizer.module_named(pid, module)
            if named is None:
                raise UnknownModuleSymbolError(spec, f"no module is named {module!r}")
            objects = [named]
        rows: list[tuple[str, int, int]] = []
        for obj in objects:
            image = symbolizer.image(obj)
            if image is None:
                continue
            try:
                found = image.lines.line_rows(file)
            except ImageError:
                continue
            rows.extend((path, n, addr + obj.bias) for path, n, addr, stmt in found if stmt)
        if not rows:
            raise UnknownSourceFileError(spec, f"no loaded module has line info for {file!r}")
        after = [row for row in rows if row[1] >= line]
        if not after:
            last = max(row[1] for row in rows)
            raise NoCodeAtLineError(
                f"{file} has no code at or after line {line} (its last line with code is {last})"
            )
        best = min(row[1] for row in after)
        places: dict[str, tuple[str, int]] = {}
        for path, n, addr in after:
            if n != best:
                continue
            function = symbolizer.name_at(pid, addr)
            key = function[0] if function is not None else f"{addr:#x}"
            if key not in places or addr < places[key][1]:
                places[key] = (path, addr)
        paths = sorted({path for path, _ in places.values()})
        addresses = sorted(addr for _, addr in places.values())
        if len(addresses) == 1:
            # A function's opening line: past its prologue, as gdb (skip_prologue_sal).
            function = symbolizer.name_at(pid, addresses[0])
            if function is not None and function[1] == 0:
                lookup = LineLookup(symbolizer, pid)
                moved = lookup.after_prologue(addresses[0])
                at = lookup.at(moved)
                if moved != addresses[0] and at is not None:
                    return at.key[0], at.key[1], [moved]
        return paths[0], best, addresses

    def get_line_range(self, offset: int) -> tuple[int, int] | None:
        """[start, end) of the code of the source line at `offset` around it (one
        contiguous run of its line-table rows), or None without line info."""
        pid = self._pid("get_line_range")
        obj = self._engine.symbols.module_at(pid, offset)
        image = self._engine.symbols.image(obj) if obj is not None else None
        if obj is None or image is None:
            return None
        try:
            found = image.lines.line_range(offset - obj.bias)
        except ImageError:
            return None
        return None if found is None else (found[0] + obj.bias, found[1] + obj.bias)

    # -- source files -------------------------------------------------------------------------

    def get_source_path(self) -> str:
        """GetSourcePath: the directories searched for source files, `;`-separated."""
        return ";".join(_SOURCE_PATHS.get(self._engine, []))

    def set_source_path(self, path: str) -> None:
        """SetSourcePath: replace the search path (`;`-separated directories)."""
        _SOURCE_PATHS[self._engine] = [d for d in path.split(";") if d.strip()]

    def append_source_path(self, addition: str) -> None:
        """AppendSourcePath: add directories at the end of the search path."""
        dirs = _SOURCE_PATHS.setdefault(self._engine, [])
        dirs.extend(d for d in addition.split(";") if d.strip() and d not in dirs)

    def find_source_file(self, path: str) -> str | None:
        """FindSourceFile: the local file for a path the line tables name, or None.

        Rules, in order: each source-path directory joined with the path (a relative
        path, as glibc's "malloc/malloc.c"), then with the path's tails (an absolute
        path from another machine: /build/x/src/a.c tried as DIR/x/src/a.c, DIR/src/a.c,
        DIR/a.c); then the path itself (DWARF paths are already joined with the unit's
        DW_AT_comp_dir), relative ones from the current directory."""
        parts = [p for p in path.split("/") if p and p != "."]
        for directory in _SOURCE_PATHS.get(self._engine, []):
            for start in range(len(parts)):
                candidate = os.path.join(directory, *parts[start:])
                if os.path.isfile(candidate):
                    return candidate
        return path if os.path.isfile(path) else None

    # -- scope ----------------------------------------------------------------------------------

    def _scope_key(self, thread: Thread) -> tuple[object, ...]:
        regs = self._engine.backend.get_regs(thread.tid).as_dict()
        return (thread, self._engine.last_event, tuple(sorted(regs.items())))

    def get_current_scope_frame_index(self) -> int:
        """GetCurrentScopeFrameIndex: the frame number of the scope (0 unless `.frame`
        chose another frame since the targets last ran or the thread changed)."""
        thread = self._engine.require_stopped("get_current_scope_frame_index")
        scope = _SCOPES.get(self._engine)
        if scope is None or scope.key != self._scope_key(thread):
            _SCOPES.pop(self._engine, None)
            return 0
        return scope.index

    def set_scope_frame_by_index(self, index: int) -> StackFrame:
        """SetScopeFrameByIndex: make frame `index` of the current thread's stack (as `kn`
        numbers them) the scope, and return it.  Raises ScopeError beyond the stack; the
        previous scope is then kept."""
        thread = self._engine.require_stopped("set_scope_frame_by_index")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ScopeError(f"a frame number is an int >= 0, not {index!r}")
        frames = stack_trace(self._engine, thread, index + 1)
        if index >= len(frames):
            raise ScopeError(
                f"frame {index:#x} is beyond the stack: thread {thread.engine_id} has "
                f"{len(frames):#x} frames (0..{len(frames) - 1:#x}); the scope is unchanged"
            )
        if index == 0:
            _SCOPES.pop(self._engine, None)
        else:
            # The physical function's frame among the inline ones (get_stack_trace_ex).
            ex = stack_trace_ex(self._engine, thread, 0x10000)
            at = next(
                (f for f in ex if f.physical_number == index and not f.inline),
                None,
            )
            ex_index = at.frame_number if at is not None else index
            depth = at.inline_depth if at is not None else 0
            _SCOPES[self._engine] = _Scope(self._scope_key(thread), index, ex_index, depth)
        return frames[index]

    def get_current_scope_frame_index_ex(self) -> int:
        """GetCurrentScopeFrameIndexEx: the scope frame's number in get_stack_trace_ex
        (inline frames counted; 0 unless `.frame` chose another)."""
        thread = self._engine.require_stopped("get_current_scope_frame_index_ex")
        scope = _SCOPES.get(self._engine)
        if scope is None or scope.key != self._scope_key(thread):
            _SCOPES.pop(self._engine, None)
            return 0
        return scope.ex_index

    def set_scope_frame_by_index_ex(self, index: int) -> StackFrame:
        """SetScopeFrameByIndexEx: make frame `index` of get_stack_trace_ex (inline frames
        counted, as `kn` numbers them) the scope, and return it: an inline frame's scope
        is the inlined function (its parameters and locals), the registers those of the
        physical frame holding it.  Raises ScopeError beyond the stack."""
        thread = self._engine.require_stopped("set_scope_frame_by_index_ex")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ScopeError(f"a frame number is an int >= 0, not {index!r}")
        frames = stack_trace_ex(self._engine, thread, index + 1)
        if index >= len(frames):
            raise ScopeError(
                f"frame {index:#x} is beyond the stack: thread {thread.engine_id} has "
                f"{len(frames):#x} frames (0..{len(frames) - 1:#x}); the scope is unchanged"
            )
        frame = frames[index]
        if index == 0:
            _SCOPES.pop(self._engine, None)
        else:
            key = self._scope_key(thread)
            _SCOPES[self._engine] = _Scope(key, frame.physical_number, index, frame.inline_depth)
        return frame

    def _scope_inline_depth(self, thread: Thread) -> int:
        """Which function at the scope frame's pc is the scope's (StackFrame.inline_depth):
        as `.frame` chose, else frame 0's (the innermost inlined function not hidden)."""
        scope = _SCOPES.get(self._engine)
        if scope is not None and scope.key == self._scope_key(thread):
            return scope.inline_depth
        frames = stack_trace_ex(self._engine, thread, 1)
        return frames[0].inline_depth if frames else 0

    def reset_scope(self) -> None:
        """ResetScope: the scope is frame 0 of the current thread again."""
        reset_scope(self._engine)

    def get_scope_frame(self) -> StackFrame:
        """The scope's frame (GetScope's ScopeFrame): its registers are what the
        registers facet reads with DEBUG_REGSRC_FRAME."""
        thread = self._engine.require_stopped("get_scope_frame")
        index = self.get_current_scope_frame_index()
        frames = stack_trace(self._engine, thread, index + 1)
        return frames[min(index, len(frames) - 1)]

    def get_scope(self) -> tuple[int, StackFrame]:
        """GetScope: (the scope's instruction offset, its frame)."""
        frame = self.get_scope_frame()
        return frame.instruction_offset, frame

    # -- variables and types (DWARF) ----------------------------------------------------------

    def get_scope_symbol_group(self, flags: int = 0x3) -> SymbolGroup:
        """GetScopeSymbolGroup2: the parameters (flags & DEBUG_SCOPE_GROUP_ARGUMENTS) and
        locals (DEBUG_SCOPE_GROUP_LOCALS) of the scope frame, as a SymbolGroup
        (pydbg.symbol_group).  Raises DwarfError where the frame's code has no DWARF."""
        from pydbg.symbol_group import scope_group

        thread = self._engine.require_stopped("get_scope_symbol_group")
        return scope_group(
            self._engine,
            thread,
            self.get_current_scope_frame_index(),
            flags,
            self._scope_inline_depth(thread),
        )

    def get_scope_variables(self) -> FrameVariables:
        """pydbg: the scope frame's variables (pydbg.dwarf.frame_variables.FrameVariables:
        `function`, and `variables`, each with name, is_parameter, type, location and the
        typed `value`)."""
        from pydbg.symbol_group import scope_variables

        thread = self._engine.require_stopped("get_scope_variables")
        return scope_variables(
            self._engine,
            thread,
            self.get_current_scope_frame_index(),
            self._scope_inline_depth(thread),
        )

    def get_variable_value(self, name: str) -> Value:
        """pydbg: the typed value of a variable by name: a parameter or local of the scope
        frame (the innermost one of that name), else a global (`name` or `module!name`).
        Raises UnknownVariableError if none has the name."""
        from pydbg.dwarf.errors import DwarfError, UnknownVariableError
        from pydbg.symbol_group import global_value, scope_variables

        thread = self._engine.require_stopped("get_variable_value")
        if "!" not in name:
            try:
                found = scope_variables(
                    self._engine,
                    thread,
                    self.get_current_scope_frame_index(),
                    self._scope_inline_depth(thread),
                ).named(name)
            except DwarfError:
                found = None
            if found is not None:
                return found.value
        value = global_value(self._engine, thread, name)
        if value is None:
            raise UnknownVariableError(f"no variable named {name!r} in scope or global")
        return value

    def get_type_by_name(self, name: str) -> Type:
        """pydbg (GetTypeId's role): a DWARF type by name (`struct node`, `node_t`,
        `module!name`), from the main image first.  Raises UnknownTypeError."""
        from pydbg.dwarf.errors import UnknownTypeError
        from pydbg.symbol_group import find_type

        pid = self._pid("get_type_by_name")
        found = find_type(self._engine, pid, name)
        if found is None:
            raise UnknownTypeError(f"no type named {name!r} in the modules' debug information")
        t = found[2]
        assert isinstance(t, TypeBase)
        return t

    def get_typed_value(self, type_: Type, address: int) -> Value:
        """pydbg: the object of a type at an address in the current process."""
        from pydbg.dwarf.locations import Location, Piece
        from pydbg.dwarf.values import Value, ValueReader
        from pydbg.symbol_group import access

        pid = self._pid("get_typed_value")
        target = access(self._engine, pid)

        reader = ValueReader(read_memory=target.read_memory, symbolize=target.symbolize)
        return Value(type_, Location([Piece("memory", address=address)]), reader)

    def get_return_type(self, offset: int) -> Type | None:
        """pydbg: the DWARF return type of the function whose code holds `offset` (a
        VoidType for a void function), or None where no DWARF describes one (or the code
        is an inlined function's).  `gu` reads it before it runs."""
        from pydbg.symbol_group import return_type

        return return_type(self._engine, self._pid("get_return_type"), offset)

    def get_return_value(self, type_: Type) -> Value | None:
        """pydbg (gdb's `finish`): the value a function of return type `type_` returned,
        read where the System V ABI leaves it, in the current thread right after the
        return (rax, rdx, xmm0, xmm1, st0, or memory at rax for large structs:
        pydbg.dwarf.return_values).  None for void; DwarfError for a type whose
        convention pydbg does not know."""
        from pydbg.symbol_group import return_value

        thread = self._engine.require_stopped("get_return_value")
        return return_value(self._engine, thread, type_)

    def evaluate_c_expression(self, text: str, *, frame_index: int | None = None) -> Value:
        """pydbg (IDebugControl::Evaluate with the C++ syntax, cdb's `??`): the typed value
        of a C expression over the scope frame's variables, globals and DWARF types
        (pydbg.dwarf.c_expressions: members, `->`, `[]`, `*`, `&`, casts, sizeof,
        arithmetic with C's promotions).  Raises ExpressionSyntaxError for text that is
        not C, DwarfError for what cannot be evaluated (an unknown name, `*` of an int).
        `frame_index` evaluates in that frame of the current thread instead of the scope
        (a breakpoint condition: frame 0 of the thread that hit)."""
        from pydbg.dwarf.c_expressions import evaluate_c
        from pydbg.symbol_group import c_names

        thread = self._engine.require_stopped("evaluate_c_expression")
        if frame_index is None:
            frame_index = self.get_current_scope_frame_index()
            inline_depth = self._scope_inline_depth(thread)
        else:  # frame 0's innermost function not hidden, as the stop shows it
            frames = stack_trace_ex(self._engine, thread, 1) if frame_index == 0 else []
            inline_depth = frames[0].inline_depth if frames else 0
        names = c_names(self._engine, thread, frame_index, inline_depth)
        return evaluate_c(text, names)
