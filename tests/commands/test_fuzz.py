"""Fuzzing the command language against a real stopped process: whatever text reaches
control.execute or control.evaluate, it either works or raises a PydbgError; never a
RecursionError, ValueError, TypeError, IndexError, KeyError or any other Python exception.

One `loop` target per module, stopped at a breakpoint in tick() with libc loaded, takes every
example.  Commands that would run it (g, t, p, gu, ...) or end the session (q, .kill,
.detach) are never sent: the grammar leaves them out and inputs naming them are dropped, so
each example meets the same stopped thread.  After each example the breakpoints are cleared
and the registers restored, and the engine is checked to still be stopped; after the run the
target must still be there with its code and data bytes as the file has them.

The examples are derandomized so that CI runs the same ones every time (well within 30 s).
PYDBG_FUZZ_EXAMPLES=N runs N examples of each kind and PYDBG_FUZZ_RANDOM=1 draws them at
random, for a longer hunt on a developer's machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import psutil
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import pydbg
from pydbg.commands.expression import MAX_DEPTH
from pydbg.commands.interpreter import Interpreter
from pydbg.commands.split import split_commands, split_first_word
from pydbg.constants import DEBUG_STATUS_BREAK
from pydbg.engine.images import module_name
from pydbg.registers import REGISTER_NAMES
from tests.api.helpers import WAIT_LIMIT
from tests.breakpoints.helpers import raw_memory

# The commands an example may run: every command of the language that neither runs the
# target nor ends the session.  Kept as a list rather than "all but the execution ones", so
# that a command added later (one that writes memory, say) is fuzzed only once it is added
# here.
SAFE = (
    ".echo", ".lastevent", "?", "??", "ba", "bc", "bd", "be", "bl", "bp", "bu", "dt", "dv", "k",
    "kb", "kn", "lm", "ln", "n", "r", "sx", "sx-", "sxd", "sxe", "sxi", "sxn", "sxr", "u", "x",
    "|", "~",
)  # fmt: skip
# Code and data of the target whose bytes must come through the run unchanged.
CODE = ("tick", "finish", "answer", "main")
DATA = ("counter", "iterations", "loop_marker")

EXAMPLES = int(os.environ.get("PYDBG_FUZZ_EXAMPLES", "0"))
RANDOM = bool(os.environ.get("PYDBG_FUZZ_RANDOM"))


def budget(examples: int) -> settings:
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def runs_or_ends(text: str) -> bool:
    """Whether `text`, as execute reads it, names a command outside SAFE that exists."""
    try:
        commands = split_commands(text)
    except pydbg.PydbgError:
        return False  # a line that does not split runs nothing
    for command in commands:
        name, _ = split_first_word(command)
        if name.lower() in Interpreter.commands and name.lower() not in SAFE:
            return True
    return False


# -- the target -----------------------------------------------------------------------------


class Target:
    """The module's client and its stopped `loop` process, with what must not change."""

    def __init__(self, client: pydbg.DebugClient, binary, pid: int) -> None:
        self.client = client
        self.binary = binary
        self.pid = pid
        self.main_module = module_name(binary.path)
        self.registers = self.read_registers()
        self.memory = self.read_memory()

    def read_registers(self) -> dict[str, int]:
        # Every register a command can write, each once by its full name; the selectors
        # before the bases, which a selector write may reset.
        names = ["cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "rflags"]
        names += ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "rip", "orig_rax"]
        names += [f"r{i}" for i in range(8, 16)] + [f"xmm{i}" for i in range(16)]
        return {name: self.client.registers.get_value(name) for name in names}

    def read_memory(self) -> dict[str, bytes]:
        return {
            name: raw_memory(self.pid, self.binary.addr(self.pid, name), 32) for name in CODE + DATA
        }

    def reset(self) -> None:
        """Between examples: no breakpoints, the registers as they were, radix 16."""
        control = self.client.control
        for bp in control.breakpoints():
            control.remove_breakpoint(bp)
        for name, value in self.registers.items():
            if self.client.registers.get_value(name) != value:
                self.client.registers.set_value(name, value)
        control.execute("n 16; sxr")

    def check(self) -> None:
        """The target is stopped where it was and the session accessible."""
        assert self.client.control.get_execution_status() == DEBUG_STATUS_BREAK
        assert self.client.system_objects.get_current_process_system_id() == self.pid
        assert self.read_registers() == self.registers


@pytest.fixture(scope="module")
def target(targets) -> Iterator[Target]:
    binary = targets["loop"]
    with pydbg.create_client() as client:
        pid = client.create_process([binary.path, "-1"])  # ticks forever
        assert client.control.wait_for_event(timeout=WAIT_LIMIT)
        client.control.execute("bp tick; g")
        assert client.control.wait_for_event(timeout=WAIT_LIMIT)
        assert client.registers.get_value("rip") == binary.addr(pid, "tick")
        client.control.execute("bc *")
        code = {name: binary.file_bytes(binary.sym(name), 32) for name in CODE}
        fuzzed = Target(client, binary, pid)
        assert {name: fuzzed.memory[name] for name in CODE} == code
        yield fuzzed  # the client's `with` kills the target at the end of the module


def outcome(target: Target, call: Callable[[], object]) -> None:
    """Run one example: it may succeed or raise a PydbgError, nothing else."""
    try:
        call()
        event("succeeded")
    except pydbg.PydbgError as exc:  # shown by pytest --hypothesis-show-statistics
        event(type(exc).__name__)
    finally:
        target.reset()
    target.check()


# -- strategies ------------------------------------------------------------------------------

U64 = st.integers(0, (1 << 64) - 1)
HUGE = st.integers(4000, 6000)

numbers = st.one_of(
    U64.map(lambda v: f"{v:x}"),
    U64.map(lambda v: f"0x{v:X}"),
    U64.map(lambda v: f"0n{v}"),
    U64.map(lambda v: f"0t{v:o}"),
    U64.map(lambda v: f"0y{v:b}"),
    U64.map(lambda v: f"0{v:x}h"),
    U64.map(lambda v: f"{v >> 32:08x}`{v & 0xFFFFFFFF:08x}"),
    st.integers(1 << 64, 1 << 80).map(lambda v: f"0x{v:x}"),  # over 64 bits
    st.tuples(st.sampled_from(["", "0n", "0x", "0y", "0t", "000"]), HUGE).map(
        lambda t: t[0] + "1" * t[1]
    ),
    HUGE.map(lambda n: "0" * n + "1"),  # long, but only leading zeros
    st.text("0123456789abcdefhnxty`", min_size=1, max_size=24),
)
registers = st.sampled_from([*REGISTER_NAMES, "rflags", "nosuch", "xmm16", "dr7"])
pseudo = st.sampled_from(
    ["$ip", "@$ip", "$csp", "$sp", "$ra", "$retreg", "$retreg64", "$tid", "$tpid", "$exentry",
     "$ptrsize", "$pagesize", "$t0", "$t19", "$t20", "$t01", "$T5", "$nosuch", "$", "@$", "."]
)  # fmt: skip
symbols = st.sampled_from(
    ["tick", "main", "finish", "answer", "counter", "iterations", "loop_marker", "malloc",
     "libc_so!malloc", "libc_so!nosuch", "nosuchmod!tick", "nosuch", "ns::f", "a!b!c", "add",
     "ah", "rax", "mod", "poi", "_start", "!tick", "tick!", "MAIN"]
)  # fmt: skip
BINARY = ["or", "|", "xor", "^", "and", "&", "=", "==", "!=", "<", ">", "<=", ">=", "<<", ">>",
          ">>>", "+", "-", "*", "/", "%", "mod"]  # fmt: skip
UNARY = ["+", "-", "~", "!", "hi", "low", "by", "wo", "dwo", "qwo", "poi"]

atoms = st.one_of(
    numbers,
    registers.map(lambda r: "@" + r),
    registers,
    pseudo,
    symbols,
)


def _compose(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(BINARY), inner).map(" ".join),
        st.tuples(inner, st.sampled_from(BINARY), inner).map("".join),
        st.tuples(st.sampled_from(UNARY), inner).map(" ".join),
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda e: f"({e})"),
    )


expressions = st.recursive(atoms, _compose, max_leaves=10)


def _deep(shape: str, depth: int, inner: str) -> str:
    opened = {"paren": "(", "unary": "-", "not": "!~", "poi": "poi(", "neg": "-(",
              "mixed": "(-", "open": "("}[shape]  # fmt: skip
    closed = {"paren": ")", "poi": ")", "neg": ")", "mixed": ")"}.get(shape, "")
    return opened * depth + inner + closed * depth


deep = st.builds(
    _deep,
    st.sampled_from(["paren", "unary", "not", "poi", "neg", "mixed", "open"]),
    st.one_of(st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2), st.integers(1, 2000), st.just(329)),
    expressions,
)
any_expression = st.one_of(expressions, deep)

quoted_text = st.text(st.sampled_from('ab ;"\\$*g?1@'), max_size=12).map(lambda t: f'"{t}"')
ids = st.one_of(
    st.sampled_from(["*", "0", "1", "0-3", "3-0", "0,1 2", "1-", "-1", "x", "1-99999999999"]),
    HUGE.map(lambda n: "9" * n),
    st.integers(0, 1 << 70).map(str),
)
filter_names = st.sampled_from(["av", "cc", "ct", "et", "ld", "ud", "ibp", "sov", "*", "nosuch"])


def _with_options(name: str) -> st.SearchStrategy[str]:
    glued = st.one_of(st.just(""), st.integers(0, 1 << 66).map(str), HUGE.map(lambda n: "1" * n))
    options = st.lists(
        st.one_of(
            st.just("/1"),
            any_expression.map(lambda e: f'/w "{e}"'),
            st.sampled_from(["/w", "/x", '/w "', "/"]),
        ),
        max_size=2,
    ).map(" ".join)
    access = st.sampled_from(["e1", "r4", "w8", "w2", "i4", "r3", "x1", ""])
    passes = st.one_of(st.just(""), any_expression)
    commands = st.one_of(st.just(""), quoted_text)
    before = access if name == "ba" else st.just("")
    return st.builds(
        lambda g, o, b, a, p, c: f"{name}{g} {o} {b} {a} {p} {c}",
        glued,
        options,
        before,
        any_expression,
        passes,
        commands,
    )


def _register_arguments() -> st.SearchStrategy[str]:
    one = st.one_of(
        registers,
        registers.map(lambda r: "@" + r),
        pseudo,
        st.tuples(st.one_of(registers, pseudo), any_expression).map(lambda t: f"{t[0]}={t[1]}"),
        st.tuples(st.sampled_from(["$t0", "$t19", "$t²", "$t١", "$ip"]), any_expression).map(
            lambda t: f"{t[0]} = {t[1]}"
        ),
    )
    return st.lists(one, max_size=3).map(", ".join)


commands = st.one_of(
    any_expression.map(lambda e: f"? {e}"),
    any_expression.map(lambda e: f"?{e}"),
    _register_arguments().map(lambda a: f"r {a}"),
    st.tuples(registers, U64).map(lambda t: f"r {t[0]}=0x{t[1]:x}"),
    _with_options("bp"),
    _with_options("bu"),
    _with_options("ba"),
    st.tuples(st.sampled_from(["bc", "bd", "be"]), ids).map(" ".join),
    st.just("bl"),
    st.tuples(
        st.sampled_from(["u", "ln", "k", "kb", "kn"]),
        st.one_of(st.just(""), any_expression),
    ).map(" ".join),
    st.tuples(any_expression, any_expression).map(lambda t: f"u {t[0]} L {t[1]}"),
    st.tuples(
        st.sampled_from(["", "libc_so!", "*!", "nosuch!"]),
        st.sampled_from(["tick", "ti*", "*", "m?in", "[a-z]*", "no_such*", ""]),
    ).map(lambda t: f"x {t[0]}{t[1]}"),
    st.just("lm"),
    st.sampled_from(["dv", "dv /t", "dv /V /i", "dv /x", "dv c*", "dv nosuch", "dv /tV a b"]),
    st.tuples(
        st.sampled_from(["dt", "dt -r", "dt -b", "dt -r1", "dt -z"]),
        st.sampled_from(["", "counter", "iterations.x", "nosuch", "int", "struct", "enum x"]),
        st.one_of(st.just(""), any_expression),
    ).map(" ".join),
    st.text(st.sampled_from("counter()[]*&+-.>1x'/%<!~?:u"), max_size=24).map(lambda t: f"?? {t}"),
    st.one_of(st.sampled_from(["8", "10", "16", "2", "", "0x10", "١٠"]), ids).map(
        lambda r: f"n {r}"
    ),
    st.tuples(st.sampled_from(["~", "|"]), st.one_of(ids, st.just("0"))).map(
        lambda t: f"{t[0]}{t[1]}s"
    ),
    st.sampled_from(["~", "|", "~*k", "|0", "~s"]),
    st.tuples(
        st.sampled_from(["sxe", "sxd", "sxn", "sxi", "sx-", "sx"]),
        st.sampled_from(["", "-h", '-c "r"', '-c2 "k"', '-c "', "-x"]),
        filter_names,
    ).map(" ".join),
    st.just("sxr"),
    st.text(max_size=30).map(lambda t: f".echo {t}"),
    st.just(".lastevent"),
)
lines = st.lists(
    st.tuples(commands, st.sampled_from([";", "\n", " ; ", "; $$ a comment ;", ";;"])),
    min_size=1,
    max_size=3,
).map(lambda parts: "".join(c + sep for c, sep in parts))

# Text with no grammar at all, and text made of the language's own characters.
LANGUAGE_CHARACTERS = '()@$!;"\\`*-+~<>=&|^%/ ,.0123456789abcdefxntyL?rbpuklnsx\n'
noise = st.one_of(
    st.text(max_size=120),
    st.text(st.sampled_from(LANGUAGE_CHARACTERS), max_size=200),
)


# -- the properties ----------------------------------------------------------------------------


def test_the_issue_examples_end_in_pydbg_errors(target: Target) -> None:
    """The inputs reported as escaping as Python exceptions."""
    evaluate = target.client.control.evaluate
    execute = target.client.control.execute
    with pytest.raises(pydbg.PydbgError, match=f"nested deeper than {MAX_DEPTH} levels"):
        evaluate("(" * 329 + "1" + ")" * 329)
    assert evaluate("-" * 1000 + "1") == 1  # an even number of negations
    assert evaluate("-" * 1001 + "1") == (1 << 64) - 1
    assert evaluate("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH) == 1
    assert evaluate("0" * 5000 + "1") == 1
    for text in ("0n" + "1" * 4301, "1" * 5000, "0x" + "f" * 17):
        with pytest.raises(pydbg.PydbgError, match="does not fit in 64 bits"):
            evaluate(text)
    for command in ("bc " + "1" * 5000, "bp" + "1" * 5000 + " tick", "r $t" + "1" * 5000,
                    "? $t" + "1" * 5000, "~" + "1" * 5000 + "s", "n " + "1" * 5000):  # fmt: skip
        with pytest.raises(pydbg.PydbgError):
            execute(command)
    # Found by the fuzzer: a value wider than the register was a ValueError.
    for command in ("r eax=1`00000000", "r al=100", "r cs=0n65536"):
        with pytest.raises(pydbg.RegisterValueError, match="does not fit"):
            execute(command)
    # DEBUG_ANY_ID is no id a user can give a breakpoint (it asks for any free one).
    with pytest.raises(pydbg.PydbgError, match="breakpoint ids are below"):
        execute("bp4294967295 tick")
    # A range of ids selects the breakpoints in it, never a list of every id it spans.
    execute("bp tick; bp finish; bc 0-99999999999")
    assert target.client.control.get_number_breakpoints() == 0
    target.reset()
    target.check()


def test_nesting_does_not_depend_on_the_callers_stack(target: Target) -> None:
    """The parser holds its levels on a list: MAX_DEPTH levels evaluate even when the caller
    is already deep (a condition is evaluated inside a callback)."""
    limit = sys.getrecursionlimit()

    def deep(frames: int, call: Callable[[], int]) -> int:
        return call() if frames == 0 else deep(frames - 1, call)

    for shape in ("(", "low(", "-(", "1+(", "(1)*("):
        text = shape * MAX_DEPTH + "tick" + ")" * MAX_DEPTH
        deep(limit - 100, lambda text=text: target.client.control.evaluate(text))
    target.check()


@budget(400)
@given(text=lines)
def test_commands_from_the_grammar_succeed_or_raise_pydbg_errors(target, text) -> None:
    assume(not runs_or_ends(text))
    outcome(target, lambda: target.client.control.execute(text))


@budget(300)
@given(text=any_expression)
def test_expressions_succeed_or_raise_pydbg_errors(target, text) -> None:
    outcome(target, lambda: target.client.control.evaluate(text))


@budget(300)
@given(text=noise)
def test_random_text_succeeds_or_raises_pydbg_errors(target, text) -> None:
    outcome(target, lambda: target.client.control.evaluate(text))
    assume(not runs_or_ends(text))
    outcome(target, lambda: target.client.control.execute(text))


def test_the_target_came_through_unchanged(target) -> None:
    """After every example above: still there, stopped, its code and data bytes as before,
    and the session still evaluating."""
    target.reset()
    target.check()
    assert target.read_memory() == target.memory
    assert psutil.Process(target.pid).status() == psutil.STATUS_TRACING_STOP
    main = target.main_module
    assert target.client.control.evaluate(f"poi({main}!iterations)") == (1 << 64) - 1
    assert target.client.control.evaluate("@$ip") == target.binary.addr(target.pid, "tick")
