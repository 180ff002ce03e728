"""Variables of a frame: the parameters and locals in scope at a frame's pc, each with its
type, location and value (gdb's `info args` + `info locals`; DbgEng's scope symbol group).

Pure Python over a `FrameSite` per frame (what the unwinder found: pc, CFA, the registers
it recovered) and a `TargetAccess` (memory, symbols), so that the symbols facet feeds it
from a live process and tests from anything.  Per frame:

* registers a frame does not know (caller-saved ones in callers) make the variables that
  live in them `<optimized out>`, as gdb says it;
* DW_AT_frame_base is evaluated lazily (usually DW_OP_call_frame_cfa: the unwinder's CFA);
* DW_OP_entry_value(reg) is the value the caller passed: the call site in the caller's
  function that returns to this frame's return address names, for that register, an
  expression (DW_AT_call_value) evaluated in the caller's frame;
* thread-local variables (DW_OP_form_tls_address) are at the module's TLS block in the
  thread (`FrameSite.tls_block`: the executable's sits just below the thread pointer,
  x86_64 TLS variant II; a shared library's is its DTV entry, which pydbg.symbol_group
  finds through glibc's libthread_db descriptors); where the block is not known they
  print `<TLS unavailable>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydbg.dwarf.debug_info import DebugInfo, unit_base
from pydbg.dwarf.errors import DwarfError, LocationError
from pydbg.dwarf.locations import (
    REGISTER_NAMES,
    FrameContext,
    Location,
    Piece,
    evaluate,
    evaluate_value,
    select_from_list,
)
from pydbg.dwarf.scopes import (
    Scope,
    attribute,
    attribute_die,
    find_call_site,
    find_scope,
)
from pydbg.dwarf.scopes import full_name as full_name_of
from pydbg.dwarf.type_reader import TypeReader
from pydbg.dwarf.types import Member, Type, VoidType, type_name
from pydbg.dwarf.values import Value, ValueReader, format_value

__all__ = [
    "FrameSite",
    "FrameVariables",
    "TargetAccess",
    "Variable",
    "frame_variables",
    "global_variable",
]


class TargetAccess(Protocol):
    """What values need of the target process."""

    def read_memory(self, address: int, size: int) -> bytes: ...

    def symbolize(self, address: int) -> str | None: ...


@dataclass(frozen=True)
class FrameSite:
    """One frame of a stack.  pc: the frame's pc (a return address for callers);
    lookup_pc: the pc to find its scope with (pc - 1 for return addresses); cfa: the
    unwinder's canonical frame address; registers: what the unwinder knows in this frame,
    by name (xmm0..15 too in frame 0); info/types: the DWARF of the module holding the pc
    (None without), or `load` to open it on demand; bias: its load bias; tls_block: the
    address of the module's static TLS block in the thread, None when unknown;
    inline_depth: which function at lookup_pc is the frame's, counted out from the
    innermost inlined one (pydbg.dwarf.scopes.find_scope)."""

    number: int
    pc: int
    lookup_pc: int
    cfa: int | None
    registers: Mapping[str, int]
    info: DebugInfo | None = None
    types: TypeReader | None = None
    bias: int = 0
    tls_block: int | None = None
    load: Callable[[], tuple[DebugInfo, TypeReader] | None] | None = None
    inline_depth: int = 0

    def debug(self) -> tuple[DebugInfo, TypeReader] | None:
        """(info, types) of the frame's module: given, or opened by `load` when first
        needed (a stack walk names many modules; only the frames asked about need their
        DWARF)."""
        if self.info is not None and self.types is not None:
            return self.info, self.types
        return self.load() if self.load is not None else None


@dataclass
class Variable:
    """A parameter or local: name, is_parameter, its type, its location and its value."""

    name: str
    is_parameter: bool
    type: Type
    location: Location
    value: Value
    error: str = ""

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    @property
    def value_text(self) -> str:
        """The value as gdb prints it (`<optimized out>`, `<error: ...>` when unreadable)."""
        if self.error:
            return f"<error: {self.error}>"
        try:
            return format_value(self.value)
        except DwarfError as exc:
            return f"<error: {exc}>"

    @property
    def location_text(self) -> str:
        return self.location.describe()


@dataclass
class FrameVariables:
    """The variables of one frame: the function's name (link-time scope), parameters
    first, then locals innermost block first."""

    function: str
    variables: list[Variable] = field(default_factory=list)

    def __iter__(self) -> Any:
        return iter(self.variables)

    def named(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)


def _register_reader(site: FrameSite) -> Callable[[int], int | None]:
    registers = site.registers

    def register(number: int) -> int | None:
        if number < len(REGISTER_NAMES):
            return registers.get(REGISTER_NAMES[number])
        if 17 <= number <= 32:
            return registers.get(f"xmm{number - 17}")
        return None

    return register


class _FrameEvaluator:
    """Evaluation of expressions in one frame of a stack."""

    def __init__(
        self,
        sites: Sequence[FrameSite],
        index: int,
        target: TargetAccess,
        shared: dict[int, _FrameEvaluator] | None = None,
    ) -> None:
        # The evaluators of one stack, by frame: entry values of several variables (and
        # of recursive calls) ask the same callers.
        self.shared = shared if shared is not None else {}
        self.shared[index] = self
        self.sites = sites
        self.index = index
        self.site = sites[index]
        self.target = target
        self.scope: Scope | None = None
        self._frame_base: int | None = None
        self._frame_base_done = False
        debug = self.site.debug()
        self.types: TypeReader | None = debug[1] if debug else None
        if debug is not None:
            link = self.site.lookup_pc - self.site.bias
            self.scope = find_scope(debug[0], link, self.site.inline_depth)
        self.context = FrameContext(
            register=_register_reader(self.site),
            read_memory=target.read_memory,
            bias=self.site.bias,
            cfa=self.site.cfa,
            frame_base=self.frame_base,
            tls_address=self.tls_address,
            entry_value=self.entry_value,
            address_of_index=self._address_of_index,
        )
        self.reader = ValueReader(
            read_memory=target.read_memory,
            register=self.context.register,
            symbolize=target.symbolize,
            bound=self.bound,
            static_member=(
                static_member_resolver(debug[0], self.site.bias, target.read_memory)
                if debug is not None
                else lambda member: None
            ),
        )

    @property
    def pc(self) -> int:
        """The link-time pc location lists are selected by."""
        return self.site.lookup_pc - self.site.bias

    def _address_of_index(self, index: int) -> int:
        assert self.scope is not None
        return int(self.scope.info.dwarf.get_addr(self.scope.cu, index))

    def tls_address(self, offset: int) -> int | None:
        if self.site.tls_block is None:
            return None
        return self.site.tls_block + offset

    def frame_base(self) -> int | None:
        if not self._frame_base_done:
            self._frame_base_done = True
            if self.scope is not None:
                # An inlined function's variables use its subprogram's frame base.
                holder = self.scope.subprogram or self.scope.function
                function = attribute_die(holder, "DW_AT_frame_base")
                if function is not None:
                    ops = self.ops_of(function, "DW_AT_frame_base")
                    if ops is not None:
                        try:
                            self._frame_base = evaluate_value(ops, self.context)
                        except Exception:  # a frame base that cannot be computed here
                            self._frame_base = None
        return self._frame_base

    def ops_of(self, die: Any, name: str) -> list[Any] | None:
        """The parsed operations of a location attribute at this pc (None: no location
        here)."""
        assert self.scope is not None
        info = self.scope.info
        attr = die.attributes.get(name)
        if attr is None:
            return None
        from elftools.dwarf.dwarf_expr import DWARFExprParser
        from elftools.dwarf.locationlists import LocationParser

        with info.lock():
            dwarf = info.dwarf
            parser = LocationParser(dwarf.location_lists())
            version = die.cu["version"]
            if attr.form in (
                "DW_FORM_exprloc",
                "DW_FORM_block1",
                "DW_FORM_block2",
                "DW_FORM_block4",
                "DW_FORM_block",
            ) or (version < 4 and attr.form.startswith("DW_FORM_block")):
                expr = list(attr.value)
            else:
                # Parsed lists are kept: pyelftools parses them entry by entry with
                # construct (0.2 s for the ~3,000 entries of CPython's eval loop), and
                # they never change.
                key = (die.cu.cu_offset, attr.form, attr.value)
                entries = info.location_lists.get(key)
                if entries is None:
                    entries = parser.parse_from_attribute(attr, version, die)
                    info.location_lists[key] = entries
                if hasattr(entries, "loc_expr"):
                    expr = list(entries.loc_expr)
                else:
                    found = select_from_list(
                        list(entries), self.pc, unit_base(die.cu.get_top_DIE())
                    )
                    if found is None:
                        return None
                    expr = found
            return DWARFExprParser(die.cu.structs).parse_expr(expr)

    def entry_value(self, ops: list[Any]) -> int | None:
        """The value of `ops` (a register) at the function's entry, from the caller."""
        if self.index + 1 >= len(self.sites) or len(ops) != 1 or self.scope is None:
            return None
        if self.scope.function_name == "main":
            # gdb's stacks end at main (`backtrace past-main` off): it never resolves
            # main's entry values, and pydbg says what gdb says.
            return None
        caller = self.shared.get(self.index + 1) or _FrameEvaluator(
            self.sites, self.index + 1, self.target, self.shared
        )
        if caller.scope is None:
            return None
        return_pc = caller.site.pc - caller.site.bias
        site = find_call_site(caller.scope, return_pc)
        if site is None or not self._calls_us(site, caller):
            return None
        wanted = (ops[0].op_name, ops[0].args)
        for parameter in site.iter_children():
            if parameter.tag not in (
                "DW_TAG_call_site_parameter",
                "DW_TAG_GNU_call_site_parameter",
            ):
                continue
            where = caller.ops_of(parameter, "DW_AT_location")
            if not where or len(where) != 1 or (where[0].op_name, where[0].args) != wanted:
                continue
            for name in ("DW_AT_call_value", "DW_AT_GNU_call_site_value"):
                value_ops = caller.ops_of(parameter, name)
                if value_ops is not None:
                    try:
                        return evaluate_value(value_ops, caller.context)
                    except Exception:  # the caller cannot tell either
                        return None
        return None

    def _calls_us(self, site: Any, caller: _FrameEvaluator) -> bool:
        """Whether a call site calls this frame's function, as gdb checks before it
        trusts the site's parameters: a direct call names the function
        (DW_AT_call_origin), an indirect one computes its target (DW_AT_call_target) in
        the caller's frame."""
        assert self.scope is not None
        if "DW_AT_call_origin" in site.attributes or "DW_AT_abstract_origin" in site.attributes:
            name = (
                "DW_AT_call_origin"
                if "DW_AT_call_origin" in site.attributes
                else ("DW_AT_abstract_origin")
            )
            origin = site.get_DIE_from_attribute(name)
            return full_name_of(origin) == self.scope.function_name
        for name in ("DW_AT_call_target", "DW_AT_GNU_call_site_target"):
            if name in site.attributes:
                ops = caller.ops_of(site, name)
                if not ops:
                    return False
                try:
                    target = evaluate_value(ops, caller.context)
                except Exception:  # the target cannot be computed: not verifiable
                    return False
                return target == self.function_start()
        return False

    def function_start(self) -> int | None:
        """The runtime entry address of the scope's function."""
        assert self.scope is not None
        low = attribute(self.scope.function, "DW_AT_low_pc")
        if low is None or self.scope.function.tag != "DW_TAG_subprogram":
            return None
        return int(low.value) + self.site.bias

    def bound(self, dynamic: Any, is_count: bool) -> int | None:
        """A VLA bound: DW_AT_upper_bound/DW_AT_count as a reference to a variable or an
        expression, in this frame."""
        subrange, name = dynamic
        attr = subrange.attributes[name]
        try:
            if attr.form.startswith("DW_FORM_ref"):
                var = subrange.get_DIE_from_attribute(name)
                location = self.location_of(var)
                t = self.type_of(var)
                value = Value(t, location, self.reader)
                number = int(value)
            else:
                ops = self.ops_of(subrange, name)
                if ops is None:
                    return None
                number = evaluate_value(ops, self.context)
        except Exception:  # an unknown bound: the array prints as its address
            return None
        return number if is_count else number + 1

    def type_of(self, die: Any) -> Type:
        assert self.types is not None
        typed = attribute_die(die, "DW_AT_type")
        return self.types.type_of(typed) if typed is not None else VoidType()

    def location_of(self, die: Any) -> Location:
        const = attribute(die, "DW_AT_const_value")
        if const is not None and "DW_AT_location" not in die.attributes:
            value = const.value
            if isinstance(value, int):
                return Location([Piece("value", value=value)])
            return Location([Piece("implicit", data=bytes(value))])
        ops = self.ops_of(die, "DW_AT_location") if "DW_AT_location" in die.attributes else None
        if not ops:
            return Location([Piece("optimized")])
        return evaluate(ops, self.context)


def frame_variables(sites: Sequence[FrameSite], index: int, target: TargetAccess) -> FrameVariables:
    """The parameters and locals of frame `index` of a stack (`sites`, innermost first:
    the callers are needed for entry values).  Raises DwarfError without debug info."""
    evaluator = _FrameEvaluator(sites, index, target)
    scope = evaluator.scope
    if scope is None:
        raise DwarfError(f"no debug information for the pc {sites[index].pc:#x} of frame {index}")
    out = FrameVariables(scope.function_name)
    for var in scope.variables():
        error = ""
        try:
            t = evaluator.type_of(var.die)
            location = evaluator.location_of(var.die)
        except (LocationError, DwarfError) as exc:
            t, location, error = VoidType(), Location(), str(exc)
        except Exception as exc:  # pyelftools raises anything on damaged DWARF
            t, location, error = VoidType(), Location(), f"bad DWARF: {exc}"
        value = Value(t, location, evaluator.reader)
        out.variables.append(
            Variable(var.name, var.is_parameter, value.type, location, value, error)
        )
    return out


def global_variable(
    info: DebugInfo,
    types: TypeReader,
    die: Any,
    bias: int,
    target: TargetAccess,
    tls_block: int | None = None,
) -> Variable:
    """A global (or static) variable's value: its DW_AT_location needs no frame, but for
    a thread-local one the thread's TLS block."""
    from elftools.dwarf.dwarf_expr import DWARFExprParser

    context = FrameContext(
        register=lambda n: None,
        read_memory=target.read_memory,
        bias=bias,
        tls_address=lambda offset: None if tls_block is None else tls_block + offset,
    )
    typed = attribute_die(die, "DW_AT_type")
    t = types.type_of(typed) if typed is not None else VoidType()
    with info.lock():
        ops = DWARFExprParser(die.cu.structs).parse_expr(die.attributes["DW_AT_location"].value)
    location = evaluate(ops, context)
    reader = ValueReader(
        read_memory=target.read_memory,
        symbolize=target.symbolize,
        static_member=static_member_resolver(info, bias, target.read_memory),
    )
    value = Value(t, location, reader)
    return Variable(attribute_name(die), False, value.type, location, value)


def attribute_name(die: Any) -> str:
    attr = attribute(die, "DW_AT_name")
    return attr.value.decode("utf-8", "replace") if attr is not None else ""


def static_member_resolver(
    info: DebugInfo, bias: int, read_memory: Callable[[int, int], bytes]
) -> Callable[[Member], Location | None]:
    """Where C++ static data members of a file's classes live (their definitions'
    DW_AT_location, with the load bias); None when no definition is found."""
    from elftools.dwarf.dwarf_expr import DWARFExprParser

    def resolve(member: Member) -> Location | None:
        try:
            die = info.static_definition(member.die_offset)
            if die is None:
                return None
            with info.lock():
                ops = DWARFExprParser(die.cu.structs).parse_expr(
                    die.attributes["DW_AT_location"].value
                )
            return evaluate(
                ops, FrameContext(register=lambda n: None, read_memory=read_memory, bias=bias)
            )
        except Exception:  # damaged DWARF, or a location needing a frame: not shown
            return None

    return resolve
