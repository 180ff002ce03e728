"""MASM expressions: cdb's default expression evaluator, on unsigned 64-bit values.

What is accepted follows the debugger documentation's "MASM Numbers and Operators", "Register
Syntax" and "Pseudo-Register Syntax" pages
(learn.microsoft.com/windows-hardware/drivers/debuggercmds/masm-numbers-and-operators):

Values
    Every value is an unsigned 64-bit integer and every result wraps modulo 2**64, so `0-1`
    is 0xffffffffffffffff. Division, `mod` and the comparisons are unsigned; only `>>>`
    looks at the sign.

Numbers
    Read in the current radix (16 unless told otherwise, so `10` is sixteen). The prefixes
    `0x` (hex), `0n` (decimal), `0t` (octal) and `0y` (binary) override it, as does a
    trailing `h` (hex) on a number that starts with a digit (`10h`, `0ah`). A backtick
    between digits is ignored, so 64-bit values can be pasted as cdb prints them:
    `00000000`00401000`. A word that starts with a letter is a number when all of it is
    digits of the radix: in radix 16 `add` is 0xadd; write `@ah` for the register ah and
    `module!name` for a symbol that looks like a number.

Registers and pseudo-registers
    `@rax` is a register; `$ip`, `@$ip`, `$t0`, `$csp`, ... are pseudo-registers, handed to
    the context without the `$`. `.` alone is `$ip`. Register and pseudo-register names are
    case-insensitive and passed on in lower case.

Symbols
    A bare word (`main`, `prog!main`, `ns::f`) is looked up as a symbol first and, when
    unknown, as a register without `@` (cdb's order); when it is neither, the expression is
    in error (UnknownSymbolError, an ExpressionError and a pydbg.errors.SymbolError). Symbol
    names are passed on as written, since ELF symbols are case-sensitive.  `@!"name"`
    quotes a name with characters MASM would read as operators:
    `@!"cpp!ns::Box<int>::get"`, `@!"ns::K::f(int)"+4`.

C++ operands
    `@@c++(expr)` and `@@(expr)` are the value of a C expression, from the context's C
    evaluator (the scope frame's variables and DWARF types), as an unsigned 64-bit number:
    `? @@c++(sizeof(struct node))`, `? poi(@@c++(&g_list))`; pydbg.commands.evaluator_switch
    says how C values become numbers.  `@@masm(expr)` is a parenthesized MASM expression.

Operators, highest precedence first (all binary ones associate to the left)
    ( )                                     grouping
    + - ~ !  hi low  by wo dwo qwo poi      unary
    * / mod %                               multiplicative
    + -                                     additive
    << >> >>>                               shifts (`>>` logical, `>>>` arithmetic)
    = == < > <= >= !=                       comparisons, giving 1 or 0
    and &
    xor ^
    or |

    `by`, `wo`, `dwo` and `qwo` read 1, 2, 4 and 8 bytes of target memory at their
    operand, `poi` reads a pointer (8 bytes), all little-endian; memory is read only by these
    operators. `hi` and `low` are the high and low 16 bits of the low 32 bits. `!` gives 1
    for 0 and 0 for anything else; `~` complements all 64 bits. The word operators (`mod`,
    `and`, `hi`, `poi`, ...) are reserved words, recognised in any case.

The evaluator is a lexer feeding an operator-precedence parser that computes values as it
parses, without recursion; nothing is handed to Python's eval.  Parentheses nest at most
MAX_DEPTH (200) levels and a number must fit in 64 bits: beyond either the text is a
CommandSyntaxError, never a Python RecursionError or ValueError.  `evaluate` wants the whole
text to be one expression; `evaluate_prefix` reads the longest expression at the start of
the text and says where it stopped, for commands whose arguments follow an address
(`dd @rsp L4`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from pydbg.commands.errors import (
    CommandSyntaxError,
    ExpressionError,
    UnknownSymbolExpressionError,
)
from pydbg.errors import InvalidRegisterError

__all__ = [
    "MAX_DEPTH",
    "ExpressionContext",
    "closing_parenthesis",
    "evaluate",
    "evaluate_prefix",
    "parse_number",
]

_MASK: Final = (1 << 64) - 1
_SIGN: Final = 1 << 63


class ExpressionContext(Protocol):
    """What an expression may ask of the debugger: registers, memory and symbols."""

    def register(self, name: str) -> int:
        """The value of register `name` ("rax", "eax", "al", "rip", "efl", ...).

        Raises pydbg.errors.InvalidRegisterError when there is no such register.
        """
        ...

    def pseudo_register(self, name: str) -> int:
        """The value of pseudo-register `name`, given without '$' ("ip", "csp", "t0", ...).

        Raises pydbg.commands.errors.UnknownPseudoRegisterError when there is none.
        """
        ...

    def read_memory(self, address: int, size: int) -> bytes:
        """`size` bytes of target memory at `address`; may raise MemoryAccessError."""
        ...

    def symbol(self, name: str) -> int | None:
        """The address of symbol `name` ("main", "prog!main"), or None when unknown."""
        ...

    def source_line(self, spec: str) -> int:
        """The address of `[module!]file:line` (a `` `file.c:42` `` operand): the
        lowest address of the line's code, or of the next line with code.  Raises
        pydbg.errors.SourceLineError subclasses when there is none."""
        ...

    def c_expression(self, text: str) -> int:
        """The value of the C expression `text` (an `@@c++(...)` operand) as an unsigned
        64-bit number.  Raises ExpressionError (or a PydbgError of the C evaluator)."""
        ...


# --- Lexer ------------------------------------------------------------------------------

_Kind = Literal[
    "number",
    "word",
    "register",
    "pseudo",
    "dot",
    "operator",
    "(",
    ")",
    "end",
    "invalid",
    "line",
    "c++",
    "masm",
]


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str  # operators in lower case, names as written; for "invalid", why
    column: int
    value: int = 0  # for numbers


# Longest first, so that `>>>` is not read as `>>` and `>`.
_PUNCTUATION: Final = (
    ">>>", ">>", "<<", "<=", ">=", "==", "!=",
    "<", ">", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!",
)  # fmt: skip
_WORD_OPERATORS: Final = frozenset(
    {"mod", "and", "xor", "or", "hi", "low", "by", "wo", "dwo", "qwo", "poi"}
)
# A word: identifier characters, joined by the module separator `!`, C++'s `::`, or the
# backtick cdb puts in the middle of 64-bit numbers.
_WORD: Final = re.compile(r"[A-Za-z0-9_]+(?:(?:`|!|::)[A-Za-z0-9_]+)*")
_NAME: Final = re.compile(r"[A-Za-z0-9_]+")
_SWITCH: Final = re.compile(r"@@(c\+\+|masm|)\(", re.IGNORECASE)
_PREFIX_BASES: Final = {"x": 16, "n": 10, "t": 8, "y": 2}
_DIGITS: Final = {
    2: frozenset("01"),
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdef"),
}


# The most significant digits a 64-bit value has in each base (leading zeros do not count).
_MAX_DIGITS: Final = {2: 64, 8: 22, 10: 20, 16: 16}


def parse_number(word: str, radix: int = 10) -> int | None:
    """The value of `word` read as a MASM number in `radix`, or None when it is not one.

    The one reader of numbers in the command language: expressions, and the decimal
    numbers commands take outside them (breakpoint ids, `~Ns`, `$tN`, `n 16`).  Accepts the
    prefixes 0x/0n/0t/0y, a trailing `h` on a word that starts with a digit, and backticks;
    only ASCII digits (str.isdigit and int() would also take other scripts' digits, `_`
    separators and signs).  Raises CommandSyntaxError when `word` is a number that does not
    fit in 64 bits; the length is checked before any conversion, so a literal of thousands
    of digits is refused at once (int() refuses decimal strings of over 4300 digits with a
    ValueError, and is slow on long ones below that).
    """
    if radix not in _DIGITS:
        raise ValueError(f"radix must be 2, 8, 10 or 16, not {radix}")
    text = word.replace("`", "").lower()
    base, digits = radix, text
    if len(text) >= 2 and text[0] == "0" and text[1] in _PREFIX_BASES:
        base, digits = _PREFIX_BASES[text[1]], text[2:]
    elif len(text) >= 2 and text[0] in _DIGITS[10] and text.endswith("h"):
        base, digits = 16, text[:-1]
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    significant = digits.lstrip("0")
    if len(significant) <= _MAX_DIGITS[base]:
        value = int(significant or "0", base)
        if value <= _MASK:
            return value
    raise CommandSyntaxError(word, 0, f"number {_abridged(word)} does not fit in 64 bits")


def _abridged(word: str, keep: int = 24) -> str:
    """`word` quoted, cut short for a message when it is long."""
    if len(word) <= keep:
        return repr(word)
    return f"{word[:keep]!r}... ({len(word)} characters)"


class _Lexer:
    """Tokens on demand, so that `evaluate_prefix` never reads past its expression.

    The lexer does not raise: text it cannot read becomes an "invalid" token, which is an
    error only if the parser needs a token there.
    """

    def __init__(self, text: str, radix: int) -> None:
        self.text = text
        self.radix = radix
        self.pos = 0

    def next(self) -> _Token:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        start = self.pos
        if start >= len(text):
            return _Token("end", "", start)
        ch = text[start]
        if ch in "()":
            self.pos += 1
            return _Token("(" if ch == "(" else ")", ch, start)
        if ch == ".":
            self.pos += 1
            return _Token("dot", ".", start)
        if ch == "`":  # `file.c:42`, a source line (cdb)
            close = text.find("`", start + 1)
            if close < 0:
                self.pos = len(text)
                return _Token("invalid", "unterminated `file:line`", start)
            self.pos = close + 1
            return _Token("line", text[start + 1 : close].strip(), start)
        if switch := _SWITCH.match(text, start):  # @@c++( @@( @@masm(
            closing = closing_parenthesis(text, switch.end() - 1)
            if closing is None:
                self.pos = len(text)
                return _Token("invalid", f"unterminated {switch.group()}...)", start)
            self.pos = closing + 1
            kind: _Kind = "masm" if switch[1].lower() == "masm" else "c++"
            return _Token(kind, text[switch.end() : closing], start)
        if ch == "$" or text.startswith("@$", start):
            return self._name("pseudo", start, start + (1 if ch == "$" else 2))
        if text.startswith('@!"', start):
            # cdb's quoted symbol: a name with characters MASM would read as operators.
            end = text.find('"', start + 3)
            if end < 0:
                self.pos = len(text)
                return _Token("invalid", 'unterminated @!"symbol"', start)
            self.pos = end + 1
            return _Token("word", text[start + 3 : end], start)
        if ch == "@":
            return self._name("register", start, start + 1)
        if word := _WORD.match(text, start):
            self.pos = word.end()
            return self._classify(word.group(), start)
        for punctuation in _PUNCTUATION:
            if text.startswith(punctuation, start):
                self.pos += len(punctuation)
                return _Token("operator", punctuation, start)
        self.pos += 1
        return _Token("invalid", f"unexpected character {ch!r}", start)

    def _name(self, kind: Literal["pseudo", "register"], start: int, name_start: int) -> _Token:
        name = _NAME.match(self.text, name_start)
        if name is None:
            self.pos = name_start
            what = "a pseudo-register" if kind == "pseudo" else "a register"
            return _Token("invalid", f"expected {what} name", start)
        self.pos = name.end()
        return _Token(kind, name.group().lower(), start)

    def _classify(self, word: str, start: int) -> _Token:
        if word.lower() in _WORD_OPERATORS:
            return _Token("operator", word.lower(), start)
        try:
            value = parse_number(word, self.radix)
        except CommandSyntaxError as exc:
            return _Token("invalid", exc.reason, start)
        if value is None:
            if word[0] in _DIGITS[10] or "`" in word:
                return _Token("invalid", f"invalid number {_abridged(word)}", start)
            return _Token("word", word, start)
        return _Token("number", word, start, value)


def closing_parenthesis(text: str, opening: int) -> int | None:
    """The index of the `)` that closes the `(` at `opening` (quoted text skipped), or
    None when it is not closed."""
    depth = 0
    quote = ""
    index = opening
    while index < len(text):
        ch = text[index]
        if quote:
            if ch == "\\":
                index += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


# --- Operators --------------------------------------------------------------------------


def _signed(value: int) -> int:
    return value - (1 << 64) if value & _SIGN else value


def _divide(a: int, b: int) -> int:
    if b == 0:
        raise ExpressionError("division by zero")
    return a // b


def _modulo(a: int, b: int) -> int:
    if b == 0:
        raise ExpressionError("division by zero")
    return a % b


# Shift counts are clamped: Python would build a huge integer for `1 << 0xffffffff`.
def _shift_left(a: int, b: int) -> int:
    return (a << b) & _MASK if b < 64 else 0


def _shift_right(a: int, b: int) -> int:
    return a >> min(b, 64)


def _shift_right_arithmetic(a: int, b: int) -> int:
    return (_signed(a) >> min(b, 64)) & _MASK


@dataclass(frozen=True)
class _Binary:
    precedence: int  # higher binds tighter
    apply: Callable[[int, int], int]


_OR, _XOR, _AND, _COMPARE, _SHIFT, _ADD, _MULTIPLY = range(1, 8)
_BINARY: Final[dict[str, _Binary]] = {
    "or": _Binary(_OR, lambda a, b: a | b),
    "|": _Binary(_OR, lambda a, b: a | b),
    "xor": _Binary(_XOR, lambda a, b: a ^ b),
    "^": _Binary(_XOR, lambda a, b: a ^ b),
    "and": _Binary(_AND, lambda a, b: a & b),
    "&": _Binary(_AND, lambda a, b: a & b),
    "=": _Binary(_COMPARE, lambda a, b: int(a == b)),
    "==": _Binary(_COMPARE, lambda a, b: int(a == b)),
    "!=": _Binary(_COMPARE, lambda a, b: int(a != b)),
    "<": _Binary(_COMPARE, lambda a, b: int(a < b)),
    ">": _Binary(_COMPARE, lambda a, b: int(a > b)),
    "<=": _Binary(_COMPARE, lambda a, b: int(a <= b)),
    ">=": _Binary(_COMPARE, lambda a, b: int(a >= b)),
    "<<": _Binary(_SHIFT, _shift_left),
    ">>": _Binary(_SHIFT, _shift_right),
    ">>>": _Binary(_SHIFT, _shift_right_arithmetic),
    "+": _Binary(_ADD, lambda a, b: (a + b) & _MASK),
    "-": _Binary(_ADD, lambda a, b: (a - b) & _MASK),
    "*": _Binary(_MULTIPLY, lambda a, b: (a * b) & _MASK),
    "/": _Binary(_MULTIPLY, _divide),
    "%": _Binary(_MULTIPLY, _modulo),
    "mod": _Binary(_MULTIPLY, _modulo),
}

_UNARY: Final[dict[str, Callable[[int], int]]] = {
    "+": lambda v: v,
    "-": lambda v: -v & _MASK,
    "~": lambda v: ~v & _MASK,
    "!": lambda v: int(v == 0),
    "hi": lambda v: (v >> 16) & 0xFFFF,
    "low": lambda v: v & 0xFFFF,
}
# Unary operators that read target memory at their operand: how many bytes.
_MEMORY: Final[dict[str, int]] = {"by": 1, "wo": 2, "dwo": 4, "qwo": 8, "poi": 8}


# --- Parser -----------------------------------------------------------------------------


# How deep parentheses may nest.  The parser keeps its levels on a list, not on Python's
# stack, so the limit is not about recursion; it bounds what a line can make the parser
# hold, with a message that says what is wrong.  Real expressions nest a few levels.
MAX_DEPTH: Final = 200

# The operators that may start an operand.
_PREFIX: Final = frozenset(_UNARY) | frozenset(_MEMORY)


@dataclass
class _Level:
    """One level of parentheses being read (the top level has no opening token)."""

    opening: _Token | None
    values: list[int] = field(default_factory=list)
    pending: list[_Binary] = field(default_factory=list)  # waiting for a right operand's end
    prefix: list[str] = field(default_factory=list)  # unary operators of the next operand

    def reduce(self) -> None:
        right, left = self.values.pop(), self.values.pop()
        self.values.append(self.pending.pop().apply(left, right))


class _Parser:
    """An operator-precedence parser over the lexer's tokens, computing values as it goes.

    expression := operand (binary-operator operand)*
    operand    := unary-operator* (primary | "(" expression ")")
    primary    := number | @register | $pseudo | . | word

    Nothing recurses: the binary operators of a level wait on a stack until one of lower or
    equal precedence (or the level's end) comes, unary operators wait in a list until their
    operand is complete, and each open parenthesis pushes a level (at most MAX_DEPTH).  So
    `-` * 10000 + `1` or 200 nested parentheses cost no Python stack, however deep the
    caller already is (a breakpoint condition is evaluated inside a callback).
    """

    def __init__(self, text: str, ctx: ExpressionContext, radix: int) -> None:
        if radix not in _DIGITS:
            raise ValueError(f"radix must be 2, 8, 10 or 16, not {radix}")
        self._text = text
        self._ctx = ctx
        self._lexer = _Lexer(text, radix)
        self._token = self._lexer.next()

    def parse(self) -> tuple[int, _Token]:
        """The value of the leading expression, and the first token after it."""
        if self._token.kind == "end":
            raise CommandSyntaxError(self._text, 0, "empty expression")
        value = self._expression()
        return value, self._token

    def error(self, token: _Token, reason: str) -> CommandSyntaxError:
        # An unreadable token says best what is wrong there.
        if token.kind == "invalid":
            reason = token.text
        return CommandSyntaxError(self._text, token.column, reason)

    def _advance(self) -> _Token:
        token = self._token
        self._token = self._lexer.next()
        return token

    def _expression(self) -> int:
        outer: list[_Level] = []  # the levels around the current one, innermost last
        level = _Level(None)
        while True:
            # An operand: its unary operators, then a primary or a parenthesized level.
            while self._token.kind == "operator" and self._token.text in _PREFIX:
                level.prefix.append(self._advance().text)
            if self._token.kind == "(":
                if len(outer) >= MAX_DEPTH:
                    reason = f"expression nested deeper than {MAX_DEPTH} levels"
                    raise self.error(self._token, reason)
                outer.append(level)
                level = _Level(self._advance())
                continue
            value = self._primary()
            while True:
                # The operand is complete: its unary operators apply, the innermost first.
                value = self._apply(level.prefix, value)
                level.prefix.clear()
                level.values.append(value)
                token = self._token
                binary = _BINARY.get(token.text) if token.kind == "operator" else None
                if binary is not None:
                    self._advance()
                    # >=: an operator of the same level ends the left one's operand (left
                    # associativity); a tighter one waits on the stack above it.
                    while level.pending and level.pending[-1].precedence >= binary.precedence:
                        level.reduce()
                    level.pending.append(binary)
                    break  # on to its right operand
                # No operator: the level ends here, and its value is the outer one's operand.
                while level.pending:
                    level.reduce()
                value = level.values[0]
                if not outer:
                    return value
                if token.kind != ")":
                    raise self.error(token, "expected ')'")
                self._advance()
                level = outer.pop()

    def _apply(self, prefix: list[str], value: int) -> int:
        for operator in reversed(prefix):  # the innermost first: `poi poi x` reads twice
            if operator in _MEMORY:
                value = self._read(value, _MEMORY[operator])
            else:
                value = _UNARY[operator](value)
        return value

    def _primary(self) -> int:
        token = self._advance()
        if token.kind == "number":
            return token.value
        # Values from the context are masked: every value here is unsigned 64-bit, whatever
        # Python int (negative, wider) a context hands back.
        if token.kind == "register":
            return self._ctx.register(token.text) & _MASK
        if token.kind == "pseudo":
            return self._ctx.pseudo_register(token.text) & _MASK
        if token.kind == "dot":
            return self._ctx.pseudo_register("ip") & _MASK
        if token.kind == "word":
            return self._word(token.text)
        if token.kind == "line":
            return self._ctx.source_line(token.text) & _MASK
        if token.kind == "c++":
            if not token.text.strip():
                raise self.error(token, "@@c++() needs an expression")
            return self._ctx.c_expression(token.text) & _MASK
        if token.kind == "masm":
            return evaluate(token.text, self._ctx, self._lexer.radix)
        raise self.error(token, "expected an operand")

    def _word(self, word: str) -> int:
        address = self._ctx.symbol(word)
        if address is not None:
            return address & _MASK
        try:
            return self._ctx.register(word.lower()) & _MASK
        except InvalidRegisterError:
            raise UnknownSymbolExpressionError(word) from None

    def _read(self, address: int, size: int) -> int:
        data = self._ctx.read_memory(address, size)
        if len(data) != size:
            raise ExpressionError(
                f"reading {size} bytes at {address:#x} returned {len(data)} bytes"
            )
        return int.from_bytes(data, "little")


def evaluate(text: str, ctx: ExpressionContext, radix: int = 16) -> int:
    """The value of the MASM expression `text`, as an unsigned 64-bit integer.

    Raises CommandSyntaxError when `text` is not one well-formed expression, ExpressionError
    when it has no value, and lets the context's errors through (InvalidRegisterError for
    `@name` of no register, MemoryAccessError from `poi` and friends).
    """
    parser = _Parser(text, ctx, radix)
    value, rest = parser.parse()
    if rest.kind == "end":
        return value
    if rest.kind == ")":
        raise parser.error(rest, "unbalanced ')'")
    raise parser.error(rest, f"unexpected {rest.text!r} after the expression")


def evaluate_prefix(text: str, ctx: ExpressionContext, radix: int = 16) -> tuple[int, int]:
    """The value of the longest expression at the start of `text`, and where it stopped.

    The second item is the column of the first character not used (len(text) when all of it
    was), so `text[column:]` is the rest of the arguments: for "@rsp L4" it is "L4". Nothing
    after the expression is read except the next token, which may be anything.
    """
    value, rest = _Parser(text, ctx, radix).parse()
    return value, rest.column


class _Placeholder:
    """An ExpressionContext in which every name has the value 1 (never 0: no operand
    divides by zero), for checking an expression's form without a target."""

    def register(self, name: str) -> int:
        return 1

    def pseudo_register(self, name: str) -> int:
        return 1

    def read_memory(self, address: int, size: int) -> bytes:
        return b"\x01".ljust(size, b"\0")

    def symbol(self, name: str) -> int | None:
        return 1

    def source_line(self, spec: str) -> int:
        return 1

    def c_expression(self, text: str) -> int:
        from pydbg.dwarf.c_expressions import ExpressionSyntaxError, check_c_syntax

        try:
            check_c_syntax(text)
        except ExpressionSyntaxError as exc:
            raise CommandSyntaxError(text, exc.column, str(exc)) from None
        return 1


def check_syntax(text: str, radix: int = 16) -> None:
    """Raise CommandSyntaxError if `text` is not one well-formed expression.  Names are
    not looked up: a condition may name a symbol of a module that is not loaded yet."""
    evaluate(text, _Placeholder(), radix)
