"""`gu` prints the value returned in the function's type, checked against gdb's `finish`
("Value returned is $1 = ...") for int, char, unsigned long, double, float, a pointer, an
enum, a 2-int struct (rax), a {double, double} struct (xmm0:xmm1), a 40-byte struct
(memory at rax), long double (st0), and void (nothing)."""

from __future__ import annotations

import re

from pydbg.dwarf.types import VoidType
from tests.api.helpers import wait
from tests.cexpr.conftest import go
from tests.dwarf.conftest import gdb_batch, needs_gdb

FUNCTIONS = [
    "ret_int",
    "ret_char",
    "ret_ulong",
    "ret_double",
    "ret_float",
    "ret_pointer",
    "ret_enum",
    "ret_pair",
    "ret_dpair",
    "ret_big",
    "ret_ldouble",
    "ret_void",
]


def _normal(text: str) -> str:
    # Addresses differ between runs (gdb disables ASLR, pydbg does not).
    return re.sub(r"0x[0-9a-f]{6,}", "ADDR", text)


def _gdb_finishes(binary: str) -> dict[str, str | None]:
    commands = [f"break {name}" for name in FUNCTIONS] + ["run"]
    commands += ["finish", "continue"] * len(FUNCTIONS)
    text = gdb_batch(binary, commands)
    found: dict[str, str | None] = {}
    current = None
    for line in text.splitlines():
        started = re.match(r"Breakpoint \d+, (\w+) \(", line)
        if started:
            current = started[1]
            found[current] = None
        returned = re.match(r"Value returned is \$\d+ = (.*)$", line)
        if returned and current is not None:
            found[current] = _normal(returned[1])
    return found


@needs_gdb
def test_gu_prints_what_gdb_finish_prints(client, session, cexpr_binary) -> None:
    expected = _gdb_finishes(cexpr_binary)
    assert sorted(expected) == sorted(FUNCTIONS), expected
    for name in FUNCTIONS:
        session(f"bp {name}")
    got: dict[str, str | None] = {}
    while go(client):
        stop = session("")
        hit = re.search(r"Breakpoint (\d+) hit", stop)
        if hit is None:
            break
        name = FUNCTIONS[int(hit[1])]
        session("gu")
        assert wait(client)
        client.control.output_current_state()
        shown = session("")
        returned = re.search(r"^Value returned is (.*)$", shown, re.M)
        got[name] = _normal(returned[1]) if returned else None
    assert got == expected
    assert got["ret_void"] is None and got["ret_big"] is not None  # both kinds seen


def test_return_types_from_the_facet(client, session) -> None:
    symbols = client.symbols
    offset = symbols.get_offset_by_name
    assert symbols.get_return_type(offset("ret_ulong")).display == "unsigned long"
    assert symbols.get_return_type(offset("ret_pair") + 4).display == "struct pair"
    assert isinstance(symbols.get_return_type(offset("ret_void")), VoidType)
    assert symbols.get_return_type(offset("_start")) is None  # crt1: no DWARF there


def test_only_the_stop_that_ends_gu_prints(client, session) -> None:
    session("bp ret_int")
    assert go(client)
    session("gu")
    assert wait(client)  # nothing showed this stop
    session("t")
    assert wait(client)
    client.control.output_current_state()
    assert "Value returned" not in session("")


@needs_gdb
def test_long_doubles_print_as_gdb_prints_them(session, cexpr_binary) -> None:
    text = gdb_batch(cexpr_binary, [f"print g_ld[{i}]" for i in range(5)])
    expected = re.findall(r"^\$\d+ = (.*)$", text, re.M)
    assert len(expected) == 5
    assert [session(f"?? g_ld[{i}]") for i in range(5)] == [f"long double {v}\n" for v in expected]
