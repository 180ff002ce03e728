"""Scope symbol groups (IDebugSymbolGroup2) and typed values: the variables of the scope
frame and the DWARF types of the modules, for the symbols facet.

`client.symbols.get_scope_symbol_group()` returns a `SymbolGroup` of the scope frame's
parameters and locals (the frame `.frame` chose, else frame 0), in DbgEng's shape:

    group = client.symbols.get_scope_symbol_group()
    for i in range(group.get_number_symbols()):
        print(group.get_symbol_name(i), group.get_symbol_type_name(i),
              group.get_symbol_value_text(i), group.get_symbol_location_text(i))
    group.expand_symbol(0, True)       # members / elements / pointee as entries after it

and, Pythonic, `group.entries()` (SymbolEntry: name, type_name, value_text, location_text,
is_argument, depth, value) and `client.symbols.get_scope_variables()` (name -> typed
`pydbg.dwarf.values.Value`: `int(v)`, `v["member"]`, `v[i]`, `v.deref()`,
`v.to_python()`).  A group is a snapshot: it reads the target when built and when a
value's text or expansion is asked for, and is stale once the targets run.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydbg.dwarf.debug_info import debug_info_for
from pydbg.dwarf.errors import DwarfError
from pydbg.dwarf.frame_variables import FrameSite, FrameVariables, frame_variables
from pydbg.dwarf.tls import executable_tls_offset
from pydbg.dwarf.type_reader import TypeReader
from pydbg.dwarf.types import (
    ArrayType,
    PointerType,
    StructType,
    Type,
    complete,
    strip_typedefs,
    type_name,
)
from pydbg.dwarf.values import Value, format_value
from pydbg.errors import EngineError, PydbgError

if TYPE_CHECKING:
    from pydbg.dwarf.c_expressions import CNames
    from pydbg.dwarf.debug_info import DebugInfo
    from pydbg.elf.image import ElfImage
    from pydbg.engine.rendezvous import LoadedObject
    from pydbg.engine.session import Engine
    from pydbg.engine.targets import Thread

__all__ = [
    "DEBUG_SCOPE_GROUP_ALL",
    "DEBUG_SCOPE_GROUP_ARGUMENTS",
    "DEBUG_SCOPE_GROUP_LOCALS",
    "SymbolEntry",
    "SymbolGroup",
    "SymbolGroupError",
]

DEBUG_SCOPE_GROUP_ARGUMENTS = 0x1
DEBUG_SCOPE_GROUP_LOCALS = 0x2
DEBUG_SCOPE_GROUP_ALL = 0x3

# Type readers by DebugInfo: one per file, sharing its cache of types.
_readers: dict[int, tuple[DebugInfo, TypeReader]] = {}


def type_reader_for(info: DebugInfo) -> TypeReader:
    found = _readers.get(id(info))
    if found is None or found[0] is not info:
        found = _readers[id(info)] = (info, TypeReader(info))
    return found[1]


class SymbolGroupError(EngineError, IndexError):
    """A symbol index the group does not have, or an entry that cannot expand."""


@dataclass
class SymbolEntry:
    """One entry of a symbol group (DEBUG_SYMBOL_PARAMETERS and its texts): depth 0 for
    the variables, deeper for expanded members."""

    name: str
    value: Value
    is_argument: bool = False
    depth: int = 0
    location_text: str = ""
    expanded: bool = False
    error: str = ""

    @property
    def type_name(self) -> str:
        return type_name(self.value.type)

    @property
    def value_text(self) -> str:
        if self.error:
            return f"<error: {self.error}>"
        try:
            return format_value(self.value)
        except DwarfError as exc:
            return f"<error: {exc}>"


class SymbolGroup:
    """IDebugSymbolGroup2 over the variables of one frame (see the module docstring)."""

    def __init__(self, function: str, entries: list[SymbolEntry]) -> None:
        self.function = function
        self._entries = entries

    def entries(self) -> list[SymbolEntry]:
        return list(self._entries)

    def _entry(self, index: int) -> SymbolEntry:
        if not 0 <= index < len(self._entries):
            raise SymbolGroupError(
                f"symbol index {index} out of range (0..{len(self._entries) - 1})"
            )
        return self._entries[index]

    def get_number_symbols(self) -> int:
        """GetNumberSymbols."""
        return len(self._entries)

    def get_symbol_name(self, index: int) -> str:
        """GetSymbolName."""
        return self._entry(index).name

    def get_symbol_type_name(self, index: int) -> str:
        """GetSymbolTypeName."""
        return self._entry(index).type_name

    def get_symbol_value_text(self, index: int) -> str:
        """GetSymbolValueText: the value as gdb prints it."""
        return self._entry(index).value_text

    def get_symbol_location_text(self, index: int) -> str:
        """pydbg: where the value lives (`@0x7ffe...`, `@rdi`, `<optimized out>`)."""
        return self._entry(index).location_text

    def get_symbol_offset(self, index: int) -> int:
        """GetSymbolOffset: the address of a value in memory (SymbolGroupError if the
        value is in a register or computed)."""
        address = self._entry(index).value.address
        if address is None:
            raise SymbolGroupError(f"{self._entry(index).name} is not in memory")
        return address

    def get_symbol_size(self, index: int) -> int:
        """GetSymbolSize."""
        return self._entry(index).value.size

    def get_symbol_value(self, index: int) -> Value:
        """pydbg: the typed value of an entry."""
        return self._entry(index).value

    def expand_symbol(self, index: int, expand: bool = True) -> None:
        """ExpandSymbol: insert (or remove) the children of an entry after it: the members
        of a struct, the elements of an array, what a pointer points to."""
        entry = self._entry(index)
        if not expand:
            end = index + 1
            while end < len(self._entries) and self._entries[end].depth > entry.depth:
                end += 1
            del self._entries[index + 1 : end]
            entry.expanded = False
            return
        if entry.expanded:
            return
        children = _children(entry.value)
        self._entries[index + 1 : index + 1] = [
            SymbolEntry(name, value, depth=entry.depth + 1, location_text=_where(value))
            for name, value in children
        ]
        entry.expanded = True


def _where(value: Value) -> str:
    address = value.address
    return f"@{address:#x}" if address is not None else value.location.describe()


def _children(value: Value) -> list[tuple[str, Value]]:
    t = complete(strip_typedefs(value.type))
    if isinstance(t, StructType):
        return value.fields()
    if isinstance(t, ArrayType):
        return [(f"[{i}]", v) for i, v in enumerate(value)]
    if isinstance(t, PointerType):
        return [("*", value.deref())]
    raise SymbolGroupError(f"a {type_name(value.type)} has no children to expand")


# -- building groups from the engine -----------------------------------------------------------


class _Access:
    def __init__(self, engine: Engine, pid: int) -> None:
        self.engine = engine
        self.pid = pid

    def read_memory(self, address: int, size: int) -> bytes:
        return self.engine.backend.read_memory(self.pid, address, size)

    def symbolize(self, address: int) -> str | None:
        named = self.engine.symbols.name_at(self.pid, address)
        if named is None or "!" not in named[0]:
            return None
        name, displacement = named
        bare = demangle(name.split("!", 1)[1])
        return f"{bare}+{displacement}" if displacement else bare


@functools.lru_cache(maxsize=4096)
def demangle(name: str) -> str:
    """A C++ symbol as gdb shows it in `<...>` (`vtable for shapes::Fancy`), through the
    cxxfilt package (the toolchain's __cxa_demangle); the name as it is when it is not
    mangled or cxxfilt is missing."""
    if not name.startswith("_Z"):
        return name
    try:
        import cxxfilt
    except ImportError:
        return name
    try:
        return str(cxxfilt.demangle(name))
    except Exception:  # cxxfilt.InvalidName and friends: keep the mangled name
        return name


def image_info(image: ElfImage) -> tuple[DebugInfo, TypeReader] | None:
    info = debug_info_for(image)
    if not info.available:
        return None
    return info, type_reader_for(info)


def frame_sites(engine: Engine, thread: Thread, count: int) -> list[FrameSite]:
    """The first `count` frames of a thread (and one more, for entry values)."""
    from pydbg.engine.frames import stack_frames

    pid = thread.process.pid
    regs = engine.backend.get_regs(thread.tid)
    frames = stack_frames(engine, thread, count + 1)
    sites = []
    registers: dict[str, int] = {}
    for frame in frames:
        # gdb's rule for registers the CFI does not mention (DWARF's "unspecified"): the
        # caller's value is the callee's ("same value"), so a variable in a caller-saved
        # register of a caller shows what the register holds now, as gdb shows it.
        registers = {**registers, **frame.registers}
        if frame.number == 0:
            fpregs = engine.backend.get_fpregs(thread.tid)
            registers.update({f"xmm{i}": fpregs.xmm(i) for i in range(16)})
        obj = engine.symbols.module_at(pid, frame.lookup_pc)
        image = engine.symbols.image(obj) if obj is not None else None
        tls_block = None
        if obj is not None and image is not None:
            tls_block = module_tls_block(engine, thread, obj, image, regs.fs_base)
        sites.append(
            FrameSite(
                number=frame.number,
                pc=frame.pc,
                lookup_pc=frame.lookup_pc,
                cfa=frame.frame_offset,
                registers=registers,
                load=functools.partial(image_info, image) if image is not None else None,
                bias=obj.bias if obj is not None else 0,
                tls_block=tls_block,
            )
        )
    return sites


# Callers unwound beyond the scope frame: entry values chain through recursive calls
# (each call site passes `n - 1` of its own entry value).
ENTRY_VALUE_DEPTH = 16


def scope_variables(
    engine: Engine, thread: Thread, index: int, inline_depth: int = 0
) -> FrameVariables:
    """The variables of physical frame `index`, of its function `inline_depth` inlined
    functions out from the innermost at its pc (pydbg.dwarf.scopes.find_scope)."""
    sites = frame_sites(engine, thread, index + ENTRY_VALUE_DEPTH)
    if index >= len(sites):
        raise DwarfError(f"frame {index} is beyond the stack")
    if inline_depth:
        sites[index] = dataclasses.replace(sites[index], inline_depth=inline_depth)
    return frame_variables(sites, index, _Access(engine, thread.process.pid))


# glibc's descriptors for libthread_db (nptl_db/structs.def), exported in libc's .dynsym:
# each is {size in bits, element count, offset} of a field of its private structures.
_TLS_DESCRIPTORS = (
    "_thread_db_link_map_l_tls_modid",  # the module's TLS id in its link_map
    "_thread_db_pthread_dtvp",  # the DTV pointer in the thread's descriptor (at fs_base)
    "_thread_db_dtv_dtv",  # the DTV's elements (their size)
    "_thread_db_dtv_t_pointer_val",  # a DTV element's block address
)


def module_tls_block(
    engine: Engine, thread: Thread, obj: LoadedObject, image: ElfImage, fs_base: int
) -> int | None:
    """Where a module's TLS block is in a thread: for the executable, just below the
    thread pointer (pydbg.dwarf.tls); for a shared library, its thread's DTV entry,
    found as libthread_db finds it, through glibc's exported descriptors of its private
    structures (the module's TLS id in its link_map, the DTV at the thread pointer).
    None when not known (no TLS, no glibc descriptors, a block not yet allocated)."""
    if obj.is_main:
        offset = executable_tls_offset(image)
        return None if offset is None else fs_base - offset
    if not obj.link_map or executable_tls_offset(image) is None:
        return None
    pid = thread.process.pid
    read = engine.backend.read_memory
    try:
        fields = []
        for name in _TLS_DESCRIPTORS:
            found = engine.symbols.lookup(pid, name)
            if found is None:
                return None
            fields.append(struct.unpack("<III", read(pid, found.address, 12)))
        (_, _, modid_at), (_, _, dtv_at), (element_bits, _, _), (_, _, val_at) = fields
        modid = int.from_bytes(read(pid, obj.link_map + modid_at, 8), "little")
        dtv = int.from_bytes(read(pid, fs_base + dtv_at, 8), "little")
        if not modid or not dtv:
            return None
        entry = dtv + modid * (element_bits // 8)
        block = int.from_bytes(read(pid, entry + val_at, 8), "little")
    except PydbgError:  # unreadable memory, an ambiguous name: not known
        return None
    return None if block in (0, (1 << 64) - 1) else block  # -1: TLS_DTV_UNALLOCATED


def scope_group(
    engine: Engine, thread: Thread, index: int, flags: int, inline_depth: int = 0
) -> SymbolGroup:
    found = scope_variables(engine, thread, index, inline_depth)
    entries = []
    for var in found.variables:
        wanted = DEBUG_SCOPE_GROUP_ARGUMENTS if var.is_parameter else DEBUG_SCOPE_GROUP_LOCALS
        if flags & wanted:
            entries.append(
                SymbolEntry(
                    var.name,
                    var.value,
                    is_argument=var.is_parameter,
                    location_text=var.location_text,
                    error=var.error,
                )
            )
    return SymbolGroup(found.function, entries)


def access(engine: Engine, pid: int) -> _Access:
    return _Access(engine, pid)


def global_value(engine: Engine, thread: Thread, name: str) -> Value | None:
    """A global variable by name (`name` or `module!name`), main image first."""
    from pydbg.dwarf.frame_variables import global_variable

    pid = thread.process.pid
    module, bang, bare = name.rpartition("!")
    objects = sorted(engine.symbols.modules(pid), key=lambda o: not o.is_main)
    if bang:
        objects = [o for o in objects if o.module_name.lower() == module.lower()]
    for obj in objects:
        image = engine.symbols.image(obj)
        found = image_info(image) if image is not None else None
        if found is None or image is None:
            continue
        info, types = found
        die = info.find_variable_die(bare)
        if die is None:
            continue
        fs_base = engine.backend.get_regs(thread.tid).fs_base
        tls_block = module_tls_block(engine, thread, obj, image, fs_base)
        return global_variable(info, types, die, obj.bias, _Access(engine, pid), tls_block).value
    return None


def find_type(engine: Engine, pid: int, name: str) -> tuple[object, TypeReader, object] | None:
    """(module, reader, Type) of a type by name (`struct node`, `mod!node_t`)."""
    module, bang, bare = name.rpartition("!")
    objects = sorted(engine.symbols.modules(pid), key=lambda o: not o.is_main)
    if bang:
        objects = [o for o in objects if o.module_name.lower() == module.lower()]
    for obj in objects:
        image = engine.symbols.image(obj)
        found = image_info(image) if image is not None else None
        if found is None:
            continue
        info, types = found
        with info.lock():
            die = info.find_type_die(bare.strip())
            if die is not None:
                return obj, types, types.read(die)
    return None


def c_names(engine: Engine, thread: Thread, index: int, inline_depth: int = 0) -> CNames:
    """How a C expression's names resolve in the scope frame: its variables (the
    innermost of a name), then globals; types from the modules' DWARF."""
    from pydbg.dwarf.c_expressions import CNames
    from pydbg.dwarf.values import ValueReader

    pid = thread.process.pid
    target = _Access(engine, pid)
    try:
        scope: FrameVariables | None = scope_variables(engine, thread, index, inline_depth)
    except DwarfError:
        scope = None
    types: dict[str, object] = {}

    def variable(name: str) -> Value | None:
        if scope is not None and "!" not in name:
            found = scope.named(name)
            if found is not None:
                return found.value
        return global_value(engine, thread, name)

    def type_named(name: str) -> Type | None:
        if name not in types:
            found = find_type(engine, pid, name)
            types[name] = found[2] if found is not None else None
        t = types[name]
        return t if isinstance(t, Type) else None

    reader = ValueReader(read_memory=target.read_memory, symbolize=target.symbolize)
    return CNames(variable, type_named, reader)


def return_type(engine: Engine, pid: int, offset: int) -> Type | None:
    """The DWARF return type of the function holding `offset` (VoidType for void), or
    None where no DWARF describes a function there (or the scope is an inlined one:
    returning from it is not a return)."""
    from pydbg.dwarf.scopes import attribute_die, find_scope
    from pydbg.dwarf.types import VoidType

    obj = engine.symbols.module_at(pid, offset)
    image = engine.symbols.image(obj) if obj is not None else None
    found = image_info(image) if image is not None else None
    if obj is None or found is None:
        return None
    info, types = found
    scope = find_scope(info, offset - obj.bias)
    if scope is None or scope.function.tag != "DW_TAG_subprogram":
        return None
    with info.lock():
        carrier = attribute_die(scope.function, "DW_AT_type")
        if carrier is None:
            return VoidType()
        return types.read(carrier.get_DIE_from_attribute("DW_AT_type"))


def return_value(engine: Engine, thread: Thread, type_: Type) -> Value | None:
    """A value of `type_` where the SysV ABI leaves it right after a return, in `thread`
    (pydbg.dwarf.return_values); None for void."""
    from pydbg.dwarf.return_values import ReturnRegisters, return_location
    from pydbg.dwarf.values import ValueReader

    backend = engine.backend
    regs = backend.get_regs(thread.tid)
    fpregs = backend.get_fpregs(thread.tid)
    registers = ReturnRegisters(
        rax=regs.rax,
        rdx=regs.rdx,
        xmm0=fpregs.xmm(0),
        xmm1=fpregs.xmm(1),
        st0=bytes(fpregs.raw[32:42]),  # FXSAVE: ST0 first of the x87 registers, at 32
    )
    location = return_location(type_, registers)
    if location is None:
        return None
    target = _Access(engine, thread.process.pid)
    reader = ValueReader(read_memory=target.read_memory, symbolize=target.symbolize)
    return Value(type_, location, reader)
