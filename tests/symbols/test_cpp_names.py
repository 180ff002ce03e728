"""C++ and gcc-clone names on live processes: `bp` by demangled name (one breakpoint per
overload), quoted names and `@!"..."`, templates, operators, a lambda and an anonymous
namespace; `k`, `ln`, `u` and `x` showing demangled names; clones found by their source
name.  The oracle is `nm -C` on the same file (names and link-time addresses, plus the
load bias), and the program's own printout for having run every function."""

from __future__ import annotations

import re
import subprocess

import pytest

import pydbg
from pydbg.constants import DEBUG_EVENT_BREAKPOINT, DEBUG_STATUS_GO
from pydbg.errors import AmbiguousSymbolError
from tests.api.helpers import wait
from tests.support import Binary, Targets


def module_of(binary: Binary) -> str:
    from pydbg.engine.images import module_name

    return module_name(binary.path)


def nm_c(binary: Binary) -> dict[str, int]:
    """Demangled name -> link-time address of every defined symbol (`nm -C`)."""
    out = subprocess.run(
        ["nm", "-C", "--defined-only", binary.path], capture_output=True, text=True, check=True
    ).stdout
    names: dict[str, int] = {}
    for line in out.splitlines():
        address, _kind, name = line.split(" ", 2)
        names.setdefault(name, int(address, 16))
    return names


def go(client: pydbg.DebugClient) -> bool:
    client.control.set_execution_status(DEBUG_STATUS_GO)
    return wait(client)


def pc(client: pydbg.DebugClient) -> int:
    return client.registers.get_value("rip")


def at_breakpoint(client: pydbg.DebugClient) -> bool:
    last = client.control.get_last_event_information()
    return last is not None and last.type == DEBUG_EVENT_BREAKPOINT


def started(client: pydbg.DebugClient, binary: Binary) -> int:
    client.create_process([binary.path])
    assert wait(client)
    return binary.bias(client.system_objects.get_current_process_system_id())


def test_bp_on_an_overloaded_name_breaks_at_every_overload(client, targets: Targets, output):
    binary = targets["cpp_names"]
    bias = started(client, binary)
    names = nm_c(binary)
    module = module_of(binary)
    output.take()
    client.control.execute(f"bp {module}!ns::K::f")
    listed = output.take()
    expected = {
        names["ns::K::f(int)"] + bias: f'@!"{module}!ns::K::f(int)"',
        names["ns::K::f(double)"] + bias: f'@!"{module}!ns::K::f(double)"',
    }
    shown = dict(re.findall(r"^\s*\d+: ([0-9a-f`]+) (\S+)$", listed, re.M))
    assert {int(a.replace("`", ""), 16): e for a, e in shown.items()} == expected
    assert sorted(bp.get_offset() for bp in client.control.breakpoints()) == sorted(expected)

    hits = []
    while go(client) and at_breakpoint(client):
        hits.append(pc(client))
        if len(hits) == 1:
            output.take()
            client.control.execute("k 1")
            assert f"{module}!ns::K::f(int) [" in output.take()
            client.control.execute("ln")
            assert output.take().rstrip().endswith(f"{module}!ns::K::f(int)")
            client.control.execute("u . L1")
            assert output.take().startswith(f"{module}!ns::K::f(int):")
    assert hits == [names["ns::K::f(int)"] + bias, names["ns::K::f(double)"] + bias]


def test_bp_takes_quoted_templates_operators_lambdas_and_anonymous_names(client, targets: Targets):
    binary = targets["cpp_names"]
    bias = started(client, binary)
    names = nm_c(binary)
    module = module_of(binary)
    wanted = {
        'bp "ns::K::f(double)"': "ns::K::f(double)",
        "bp ns::Box<int>::get": "ns::Box<int>::get() const",
        'bp "ns::V::operator+"': "ns::V::operator+(ns::V const&) const",
        f"bp {module}!ns::V::operator!=": "ns::V::operator!=(ns::V const&) const",
        "bp ns::add<int>": "int ns::add<int>(int, int)",
        "bp hidden": "(anonymous namespace)::hidden(int)",
        'bp "main::{lambda(int)#1}::operator()"': "main::{lambda(int)#1}::operator()(int) const",
        "bp _ZN2ns1K5countEv": "ns::K::count()",  # mangled names still work
    }
    for command in wanted:
        client.control.execute(command)
    assert sorted(bp.get_offset() for bp in client.control.breakpoints()) == sorted(
        names[name] + bias for name in wanted.values()
    )
    seen = []
    while go(client) and at_breakpoint(client):
        name, displacement = client.symbols.get_name_by_offset(pc(client))
        assert displacement == 0
        seen.append(name.partition("!")[2])
    assert sorted(seen) == sorted(wanted.values())


def test_x_u_and_expressions_read_demangled_names(client, targets: Targets, output):
    binary = targets["cpp_names"]
    bias = started(client, binary)
    names = nm_c(binary)
    module = module_of(binary)
    output.take()
    client.control.execute(f"x {module}!ns::Box*")
    listed = output.take().splitlines()
    expected = sorted((names[n] + bias, f"{module}!{n}") for n in names if n.startswith("ns::Box<"))
    ours = sorted((int(a.replace("`", ""), 16), n) for a, n in (x.split(" ", 1) for x in listed))
    assert ours == expected and len(ours) == 2
    get = names["ns::Box<int>::get() const"] + bias
    assert client.control.evaluate('@!"ns::Box<int>::get"+4') == get + 4
    assert client.control.evaluate(f'@!"{module}!ns::Box<int>::get() const"') == get
    assert client.symbols.get_offset_by_name("ns::K::f(int)") == names["ns::K::f(int)"] + bias
    with pytest.raises(AmbiguousSymbolError, match=r"ns::K::f\(int\).*ns::K::f\(double\)"):
        client.symbols.get_offset_by_name("ns::K::f")
    entries = client.symbols.get_symbol_entries_by_name("ns::K::f")
    assert [address for _, address in entries] == sorted(
        names[n] + bias for n in ("ns::K::f(int)", "ns::K::f(double)")
    )


def test_clones_break_by_source_name_and_show_by_linkage_name(client, targets: Targets, output):
    binary = targets.get("clones", "pie-O2")
    assert binary is not None
    names = nm_c(binary)
    clone = next((n for n in names if n.startswith("scaled.constprop.")), None)
    if clone is None or "scaled" in names:
        pytest.skip("gcc made no constprop clone of scaled() here (nm lists none)")
    bias = started(client, binary)
    module = module_of(binary)
    client.control.execute("bp scaled")
    assert go(client)
    assert pc(client) == names[clone] + bias
    output.take()
    client.control.execute("k 2")
    assert f"{module}!{clone} [" in output.take()
    client.control.execute(f"x {module}!check*")
    listed = output.take()
    for name in names:
        if name.startswith("check"):
            assert f"{module}!{name}\n" in listed


def test_module_names_split_at_the_first_bang_after_a_module_name() -> None:
    from pydbg.engine.symbolizer import split_module

    assert split_module("cpp!ns::V::operator!=") == ("cpp", "ns::V::operator!=")
    assert split_module("ns::V::operator!=") == ("", "ns::V::operator!=")
    assert split_module("ns::V::operator!") == ("", "ns::V::operator!")
    assert split_module("lib*!mem*") == ("lib*", "mem*")
    assert split_module("main") == ("", "main")
    # Overloads in one module: the hint is the parameter list, not a module.
    error = AmbiguousSymbolError("ns::K::f", ("cpp!ns::K::f(int)", "cpp!ns::K::f(double)"))
    assert "parameter list" in str(error)
    error = AmbiguousSymbolError("f", ("liba!f", "libb!f"))
    assert "module!f" in str(error)
