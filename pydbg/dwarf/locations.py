"""Location evaluation: where a variable lives in a frame, from its DWARF location
expression or location list (DWARF 5 §2.5-2.6).

pyelftools decodes the bytes into operations (DWARFExprParser) and location lists
(DWARF 4 .debug_loc, DWARF 5 .debug_loclists); this module is the stack machine over the
decoded operations.  A `Location` is a list of pieces, each in memory, in a register, an
implicit value (DW_OP_stack_value, DW_OP_implicit_value) or optimized out; a location that
is one whole piece has no size.  `FrameContext` is what an evaluation needs of a frame,
as callbacks, so that a live process, a core file or a test can provide it:

* registers by DWARF number (None when the frame does not know it: a caller-saved register
  in a caller's frame, which is then `<optimized out>` as gdb says it);
* the frame base (DW_AT_frame_base, often DW_OP_call_frame_cfa) and the CFA, which the
  unwinder computed for the frame;
* the load bias for DW_OP_addr, the thread's TLS block for DW_OP_form_tls_address, and the
  value of a register at the function's entry for DW_OP_entry_value (from the caller's
  call-site parameters; None when there is none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydbg.dwarf.errors import LocationError

__all__ = ["FrameContext", "Location", "Piece", "evaluate", "select_from_list"]

MASK64 = (1 << 64) - 1
REGISTER_NAMES = (
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip",
)  # fmt: skip


def register_name(number: int) -> str:
    """The x86_64 name of a DWARF register number (psABI figure 3.36)."""
    if number < len(REGISTER_NAMES):
        return REGISTER_NAMES[number]
    if 17 <= number <= 32:
        return f"xmm{number - 17}"
    return f"dwarf-reg{number}"


@dataclass
class FrameContext:
    """What location evaluation needs of a frame (see the module docstring)."""

    register: Callable[[int], int | None]
    read_memory: Callable[[int, int], bytes]
    bias: int = 0
    cfa: int | None = None
    frame_base: Callable[[], int | None] = lambda: None
    tls_address: Callable[[int], int | None] = lambda offset: None
    entry_value: Callable[[list[Any]], int | None] = lambda ops: None
    address_of_index: Callable[[int], int] | None = None  # DW_OP_addrx, link-time


@dataclass
class Piece:
    """One piece: kind "memory" (address), "register" (register), "value" (value: the
    stack value, an int), "implicit" (data: bytes) or "optimized"; size in bytes, None for
    the whole object; `bit_offset` and `bit_size` for DW_OP_bit_piece."""

    kind: str
    size: int | None = None
    address: int = 0
    register: int = 0
    value: int = 0
    data: bytes = b""
    bit_size: int = 0
    reason: str = ""


@dataclass
class Location:
    pieces: list[Piece] = field(default_factory=list)

    @property
    def optimized_out(self) -> bool:
        return not self.pieces or all(p.kind == "optimized" for p in self.pieces)

    @property
    def address(self) -> int | None:
        """The address of an object wholly in memory, else None."""
        if len(self.pieces) == 1 and self.pieces[0].kind == "memory":
            return self.pieces[0].address
        return None

    def describe(self) -> str:
        """The location as `dv /V` and the symbol group show it: `@0x7ffe...`,
        `@rdi`, `<value>`, pieces joined by `, `."""
        parts = []
        for piece in self.pieces:
            if piece.kind == "memory":
                text = f"@{piece.address:#x}"
            elif piece.kind == "register":
                text = f"@{register_name(piece.register)}"
            elif piece.kind in ("value", "implicit"):
                text = "<computed>"
            else:
                text = "<optimized out>"
            if piece.size is not None and len(self.pieces) > 1:
                text += f"[{piece.size}]"
            parts.append(text)
        return ", ".join(parts) if parts else "<optimized out>"


class _Unavailable(Exception):
    """A register or memory the evaluation needs is not known in this frame."""


def _signed(value: int) -> int:
    value &= MASK64
    return value - (1 << 64) if value >> 63 else value


def evaluate(ops: list[Any], ctx: FrameContext, push_first: int | None = None) -> Location:
    """Evaluate decoded operations (pyelftools DWARFExprOp) to a Location.  Registers the
    frame does not know and memory that cannot be read make the location (or that piece)
    optimized out; unsupported operations raise LocationError."""
    try:
        return _run(ops, ctx, push_first)
    except _Unavailable as exc:
        return Location([Piece("optimized", reason=str(exc))])


def evaluate_value(ops: list[Any], ctx: FrameContext) -> int:
    """An expression used as a value (DW_AT_frame_base, an array bound): the value of its
    location: a memory location's address, a register's content, or the stack value."""
    loc = _run(ops, ctx, None)
    if len(loc.pieces) != 1:
        raise LocationError("a value expression with pieces")
    piece = loc.pieces[0]
    if piece.kind == "memory":
        return piece.address
    if piece.kind == "register":
        value = ctx.register(piece.register)
        if value is None:
            raise _Unavailable(register_name(piece.register))
        return value
    if piece.kind == "value":
        return piece.value
    raise _Unavailable(piece.reason or "optimized out")


def _run(ops: list[Any], ctx: FrameContext, push_first: int | None) -> Location:
    stack: list[int] = [] if push_first is None else [push_first]
    pieces: list[Piece] = []
    # A pending piece descriptor, set by reg/stack_value/implicit_value until DW_OP_piece.
    pending: Piece | None = None
    index_of = {op.offset: i for i, op in enumerate(ops)}
    i = 0

    def reg(number: int) -> int:
        value = ctx.register(number)
        if value is None:
            raise _Unavailable(f"register {register_name(number)} is not saved in this frame")
        return value

    def read(address: int, size: int) -> int:
        try:
            data = ctx.read_memory(address & MASK64, size)
        except Exception as exc:  # the reader's own error for unreadable memory
            raise _Unavailable(f"cannot read memory at {address & MASK64:#x}") from exc
        if len(data) < size:
            raise _Unavailable(f"cannot read memory at {address & MASK64:#x}")
        return int.from_bytes(data[:size], "little")

    def pop() -> int:
        if not stack:
            raise LocationError(f"DWARF stack underflow at {name}")
        return stack.pop()

    while i < len(ops):
        op = ops[i]
        name = op.op_name
        args = op.args
        i += 1
        if name.startswith("DW_OP_lit"):
            stack.append(int(name[9:]))
        elif name.startswith("DW_OP_const") and name != "DW_OP_const_type":
            stack.append(args[0] & MASK64)
        elif name == "DW_OP_addr":
            stack.append((args[0] + ctx.bias) & MASK64)
        elif name in ("DW_OP_addrx", "DW_OP_GNU_addr_index"):
            if ctx.address_of_index is None:
                raise LocationError(f"{name} without an address table")
            stack.append((ctx.address_of_index(args[0]) + ctx.bias) & MASK64)
        elif name.startswith("DW_OP_reg") and name != "DW_OP_regval_type":
            number = args[0] if name == "DW_OP_regx" else int(name[9:])
            pending = Piece("register", register=number)
        elif name.startswith("DW_OP_breg"):
            if name == "DW_OP_bregx":
                number, offset = args
            else:
                number, offset = int(name[10:]), args[0]
            stack.append((reg(number) + offset) & MASK64)
        elif name == "DW_OP_fbreg":
            base = ctx.frame_base()
            if base is None:
                raise _Unavailable("the frame base is not known")
            stack.append((base + args[0]) & MASK64)
        elif name == "DW_OP_call_frame_cfa":
            if ctx.cfa is None:
                raise _Unavailable("the frame's CFA is not known")
            stack.append(ctx.cfa)
        elif name == "DW_OP_dup":
            stack.append(stack[-1] if stack else pop())
        elif name == "DW_OP_drop":
            pop()
        elif name == "DW_OP_over":
            stack.append(stack[-2])
        elif name == "DW_OP_pick":
            stack.append(stack[-1 - args[0]])
        elif name == "DW_OP_swap":
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif name == "DW_OP_rot":
            stack[-1], stack[-2], stack[-3] = stack[-2], stack[-3], stack[-1]
        elif name == "DW_OP_deref":
            stack.append(read(pop(), 8))
        elif name in ("DW_OP_deref_size", "DW_OP_deref_type", "DW_OP_GNU_deref_type"):
            stack.append(read(pop(), args[0]))
        elif name in _BINARY:
            b, a = pop(), pop()
            stack.append(_BINARY[name](a, b) & MASK64)
        elif name == "DW_OP_plus_uconst":
            stack.append((pop() + args[0]) & MASK64)
        elif name == "DW_OP_neg":
            stack.append(-_signed(pop()) & MASK64)
        elif name == "DW_OP_not":
            stack.append(~pop() & MASK64)
        elif name == "DW_OP_abs":
            stack.append(abs(_signed(pop())) & MASK64)
        elif name in ("DW_OP_skip", "DW_OP_bra"):
            if name == "DW_OP_skip" or pop() != 0:
                # The target is relative to the end of this operation: the next one's offset.
                end = ops[i].offset if i < len(ops) else _end_offset(ops)
                target = end + args[0]
                if target not in index_of and target != _end_offset(ops):
                    raise LocationError(f"{name} to {target:#x}, not an operation")
                i = index_of.get(target, len(ops))
        elif name in ("DW_OP_nop", "DW_OP_convert", "DW_OP_GNU_convert"):
            pass
        elif name in ("DW_OP_entry_value", "DW_OP_GNU_entry_value"):
            value = ctx.entry_value(args[0])
            if value is None:
                raise _Unavailable("the value at the function's entry is not known")
            stack.append(value & MASK64)
        elif name in ("DW_OP_form_tls_address", "DW_OP_GNU_push_tls_address"):
            address = ctx.tls_address(pop())
            if address is None:
                raise _Unavailable("TLS unavailable")
            stack.append(address)
        elif name == "DW_OP_stack_value":
            pending = Piece("value", value=pop())
        elif name == "DW_OP_implicit_value":
            pending = Piece("implicit", data=bytes(args[0]))
        elif name in ("DW_OP_implicit_pointer", "DW_OP_GNU_implicit_pointer"):
            pending = Piece("optimized", reason="synthetic pointer")
        elif name in ("DW_OP_piece", "DW_OP_bit_piece"):
            size_bits = args[0] * 8 if name == "DW_OP_piece" else args[0]
            if pending is None:
                pending = Piece("memory", address=pop()) if stack else Piece("optimized")
            pending.size = (size_bits + 7) // 8
            pending.bit_size = size_bits
            pieces.append(pending)
            pending = None
            stack.clear()
        elif name in ("DW_OP_regval_type", "DW_OP_GNU_regval_type"):
            stack.append(reg(args[0]))
        elif name in ("DW_OP_const_type", "DW_OP_GNU_const_type"):
            stack.append(int.from_bytes(bytes(args[1]), "little"))
        elif name == "DW_OP_GNU_parameter_ref":
            raise _Unavailable("parameter reference")
        else:
            raise LocationError(f"unsupported DWARF operation {name}")
    if pending is None and stack:
        pending = Piece("memory", address=stack[-1])
    if pending is not None:
        if pieces:
            pieces.append(pending)
        else:
            return Location([pending])
    return Location(pieces)


def _end_offset(ops: list[Any]) -> int:
    # The offset just past the last operation is not recorded; a jump there ends the
    # expression.  Any offset beyond the last operation's start is treated so.
    return ops[-1].offset + 1 if ops else 0


_BINARY: dict[str, Callable[[int, int], int]] = {
    "DW_OP_and": lambda a, b: a & b,
    "DW_OP_or": lambda a, b: a | b,
    "DW_OP_xor": lambda a, b: a ^ b,
    "DW_OP_plus": lambda a, b: a + b,
    "DW_OP_minus": lambda a, b: a - b,
    "DW_OP_mul": lambda a, b: a * b,
    "DW_OP_div": lambda a, b: int(_signed(a) / _signed(b)) if b else 0,
    "DW_OP_mod": lambda a, b: a % b if b else 0,
    "DW_OP_shl": lambda a, b: a << b if b < 64 else 0,
    "DW_OP_shr": lambda a, b: a >> b,
    "DW_OP_shra": lambda a, b: _signed(a) >> min(b, 63),
    "DW_OP_eq": lambda a, b: int(_signed(a) == _signed(b)),
    "DW_OP_ne": lambda a, b: int(_signed(a) != _signed(b)),
    "DW_OP_lt": lambda a, b: int(_signed(a) < _signed(b)),
    "DW_OP_le": lambda a, b: int(_signed(a) <= _signed(b)),
    "DW_OP_gt": lambda a, b: int(_signed(a) > _signed(b)),
    "DW_OP_ge": lambda a, b: int(_signed(a) >= _signed(b)),
}


def select_from_list(entries: list[Any], pc: int, cu_base: int) -> list[int] | None:
    """The expression bytes of the location-list entry covering a link-time pc (DWARF 4
    .debug_loc or DWARF 5 .debug_loclists as pyelftools decodes them: offsets relative to
    the unit's base address or the last base-address entry); None when no entry covers it
    (the variable is then optimized out at that pc)."""
    base = cu_base
    for entry in entries:
        if hasattr(entry, "base_address"):
            base = entry.base_address
            continue
        if not hasattr(entry, "begin_offset"):
            continue  # a location view pair
        if entry.begin_offset == -1:  # DW_LLE_default_location: used if nothing covers pc
            continue
        if entry.is_absolute:
            start, end = entry.begin_offset, entry.end_offset
        else:
            start, end = base + entry.begin_offset, base + entry.end_offset
        if start <= pc < end:
            return list(entry.loc_expr)
    for entry in entries:
        if getattr(entry, "begin_offset", 0) == -1:
            return list(entry.loc_expr)
    return None
