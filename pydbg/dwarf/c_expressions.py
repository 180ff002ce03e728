"""C expressions over typed values (cdb's `??`, the C++ evaluator's C subset): variables,
members `a.b` and `p->b`, indexing `a[i]` and `p[i]`, `*p`, `&x`, casts to C and DWARF
types `(struct node *)p`, `sizeof`, arithmetic, shifts, comparisons, bitwise and logical
operators with C's integer promotions and usual arithmetic conversions (LP64: int 4,
long 8 bytes), pointer arithmetic (`p + 1`, `p - q`), and integer, character and
floating literals.

`evaluate_c(text, names)` parses with precedence climbing and evaluates as it goes
(`&&`, `||` and `?:` short-circuit as in C: the operand they skip is read, not
evaluated);
`names` resolves identifiers to values and type names to types.  Results are `Value`s:
computed ones carry their bytes (an implicit location), the others stay where they are
(so `&first.where` works).  Errors are ExpressionSyntaxError (with the column) or
DwarfError (a member that is not there, `*` of an int...).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from pydbg.dwarf.errors import DwarfError
from pydbg.dwarf.locations import Location, Piece
from pydbg.dwarf.types import (
    ArrayType,
    BaseType,
    Encoding,
    EnumType,
    PointerType,
    StructType,
    Type,
    complete,
    strip_typedefs,
)
from pydbg.dwarf.values import Value, ValueReader

__all__ = ["CNames", "ExpressionSyntaxError", "check_c_syntax", "evaluate_c"]


class ExpressionSyntaxError(DwarfError, ValueError):
    """C expression text that cannot be read; `column` says where."""

    def __init__(self, text: str, column: int, reason: str) -> None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(f"syntax error at column {column} in {shown!r}: {reason}")
        self.column = column


@dataclass
class CNames:
    """How identifiers resolve: variables (None if unknown), DWARF types by name (None if
    unknown), and the reader for values computed here."""

    variable: Callable[[str], Value | None]
    type_named: Callable[[str], Type | None]
    reader: ValueReader


INT = BaseType("int", 4, Encoding.SIGNED)
UINT = BaseType("unsigned int", 4, Encoding.UNSIGNED)
LONG = BaseType("long", 8, Encoding.SIGNED)
ULONG = BaseType("unsigned long", 8, Encoding.UNSIGNED)
DOUBLE = BaseType("double", 8, Encoding.FLOAT)
FLOAT = BaseType("float", 4, Encoding.FLOAT)
CHAR = BaseType("char", 1, Encoding.SIGNED_CHAR)
C_TYPES: dict[str, BaseType] = {
    "char": CHAR,
    "signed char": BaseType("signed char", 1, Encoding.SIGNED_CHAR),
    "unsigned char": BaseType("unsigned char", 1, Encoding.UNSIGNED_CHAR),
    "short": BaseType("short", 2, Encoding.SIGNED),
    "unsigned short": BaseType("unsigned short", 2, Encoding.UNSIGNED),
    "int": INT,
    "signed": INT,
    "unsigned": UINT,
    "unsigned int": UINT,
    "long": LONG,
    "unsigned long": ULONG,
    "long long": BaseType("long long", 8, Encoding.SIGNED),
    "unsigned long long": BaseType("unsigned long long", 8, Encoding.UNSIGNED),
    "float": FLOAT,
    "double": DOUBLE,
    "_Bool": BaseType("_Bool", 1, Encoding.BOOLEAN),
    "bool": BaseType("bool", 1, Encoding.BOOLEAN),
}
_TYPE_WORDS = {
    "char",
    "short",
    "int",
    "long",
    "signed",
    "unsigned",
    "float",
    "double",
    "_Bool",
    "bool",
    "void",
    "const",
    "volatile",
    "struct",
    "union",
    "enum",
    "class",
}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+\.\d*(?:[eE][-+]?\d+)?[fF]?|\d+[eE][-+]?\d+"
    r"|\d+[uUlL]*)|(?P<char>'(?:\\.|[^'\\])+')|(?P<id>[A-Za-z_]\w*(?:::\w+)*)"
    r"|(?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>()\[\].?:,]))"
)
_BINARY = [
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]
_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise ExpressionSyntaxError(text, column, f"unexpected {text[column]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


def constant(t: Type, number: int | float, reader: ValueReader) -> Value:
    """A computed value of a scalar type."""
    s = strip_typedefs(t)
    if isinstance(s, BaseType) and s.encoding == Encoding.FLOAT:
        data = struct.pack("<f" if s.size == 4 else "<d", float(number))
    else:
        size = max(s.size, 1)
        data = (int(number) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return Value(t, Location([Piece("implicit", data=data)]), reader)


def _is_float(t: Type) -> bool:
    s = strip_typedefs(t)
    return isinstance(s, BaseType) and s.encoding == Encoding.FLOAT


def _integer_info(t: Type) -> tuple[int, bool]:
    s = strip_typedefs(t)
    if isinstance(s, BaseType):
        return s.size, s.is_signed or s.encoding == Encoding.BOOLEAN
    if isinstance(s, EnumType):
        return s.size, s.is_signed  # gcc gives enums an underlying type (unsigned int)
    raise DwarfError(f"{t.display} is not an arithmetic type")


def _promote(t: Type) -> Type:
    size, signed = _integer_info(t)
    if size < 4:
        return INT
    return t


def _common(a: Type, b: Type) -> Type:
    """C's usual arithmetic conversions (LP64)."""
    if _is_float(a) or _is_float(b):
        sizes = [strip_typedefs(x).size for x in (a, b) if _is_float(x)]
        return DOUBLE if max(sizes) >= 8 else FLOAT
    a, b = _promote(a), _promote(b)
    (sa, signed_a), (sb, signed_b) = _integer_info(a), _integer_info(b)
    size = max(sa, sb)
    # Same rank: unsigned wins; else the larger type's signedness (it holds the other).
    signed = (signed_a and signed_b) if sa == sb else (signed_a if sa > sb else signed_b)
    if size == 4:
        return INT if signed else UINT
    return LONG if signed else ULONG


def _number(v: Value) -> int | float:
    return float(v) if _is_float(v.type) else int(v)


class _Parser:
    def __init__(self, text: str, names: CNames) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.names = names

    # -- tokens ---------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> tuple[str, str, int] | None:
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ExpressionSyntaxError(self.text, len(self.text), "unexpected end")
        if value is not None and token[1] != value:
            raise ExpressionSyntaxError(self.text, token[2], f"expected {value!r}")
        self.pos += 1
        return token

    def at(self, *values: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in values

    # -- grammar --------------------------------------------------------------------------

    def expression(self) -> Value:
        value = self.conditional()
        token = self.peek()
        if token is not None:
            raise ExpressionSyntaxError(self.text, token[2], f"unexpected {token[1]!r}")
        return value

    def conditional(self) -> Value:
        condition = self.binary(0)
        if not self.at("?"):
            return condition
        self.take("?")
        if _number(condition):  # only the branch taken is evaluated, as in C
            yes = self.conditional()
            self.take(":")
            self.skip_operand(":")
            return yes
        self.skip_operand("?")
        self.take(":")
        return self.conditional()

    def binary(self, level: int) -> Value:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.at(*_BINARY[level]):
            op = self.take()[1]
            if op in ("&&", "||") and bool(_number(left)) == (op == "||"):
                # C's short circuit: the right operand is not evaluated (`p && p->next`).
                self.skip_operand(_BINARY[level][0])
                left = constant(INT, int(op == "||"), self.names.reader)
                continue
            right = self.binary(level + 1)
            left = self.apply(op, left, right)
        return left

    def skip_operand(self, op: str) -> None:
        """Pass over an operand without evaluating it: the right operand of `op` (&& or
        ||) up to the next operator that binds no tighter, `?`, `:`, `,` or an unmatched
        `)`/`]`; after `?` the branch up to its `:`; after `:` the rest of the
        conditional (nested `?:` included)."""
        stops = {"||", "?", ":", ","} | ({"&&"} if op == "&&" else set())
        if op in "?:":
            stops = {":", ","}
        depth = questions = 0
        start = self.pos
        while (token := self.peek()) is not None:
            if token[0] == "op":
                if token[1] in "([":
                    depth += 1
                elif token[1] in ")]":
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0 and op in "?:" and token[1] == "?":
                    questions += 1
                elif depth == 0 and token[1] == ":" and questions:
                    questions -= 1
                elif depth == 0 and token[1] in stops:
                    break
            self.pos += 1
        if self.pos == start or depth:
            raise ExpressionSyntaxError(self.text, len(self.text), f"no operand after {op!r}")

    def apply(self, op: str, a: Value, b: Value) -> Value:
        reader = self.names.reader
        ta, tb = strip_typedefs(a.type), strip_typedefs(b.type)
        if op in ("&&", "||"):
            truth = (
                bool(_number(a)) and bool(_number(b))
                if op == "&&"
                else (bool(_number(a)) or bool(_number(b)))
            )
            return constant(INT, int(truth), reader)
        pa = isinstance(ta, (PointerType, ArrayType))
        pb = isinstance(tb, (PointerType, ArrayType))
        if pa or pb:
            return self.pointer_arithmetic(op, a, b, pa, pb)
        common = _common(a.type, b.type)
        x, y = _number(a), _number(b)
        if op in ("==", "!=", "<", ">", "<=", ">="):
            if not _is_float(common):
                x, y = self.convert(x, common), self.convert(y, common)
            holds = {
                "==": x == y,
                "!=": x != y,
                "<": x < y,
                ">": x > y,
                "<=": x <= y,
                ">=": x >= y,
            }[op]
            return constant(INT, int(holds), reader)
        if _is_float(common):
            if op not in "+-*/":
                raise DwarfError(f"operator {op} needs integers")
            if op == "/" and y == 0:
                raise DwarfError("division by zero")
            return constant(
                common, {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else 0}[op], reader
            )
        if op in ("<<", ">>"):
            left_type = _promote(a.type)
            x = self.convert(int(x), left_type)
            return constant(left_type, x << int(y) if op == "<<" else x >> int(y), reader)
        x, y = self.convert(int(x), common), self.convert(int(y), common)
        if op in "/%" and y == 0:
            raise DwarfError("division by zero")
        if op == "/":
            result = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        elif op == "%":
            result = x - y * (abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1))
        else:
            result = {"+": x + y, "-": x - y, "*": x * y, "&": x & y, "|": x | y, "^": x ^ y}[op]
        return constant(common, result, reader)

    @staticmethod
    def convert(number: int | float, t: Type) -> int:
        size, signed = _integer_info(t)
        value = int(number) & ((1 << (8 * size)) - 1)
        if signed and value >> (8 * size - 1):
            value -= 1 << (8 * size)
        return value

    def pointer_arithmetic(self, op: str, a: Value, b: Value, pa: bool, pb: bool) -> Value:
        reader = self.names.reader
        if pa and pb:
            x, y = _address(a), _address(b)
            if op == "-":
                size = max(_target(a.type).size, 1)
                return constant(LONG, (x - y) // size, reader)
            if op in ("==", "!=", "<", ">", "<=", ">="):
                holds = {
                    "==": x == y,
                    "!=": x != y,
                    "<": x < y,
                    ">": x > y,
                    "<=": x <= y,
                    ">=": x >= y,
                }[op]
                return constant(INT, int(holds), reader)
            raise DwarfError(f"operator {op} on two pointers")
        pointer, other = (a, b) if pa else (b, a)
        if op in ("==", "!="):
            equal = _address(pointer) == _number(other)
            return constant(INT, int(equal == (op == "==")), reader)
        if op not in ("+", "-") or (op == "-" and pb):
            raise DwarfError(f"operator {op} with a pointer")
        step = max(_target(pointer.type).size, 1) * int(_number(other))
        address = _address(pointer) + (step if op == "+" else -step)
        return constant(_pointer_type(pointer.type), address, reader)

    def unary(self) -> Value:
        reader = self.names.reader
        if self.at("-", "+", "!", "~"):
            op = self.take()[1]
            v = self.unary()
            if op == "!":
                return constant(INT, int(not _number(v)), reader)
            if op == "+":
                return v if _is_float(v.type) else constant(_promote(v.type), int(v), reader)
            t = v.type if _is_float(v.type) else _promote(v.type)
            if op == "-":
                return constant(t, -_number(v), reader)
            return constant(t, ~int(v), reader)
        if self.at("*"):
            self.take()
            v = self.unary()
            s = strip_typedefs(v.type)
            if isinstance(s, ArrayType):
                return v[0]
            return v.deref()
        if self.at("&"):
            self.take()
            v = self.unary()
            if v.address is None:
                raise DwarfError("& of a value that is not in memory")
            return constant(PointerType(target=v.type), v.address, reader)
        token = self.peek()
        if token is not None and token[1] == "sizeof":
            self.take()
            if self.at("(") and self.is_type_start(1):
                self.take("(")
                t = self.type_name()
                self.take(")")
            else:
                t = self.unary().type
            # gdb types sizeof as int in C (C says size_t): pydbg says what gdb says.
            return constant(INT, complete(strip_typedefs(t)).size, reader)
        if self.at("(") and self.is_type_start(1):
            self.take("(")
            t = self.type_name()
            self.take(")")
            return self.cast(t, self.unary())
        return self.postfix()

    def is_type_start(self, ahead: int) -> bool:
        token = self.peek(ahead)
        if token is None or token[0] != "id":
            return False
        if token[1] in _TYPE_WORDS:
            return True
        if self.names.variable(token[1]) is not None:
            return False
        return self.names.type_named(token[1]) is not None

    def type_name(self) -> Type:
        words: list[str] = []
        while True:
            token = self.peek()
            if token is None or token[0] != "id":
                break
            if words and words[-1] not in _TYPE_WORDS and token[1] not in _TYPE_WORDS:
                break
            words.append(self.take()[1])
        words = [w for w in words if w not in ("const", "volatile")]
        text = " ".join(words)
        t: Type | None
        if text.startswith(("struct ", "union ", "enum ", "class ")):
            t = self.names.type_named(text)
        elif text == "void":
            from pydbg.dwarf.types import VoidType

            t = VoidType()
        else:
            canonical = re.sub(r"\bint\b", "", text).strip() if text not in C_TYPES else text
            t = C_TYPES.get(text) or C_TYPES.get(canonical) or self.names.type_named(text)
        token = self.peek()
        if t is None:
            column = token[2] if token else len(self.text)
            raise ExpressionSyntaxError(self.text, column, f"no type named {text!r}")
        while self.at("*"):
            self.take()
            t = PointerType(target=t)
        return t

    def cast(self, t: Type, v: Value) -> Value:
        s = strip_typedefs(t)
        reader = self.names.reader
        if isinstance(s, (StructType, ArrayType)):
            if v.address is None:
                raise DwarfError(f"cannot cast a computed value to {t.display}")
            return Value(t, Location([Piece("memory", address=v.address)]), reader)
        source = strip_typedefs(v.type)
        number: int | float = _address(v) if isinstance(source, ArrayType) else _number(v)
        if isinstance(s, BaseType) and s.encoding == Encoding.BOOLEAN:
            number = int(bool(number))
        elif not _is_float(t):
            number = int(number)
        return constant(t, number, reader)

    def postfix(self) -> Value:
        v = self.primary()
        while True:
            if self.at("."):
                self.take()
                v = v.member(self.take()[1])
            elif self.at("->"):
                self.take()
                v = v.deref().member(self.take()[1])
            elif self.at("["):
                self.take()
                index = int(_number(self.conditional()))
                self.take("]")
                s = strip_typedefs(v.type)
                if isinstance(s, ArrayType) and s.count is not None and 0 <= index < s.count:
                    v = v[index]
                elif isinstance(s, ArrayType):
                    v = Value(
                        s.element,
                        Location([Piece("memory", address=_address(v) + index * s.element.size)]),
                        self.names.reader,
                    )
                else:
                    v = v.deref(index)
            else:
                return v

    def primary(self) -> Value:
        reader = self.names.reader
        kind, text, column = self.take()
        if kind == "num":
            return _literal(text, reader)
        if kind == "char":
            body = text[1:-1]
            code = ord(body) if len(body) == 1 else _escape(body, self.text, column)
            return constant(CHAR, code, reader)
        if kind == "id":
            v = self.names.variable(text)
            if v is None:
                raise DwarfError(f"no symbol {text!r} in the current context")
            return v
        if text == "(":
            v = self.conditional()
            self.take(")")
            return v
        raise ExpressionSyntaxError(self.text, column, f"unexpected {text!r}")


def _escape(body: str, text: str, column: int) -> int:
    if body.startswith("\\x"):
        return int(body[2:], 16) & 0xFF
    if body.startswith("\\") and body[1:].isdigit():
        return int(body[1:], 8) & 0xFF
    if body.startswith("\\") and len(body) == 2 and body[1] in _ESCAPES:
        return _ESCAPES[body[1]]
    raise ExpressionSyntaxError(text, column, f"bad character literal {body!r}")


def _literal(text: str, reader: ValueReader) -> Value:
    lower = text.lower()
    if ("." in text or "e" in lower) and not lower.startswith("0x"):
        if lower.endswith("f"):
            return constant(FLOAT, float(text[:-1]), reader)
        return constant(DOUBLE, float(text), reader)
    digits = lower.rstrip("ul")
    suffix = lower[len(digits) :]
    number = (
        int(digits, 16)
        if digits.startswith("0x")
        else int(digits, 8 if digits.startswith("0") and len(digits) > 1 else 10)
    )
    unsigned = "u" in suffix
    if "l" in suffix or number >= 1 << 32 or (number >= 1 << 31 and not digits.startswith("0x")):
        return constant(ULONG if unsigned or number >= 1 << 63 else LONG, number, reader)
    if unsigned or number >= 1 << 31:
        return constant(UINT, number, reader)
    return constant(INT, number, reader)


def _address(v: Value) -> int:
    s = strip_typedefs(v.type)
    if isinstance(s, ArrayType):
        if v.address is None:
            raise DwarfError("an array that is not in memory")
        return v.address
    return int(v)


def _target(t: Type) -> Type:
    s = strip_typedefs(t)
    if isinstance(s, PointerType):
        return complete(strip_typedefs(s.target))
    if isinstance(s, ArrayType):
        return complete(strip_typedefs(s.element))
    raise DwarfError(f"{t.display} is not a pointer")


def _pointer_type(t: Type) -> Type:
    s = strip_typedefs(t)
    if isinstance(s, ArrayType):
        return PointerType(target=s.element)
    return t


def evaluate_c(text: str, names: CNames) -> Value:
    """The value of a C expression (see the module docstring)."""
    if not text.strip():
        raise ExpressionSyntaxError(text, 0, "empty expression")
    try:
        return _Parser(text, names).expression()
    except RecursionError:
        raise ExpressionSyntaxError(text, 0, "expression nested too deeply") from None


def check_c_syntax(text: str) -> None:
    """Raise ExpressionSyntaxError if `text` is empty or holds what no C expression holds
    (a character C has no token for: `@`, `$`, a backtick...).  Names are not looked up
    and the grammar is checked only when the expression is evaluated."""
    if not text.strip():
        raise ExpressionSyntaxError(text, 0, "empty expression")
    _tokens(text)
