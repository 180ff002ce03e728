"""pydbg.commands.expression: cdb's MASM evaluator against a fake register/memory/symbol context.

Every expected value is written out by hand from the rules of the debugger documentation's
"MASM Numbers and Operators" (remember the default radix is 16: `10` is sixteen), never
computed by the module under test. Precedence is checked in pairs chosen so that the wrong
grouping gives a different number. Commands tier: pure Python, no processes.
"""

from __future__ import annotations

import errno
import itertools
import struct
from collections.abc import Callable

import pytest

from pydbg.commands.errors import (
    CommandError,
    CommandSyntaxError,
    ExpressionError,
    UnknownPseudoRegisterError,
)
from pydbg.commands.expression import evaluate, evaluate_prefix
from pydbg.errors import InvalidRegisterError, MemoryAccessError

ALL_ONES = 0xFFFF_FFFF_FFFF_FFFF
STACK = 0x7FFE_0000
# The memory image at STACK, little-endian quadwords:
#   +0x00  a pointer to +0x10
#   +0x08  0x8877665544332211 (bytes 11 22 33 44 55 66 77 88)
#   +0x10  0xdeadbeefcafebabe
#   +0x18  all ones
MEMORY = struct.pack("<4Q", STACK + 0x10, 0x8877665544332211, 0xDEADBEEFCAFEBABE, ALL_ONES)
MAIN = 0x401136


class FakeContext:
    """Registers, pseudo-registers, a memory image and symbols from plain dicts; records reads."""

    def __init__(self) -> None:
        self.registers = {
            "rax": 0x1122334455667788,
            "eax": 0x55667788,
            "al": 0x88,
            "ah": 0x77,
            "rbx": 0x20,
            "rsp": STACK,
            "rip": 0x401000,
        }
        self.pseudo = {
            "ip": 0x401000,
            "csp": STACK,
            "ra": 0x401234,
            "tid": 0x4D2,
            "tpid": 0x4D1,
            "t0": 0,
            "t1": 7,
        }
        self.symbols = {
            "main": MAIN,
            "prog!main": MAIN,
            "_start": 0x401020,
            "prog!add": 0x401200,
            "add": 0x401200,
            "prog!ns::func": 0x401300,
            "prog!ns::Box<int>::get() const": 0x401400,
            "ns::V::operator!=": 0x401500,
            "rbx": 0x404040,  # a symbol that is also a register name
        }
        self.reads: list[tuple[int, int]] = []

    def register(self, name: str) -> int:
        try:
            return self.registers[name]
        except KeyError:
            raise InvalidRegisterError(name) from None

    def pseudo_register(self, name: str) -> int:
        try:
            return self.pseudo[name]
        except KeyError:
            raise UnknownPseudoRegisterError(name) from None

    def read_memory(self, address: int, size: int) -> bytes:
        self.reads.append((address, size))
        offset = address - STACK
        if offset < 0 or offset + size > len(MEMORY):
            raise MemoryAccessError(
                errno.EFAULT, "memory not accessible", request="peekdata", address=address
            )
        return MEMORY[offset : offset + size]

    def symbol(self, name: str) -> int | None:
        return self.symbols.get(name)


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext()


def ev(text: str, radix: int = 16) -> int:
    return evaluate(text, FakeContext(), radix)


# --- Numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "radix", "value"),
    [
        ("10", 16, 0x10),
        ("10", 10, 10),
        ("10", 8, 8),
        ("10", 2, 2),
        ("ff", 16, 0xFF),
        ("FF", 16, 0xFF),
        ("0", 16, 0),
        ("0x10", 10, 0x10),
        ("0X1f", 10, 0x1F),
        ("0n10", 16, 10),
        ("0N99", 16, 99),
        ("0t17", 16, 0o17),
        ("0y101", 16, 0b101),
        ("0y101", 10, 0b101),
        ("10h", 10, 0x10),
        ("10H", 8, 0x10),
        ("0ah", 10, 0xA),
        ("0ffh", 10, 0xFF),
        ("ffffffffffffffff", 16, ALL_ONES),
        ("0n18446744073709551615", 16, ALL_ONES),
    ],
)
def test_numbers_and_radixes(text: str, radix: int, value: int) -> None:
    assert ev(text, radix) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("00000000`00401000", 0x401000),
        ("ffffffff`ffffffff", ALL_ONES),
        ("00007ff9`6bb40770", 0x7FF96BB40770),
        ("0x1`0000", 0x10000),
        ("00000000`00401000+8", 0x401008),
    ],
)
def test_backtick_in_numbers_is_ignored(text: str, value: int) -> None:
    assert ev(text) == value


def test_a_word_made_of_radix_digits_is_a_number() -> None:
    # In radix 16 `add` reads as 0xadd even though a symbol `add` exists ...
    assert ev("add") == 0xADD
    # ... the module-qualified name reaches the symbol ...
    assert ev("prog!add") == 0x401200
    # ... and in radix 10 the bare word is no number, so it is the symbol.
    assert ev("add", 10) == 0x401200


@pytest.mark.parametrize(
    ("text", "radix", "column", "reason"),
    [
        ("12z", 16, 0, "invalid number '12z'"),
        ("9", 8, 0, "invalid number '9'"),
        ("1a", 10, 0, "invalid number '1a'"),
        ("0x", 16, 0, "invalid number '0x'"),
        ("0y102", 16, 0, "invalid number '0y102'"),
        ("1_000", 16, 0, "invalid number '1_000'"),
        ("0x10h", 16, 0, "invalid number '0x10h'"),
        ("1 + 0n1x", 16, 4, "invalid number '0n1x'"),
        ("main`x", 16, 0, "invalid number 'main`x'"),
        ("1`00000000`00000000", 16, 0, "number '1`00000000`00000000' does not fit in 64 bits"),
    ],
)
def test_bad_numbers_are_syntax_errors(text: str, radix: int, column: int, reason: str) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        ev(text, radix)
    assert (info.value.column, info.value.reason) == (column, reason)


@pytest.mark.parametrize("radix", [0, 1, 3, 36])
def test_unsupported_radix(radix: int) -> None:
    with pytest.raises(ValueError, match="radix"):
        ev("1", radix)


# --- Wraparound -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0-1", ALL_ONES),
        ("-1", ALL_ONES),
        ("-0", 0),
        ("ffffffffffffffff + 1", 0),
        ("ffffffffffffffff + 2", 1),
        ("8000000000000000 * 2", 0),
        ("ffffffffffffffff * ffffffffffffffff", 1),
        ("5 - 7", 0xFFFFFFFFFFFFFFFE),
        ("-(1+2)", 0xFFFFFFFFFFFFFFFD),
    ],
)
def test_results_wrap_modulo_2_to_the_64(text: str, value: int) -> None:
    assert ev(text) == value


# --- Binary operators -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1+2", 3),
        ("9 + a", 0x13),
        ("10-1", 0xF),
        ("10*10", 0x100),
        ("3*0", 0),
        ("100/8", 0x20),
        ("7/2", 3),
        ("-1 / 2", 0x7FFFFFFFFFFFFFFF),  # unsigned division
        ("0n17 % 0n5", 2),
        ("0n17 mod 0n5", 2),
        ("0n17 MOD 0n5", 2),
        ("0n17 Mod 0n5", 2),
        ("-1 % 0n10", 5),  # unsigned: 18446744073709551615 mod 10
        ("1 << 4", 0x10),
        ("1 << 0n63", 0x8000000000000000),
        ("1 << 0n64", 0),
        ("3 << 0n63", 0x8000000000000000),
        ("1 << ffffffff", 0),
        ("100 >> 4", 0x10),
        ("-1 >> 0n60", 0xF),  # logical: zeros come in
        ("-1 >> 0n64", 0),
        ("-1 >> ffffffffffffffff", 0),
        ("-1 >>> 4", ALL_ONES),  # arithmetic: the sign comes in
        ("8000000000000000 >>> 0n63", ALL_ONES),
        ("8000000000000000 >>> 4", 0xF800000000000000),
        ("4000000000000000 >>> 0n62", 1),
        ("-10 >>> 1", 0xFFFFFFFFFFFFFFF8),
        ("-1 >>> 0n100", ALL_ONES),
        ("7fffffffffffffff >>> 0n100", 0),
        ("c & a", 8),
        ("c and a", 8),
        ("c AND a", 8),
        ("c ^ a", 6),
        ("c xor a", 6),
        ("c XoR a", 6),
        ("c | a", 0xE),
        ("c or a", 0xE),
        ("c Or a", 0xE),
    ],
)
def test_binary_operators(text: str, value: int) -> None:
    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 = 1", 1),
        ("1 = 2", 0),
        ("1 == 1", 1),
        ("1 == 2", 0),
        ("1 != 2", 1),
        ("2 != 2", 0),
        ("1 < 2", 1),
        ("2 < 2", 0),
        ("2 > 1", 1),
        ("2 > 2", 0),
        ("2 <= 2", 1),
        ("3 <= 2", 0),
        ("2 >= 2", 1),
        ("1 >= 2", 0),
        # Unsigned: -1 is the largest value.
        ("-1 > 1", 1),
        ("-1 < 0", 0),
        ("1!=2", 1),
        ("1!=!0", 0),
    ],
)
def test_comparisons_give_one_or_zero(text: str, value: int) -> None:
    assert ev(text) == value


# --- Unary operators --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("+5", 5),
        ("-1", ALL_ONES),
        ("--1", 1),
        ("- -1", 1),
        ("~0", ALL_ONES),
        ("~ff", 0xFFFFFFFFFFFFFF00),
        ("~~5", 5),
        ("!0", 1),
        ("!5", 0),
        ("!!5", 1),
        ("!-1", 0),
        ("hi 12345678", 0x1234),
        ("hi(1122334455667788)", 0x5566),
        ("HI(1122334455667788)", 0x5566),
        ("low(1122334455667788)", 0x7788),
        ("Low 12345678", 0x5678),
        ("hi 0xffff", 0),
        ("-hi(12345678)", 0xFFFFFFFFFFFFEDCC),
    ],
)
def test_unary_operators(text: str, value: int) -> None:
    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "value", "reads"),
    [
        ("by(@rsp+8)", 0x11, [(STACK + 8, 1)]),
        ("wo(@rsp+8)", 0x2211, [(STACK + 8, 2)]),
        ("dwo(@rsp+8)", 0x44332211, [(STACK + 8, 4)]),
        ("qwo(@rsp+8)", 0x8877665544332211, [(STACK + 8, 8)]),
        ("poi(@rsp+8)", 0x8877665544332211, [(STACK + 8, 8)]),
        ("poi(@rsp)", STACK + 0x10, [(STACK, 8)]),
        ("POI(@rsp)", STACK + 0x10, [(STACK, 8)]),
        ("by @rsp+9", 0x10 + 9, [(STACK, 1)]),  # by(@rsp) + 9: unary binds tighter
        ("poi @rsp + 8", STACK + 0x18, [(STACK, 8)]),
        ("poi(poi(@rsp))", 0xDEADBEEFCAFEBABE, [(STACK, 8), (STACK + 0x10, 8)]),
        ("poi poi @rsp", 0xDEADBEEFCAFEBABE, [(STACK, 8), (STACK + 0x10, 8)]),
        ("dwo(@rsp+10)", 0xCAFEBABE, [(STACK + 0x10, 4)]),
        ("poi(@rsp+18)", ALL_ONES, [(STACK + 0x18, 8)]),
        ("by($csp+f)", 0x88, [(STACK + 0xF, 1)]),
        ("hi(dwo(@rsp+10))", 0xCAFE, [(STACK + 0x10, 4)]),
        ("low(poi(@rsp+8))", 0x2211, [(STACK + 8, 8)]),
    ],
)
def test_memory_operators_read_little_endian(
    ctx: FakeContext, text: str, value: int, reads: list[tuple[int, int]]
) -> None:
    assert evaluate(text, ctx) == value
    assert ctx.reads == reads


@pytest.mark.parametrize("text", ["@rsp + 8", "hi(@rsp)", "@rsp * 2 = 0", "prog!main+10"])
def test_memory_is_read_only_by_memory_operators(ctx: FakeContext, text: str) -> None:
    evaluate(text, ctx)
    assert ctx.reads == []


def test_memory_error_propagates(ctx: FakeContext) -> None:
    with pytest.raises(MemoryAccessError) as info:
        evaluate("1 + poi(0)", ctx)
    assert info.value.address == 0
    assert ctx.reads == [(0, 8)]


def test_short_memory_read_is_an_expression_error() -> None:
    class ShortReads(FakeContext):
        def read_memory(self, address: int, size: int) -> bytes:
            return b"\x01"

    with pytest.raises(ExpressionError, match="reading 8 bytes at 0x7ffe0000 returned 1 bytes"):
        evaluate("poi(@rsp)", ShortReads())


# --- Precedence -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # The comments give the value of the wrong grouping.
        ("1+2*3", 7),  # (1+2)*3 = 9
        ("(1+2)*3", 9),
        ("8 - 2 * 3", 2),  # (8-2)*3 = 0x12
        ("2*3 + 4*5", 0x1A),  # 2*(3+4)*5 = 0x46
        ("7 - 2 - 1", 4),  # 7-(2-1) = 6: left associative
        ("100/8/2", 0x10),  # 0x100/(8/2) = 0x40
        ("2*3 mod 4", 2),  # 2*(3%4) = 6
        ("0n17 % 0n5 * 2", 4),  # 17 % (5*2) = 7
        ("1 + 2 << 3", 0x18),  # 1 + 0x10 = 0x11: shift is below +
        ("1 << 2 + 1", 8),  # (1<<2)+1 = 5
        ("100 >> 4 + 4", 1),  # (0x100>>4)+4 = 0x14
        ("2 << 1 == 4", 1),  # 2 << (1==4) = 2
        ("3 > 2 > 1", 0),  # 3 > (2>1) = 1: left associative
        ("1 < 2 == 1", 1),  # 1 < (2==1) = 0
        ("2 & 2 == 2", 0),  # (2&2)==2 = 1: & is below ==
        ("6 ^ 3 & 5", 7),  # (6^3)&5 = 5: & is above ^
        ("1 | 6 ^ 3", 5),  # (1|6)^3 = 4: ^ is above |
        ("4 or 3 and 1", 5),  # (4|3)&1 = 1
        ("1 or 3 xor 1", 3),  # (1|3)^1 = 2
        ("-1 + 2", 1),  # -(1+2) = ...fffd: unary is above binary
        ("!0 + 1", 2),  # !(0+1) = 0
        ("~0 >> 0n60", 0xF),  # ~(0>>60) = all ones
        ("hi 12345678 + 1", 0x1235),  # hi(0x12345679) = 0x1234
        ("-poi(@rsp) + poi(@rsp)", 0),
        ("((((1))))+((2))", 3),
        ("(1 or 2) * (3 and 1)", 3),
    ],
)
def test_precedence(text: str, value: int) -> None:
    assert ev(text) == value


# Every binary operator against every other, checked against a reference written here: the
# levels of the MASM table, lowest first, and what each operator does to 64-bit values.
LEVELS: list[list[str]] = [
    ["or", "|"],
    ["xor", "^"],
    ["and", "&"],
    ["=", "==", "!=", "<", ">", "<=", ">="],
    ["<<", ">>", ">>>"],
    ["+", "-"],
    ["*", "/", "mod", "%"],
]


def _shift_count(b: int) -> int:
    if b >= 64:
        raise ValueError("keep the reference to small shift counts")
    return b


def _signed(v: int) -> int:
    return v - (1 << 64) if v >> 63 else v


REFERENCE: dict[str, Callable[[int, int], int]] = {
    "or": lambda a, b: a | b,
    "|": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "^": lambda a, b: a ^ b,
    "and": lambda a, b: a & b,
    "&": lambda a, b: a & b,
    "=": lambda a, b: int(a == b),
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    ">": lambda a, b: int(a > b),
    "<=": lambda a, b: int(a <= b),
    ">=": lambda a, b: int(a >= b),
    "<<": lambda a, b: (a << _shift_count(b)) & ALL_ONES,
    ">>": lambda a, b: a >> _shift_count(b),
    ">>>": lambda a, b: (_signed(a) >> _shift_count(b)) & ALL_ONES,
    "+": lambda a, b: (a + b) & ALL_ONES,
    "-": lambda a, b: (a - b) & ALL_ONES,
    "*": lambda a, b: (a * b) & ALL_ONES,
    "/": lambda a, b: a // b,
    "mod": lambda a, b: a % b,
    "%": lambda a, b: a % b,
}
OPERANDS = [0, 1, 2, 3, 5, 6, 0xC, 0x3F, 0x8000000000000000, ALL_ONES]


def _discriminating(
    right: Callable[[int, int, int], int], wrong: Callable[[int, int, int], int]
) -> tuple[int, int, int, int] | None:
    """Operands for which the right grouping and the wrong one differ, and the right value;
    None when no operands do (the two operators associate, like `+` with `+`)."""
    for a, b, c in itertools.product(OPERANDS, repeat=3):
        try:
            value = right(a, b, c)
        except (ZeroDivisionError, ValueError):
            continue
        try:
            other: int | None = wrong(a, b, c)
        except ZeroDivisionError:
            other = None  # the wrong grouping would divide by zero: that tells them apart too
        except ValueError:
            continue
        if value != other:
            return a, b, c, value
    return None


def test_reference_covers_every_level() -> None:
    assert sorted(REFERENCE) == sorted(op for level in LEVELS for op in level)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (low, high)
        for i, lower in enumerate(LEVELS)
        for higher in LEVELS[i + 1 :]
        for low in lower
        for high in higher
    ],
)
def test_every_higher_operator_binds_tighter(low: str, high: str) -> None:
    f, g = REFERENCE[low], REFERENCE[high]
    # a LOW b HIGH c is a LOW (b HIGH c)
    found = _discriminating(lambda a, b, c: f(a, g(b, c)), lambda a, b, c: g(f(a, b), c))
    assert found is not None
    a, b, c, value = found
    assert ev(f"{a:#x} {low} {b:#x} {high} {c:#x}") == value
    # a HIGH b LOW c is (a HIGH b) LOW c
    found = _discriminating(lambda a, b, c: f(g(a, b), c), lambda a, b, c: g(a, f(b, c)))
    if found is None:
        # (a*b) << c is a*(b << c) modulo 2**64: no value tells these two apart.
        assert (high, low) == ("*", "<<")
        a, b, c = 5, 3, 2
        found = (a, b, c, f(g(a, b), c))
    a, b, c, value = found
    assert ev(f"{a:#x} {high} {b:#x} {low} {c:#x}") == value


ASSOCIATIVE = {("+", "+"), ("+", "-"), ("*", "*")} | {
    (first, second)
    for level in (["or", "|"], ["xor", "^"], ["and", "&"])
    for first in level
    for second in level
}


@pytest.mark.parametrize(
    ("first", "second"),
    [(first, second) for level in LEVELS for first in level for second in level],
)
def test_operators_of_one_level_associate_to_the_left(first: str, second: str) -> None:
    f, g = REFERENCE[first], REFERENCE[second]
    found = _discriminating(lambda a, b, c: g(f(a, b), c), lambda a, b, c: f(a, g(b, c)))
    if found is None:
        # Either grouping gives the same value; still the pair must evaluate right.
        assert (first, second) in ASSOCIATIVE
        a, b, c = 0x3F, 6, 5
        found = (a, b, c, g(f(a, b), c))
    a, b, c, value = found
    assert ev(f"{a:#x} {first} {b:#x} {second} {c:#x}") == value


# --- Registers, pseudo-registers, symbols -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("@rax", 0x1122334455667788),
        ("@RAX", 0x1122334455667788),
        ("@eax", 0x55667788),
        ("@al", 0x88),
        ("@ah", 0x77),
        ("@rsp+8", STACK + 8),
        ("@rip", 0x401000),
        # Bare names: a symbol first, then a register (cdb's order).
        ("rax", 0x1122334455667788),
        ("Rax", 0x1122334455667788),
        ("al", 0x88),
        ("ah", 0x77),  # `ah` starts with a letter, so it is no `h`-suffixed number
        ("rbx", 0x404040),  # the symbol wins over the register
        ("@rbx", 0x20),  # `@` always means the register
        ("rip - 1000", 0x400000),
    ],
)
def test_registers(text: str, value: int) -> None:
    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$ip", 0x401000),
        ("@$ip", 0x401000),
        ("$IP", 0x401000),
        ("$csp", STACK),
        ("@$csp + 10", STACK + 0x10),
        ("$ra", 0x401234),
        ("$tid", 0x4D2),
        ("$tpid", 0x4D1),
        ("$t0", 0),
        ("$t1*2", 0xE),
        (".", 0x401000),
        (". + 4", 0x401004),
        (".+4", 0x401004),
        ("(.)", 0x401000),
    ],
)
def test_pseudo_registers_and_dot(text: str, value: int) -> None:
    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("main", MAIN),
        ("prog!main", MAIN),
        ("prog!main+0x10", MAIN + 0x10),
        ("prog!main+10", MAIN + 0x10),  # radix 16
        ("prog!main + 0n10", MAIN + 10),
        ("prog!main-1", MAIN - 1),
        ("_start", 0x401020),
        ("prog!ns::func", 0x401300),
        ("poi(@rsp) - prog!main", STACK + 0x10 - MAIN),
    ],
)
def test_symbols(text: str, value: int) -> None:
    assert ev(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('@!"prog!ns::Box<int>::get() const"', 0x401400),
        ('@!"prog!ns::Box<int>::get() const"+4', 0x401404),
        ('poi(@rsp) - @!"ns::V::operator!="', STACK + 0x10 - 0x401500),
        ('@!"main"', MAIN),
    ],
)
def test_quoted_symbols(text: str, value: int) -> None:
    # cdb's @!"name": a symbol whose name MASM would otherwise read as operators.
    assert ev(text) == value


def test_quoted_symbol_errors() -> None:
    with pytest.raises(CommandSyntaxError, match=r'unterminated @!"symbol"'):
        ev('@!"prog!ns::f(int')
    with pytest.raises(ExpressionError, match="unknown symbol 'ns::g<int>'"):
        ev('@!"ns::g<int>"')


def test_unknown_symbol() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("1 + nosuch")
    assert str(info.value) == "unknown symbol 'nosuch'"
    assert not isinstance(info.value, KeyError)


def test_unknown_module_qualified_symbol() -> None:
    with pytest.raises(ExpressionError, match="unknown symbol 'prog!nosuch'"):
        ev("prog!nosuch")


def test_unknown_register_raises_invalid_register_error() -> None:
    with pytest.raises(InvalidRegisterError) as info:
        ev("@foo + 1")
    assert info.value.name == "foo"
    assert isinstance(info.value, KeyError)


def test_unknown_pseudo_register() -> None:
    with pytest.raises(UnknownPseudoRegisterError) as info:
        ev("$nosuch")
    assert info.value.name == "nosuch"
    assert str(info.value) == "unknown pseudo-register $nosuch"
    assert isinstance(info.value, ExpressionError)


# --- Errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("1 + * 2", 4, "expected an operand"),
        ("1 +", 3, "expected an operand"),
        ("*2", 0, "expected an operand"),
        ("mod 2", 0, "expected an operand"),
        ("poi", 3, "expected an operand"),
        ("()", 1, "expected an operand"),
        (")", 0, "expected an operand"),
        ("(1+2", 4, "expected ')'"),
        ("((1)", 4, "expected ')'"),
        ("(1 2)", 3, "expected ')'"),
        ("1+2)", 3, "unbalanced ')'"),
        ("(1))", 3, "unbalanced ')'"),
        ("1 2", 2, "unexpected '2' after the expression"),
        ("@rax rbx", 5, "unexpected 'rbx' after the expression"),
        ("1 poi 2", 2, "unexpected 'poi' after the expression"),
        ("1 ! 2", 2, "unexpected '!' after the expression"),
        ("1 || 2", 3, "expected an operand"),
        ("#", 0, "unexpected character '#'"),
        ("1 + #", 4, "unexpected character '#'"),
        ("1 #", 2, "unexpected character '#'"),
        ('1 "x"', 2, "unexpected character '\"'"),
        ("@", 0, "expected a register name"),
        ("@ rax", 0, "expected a register name"),
        ("$", 0, "expected a pseudo-register name"),
        ("@$", 0, "expected a pseudo-register name"),
        ("", 0, "empty expression"),
        ("   ", 0, "empty expression"),
    ],
)
def test_syntax_errors(text: str, column: int, reason: str) -> None:
    with pytest.raises(CommandSyntaxError) as info:
        ev(text)
    assert (info.value.text, info.value.column, info.value.reason) == (text, column, reason)
    assert str(info.value) == f"syntax error at column {column} in {text!r}: {reason}"


def test_syntax_error_message() -> None:
    with pytest.raises(CommandSyntaxError) as info:
        ev("1 + * 2")
    assert str(info.value) == "syntax error at column 4 in '1 + * 2': expected an operand"
    assert isinstance(info.value, CommandError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["1/0", "1 % 0", "1 mod 0", "5/(3-3)", "0/0", "1 / (1 - 1) + 2"])
def test_division_by_zero(text: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(text)
    assert str(info.value) == "division by zero"
    assert not isinstance(info.value, ZeroDivisionError)
    assert isinstance(info.value, ValueError)


def test_whitespace_is_free() -> None:
    assert ev("  ( 1+ 2 )\t*\t3  ") == 9


# --- evaluate_prefix --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "column"),
    [
        ("1+2", 3, 3),
        ("1+2   ", 3, 6),
        ("@rsp L4", STACK, 5),
        ("poi(@rsp) l8", STACK + 0x10, 10),
        ("1 2", 1, 2),
        ('main+8 "k;g"', MAIN + 8, 7),  # the string is not even readable as a token
        ("prog!main) x", MAIN, 9),
        ("@rsp + 8 # rest", STACK + 8, 9),
    ],
)
def test_evaluate_prefix_stops_after_the_expression(
    ctx: FakeContext, text: str, value: int, column: int
) -> None:
    assert evaluate_prefix(text, ctx) == (value, column)


def test_evaluate_prefix_still_needs_an_expression(ctx: FakeContext) -> None:
    with pytest.raises(CommandSyntaxError, match="empty expression"):
        evaluate_prefix("  ", ctx)
    with pytest.raises(CommandSyntaxError, match="column 4 .*: expected an operand"):
        evaluate_prefix("1 + ) x", ctx)
    with pytest.raises(CommandSyntaxError, match="column 4 .*: unexpected character ';'"):
        evaluate_prefix("1 + ;", ctx)


def test_evaluate_prefix_honours_radix(ctx: FakeContext) -> None:
    assert evaluate_prefix("10 20", ctx, 10) == (10, 3)
