"""Rust names on live processes, against gdb: `k` in a closure called by a generic
function and at a panic, `bp` by a method's path, `x crate::*` and `ln`, on
tests/targets/rust/rust_names.rs built by Debian's rustc (/usr/bin/rustc, never a rustup
one first in PATH) with -g -C opt-level=0, once with each mangling scheme: legacy
(`_ZN...17h<hash>E`, rustc 1.63's default) and v0 (`_R...`, `-C symbol-mangling-version=v0`).

pydbg names a function from its symbol (the demangled linkage name, as `nm -C`), gdb's `bt`
from DWARF; they agree on paths (`rust_names::Point::norm`, `rust_names::main`) and differ,
by what each source holds, in:
- generic arguments: gdb `rust_names::apply<rust_names::main::{closure_env#0}>`; pydbg v0
  `rust_names::apply::<rust_names::main::{closure#0}>` (the Rust path syntax, as
  rustc-demangle); legacy names carry no generic arguments at all (`rust_names::apply`,
  and both instantiations of `twice` are `rust_names::twice`).
- closures in legacy names: `rust_names::main::{{closure}}` (no index); v0 and gdb
  `{closure#0}`.
- trait methods: `<rust_names::Point as rust_names::Shape>::area` (both manglings), gdb's
  DWARF says `rust_names::{impl#1}::area`.
- `bp rust_names::twice` sets one breakpoint per instantiation; gdb wants the generic
  arguments (`break rust_names::twice<f64>`).
The legacy hash (`::h556e5abd08fc228e`) is dropped as gdb's `bt` and `nm -C` drop it, and
a v0 inherent method is `rust_names::Point::norm` as in gdb (not c++filt's
`<rust_names::Point>::norm`).  `bp NAME` stops at the function's first instruction, as cdb
(gdb's `info address`); gdb's `break NAME` address, past the prologue, is pydbg's
`` bp `rust_names.rs:LINE` `` for the function's first line of code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import pytest

import pydbg
from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.source.support import gdb
from tests.support import TARGET_SOURCES, Binary

RUSTC = "/usr/bin/rustc"  # Debian's; tests must not pick up a rustup toolchain from PATH
# Under tests/targets/rust/, where the C `targets` fixture does not look.
SOURCE = os.path.join(TARGET_SOURCES, "rust", "rust_names.rs")
# std's functions exported unmangled (#[no_mangle], #[panic_handler]): their symbol's name,
# where gdb gives their DWARF path.
NO_MANGLE = {
    "std::panicking::rust_panic": "rust_panic",
    "std::panicking::begin_panic_handler": "rust_begin_unwind",
}
SCHEMES = {"legacy": [], "v0": ["-C", "symbol-mangling-version=v0"]}

pytestmark = [
    pytest.mark.skipif(
        not os.access(RUSTC, os.X_OK), reason="Debian's rustc is not installed (apt rustc)"
    ),
    pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is the oracle"),
]


@pytest.fixture(scope="module")
def rust_targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Binary]:
    out_dir = str(tmp_path_factory.mktemp("rust"))
    built: dict[str, Binary] = {}
    for scheme, flags in SCHEMES.items():
        out = os.path.join(out_dir, f"rust_names_{scheme}")
        cmd = [RUSTC, "-g", "-C", "opt-level=0", *flags, SOURCE, "-o", out]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stderr}"
        built[scheme] = Binary("rust_names", scheme, out)
    return built


@pytest.fixture(params=sorted(SCHEMES))
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def module_of(binary: Binary) -> str:
    from pydbg.engine.images import module_name

    return module_name(binary.path)


def started(client: pydbg.DebugClient, binary: Binary, *args: str) -> int:
    client.create_process(
        [binary.path, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert wait(client)
    return binary.bias(client.system_objects.get_current_process_system_id())


def go(client: pydbg.DebugClient) -> bool:
    client.control.set_execution_status(DEBUG_STATUS_GO)
    return wait(client)


def strip_generics(name: str) -> str:
    """`a::f<T<u8>>::g<i32>` -> `a::f::g`."""
    out, depth = [], 0
    for ch in name:
        depth += ch == "<"
        if depth == 0:
            out.append(ch)
        depth -= ch == ">"
    return "".join(out)


def as_pydbg_names(gdb_name: str, scheme: str) -> str:
    """gdb's DWARF name of a function of the crate, written as pydbg's demangled name of
    its symbol says it (see the module docstring)."""
    if scheme == "legacy":
        return re.sub(r"\{closure#\d+\}", "{{closure}}", strip_generics(gdb_name))
    return re.sub(r"(?<=[\w}])<", "::<", gdb_name.replace("{closure_env#", "{closure#"))


def gdb_breakpoint(binary: Binary, where: str) -> int:
    """The link-time address of gdb's `break where`."""
    out = gdb(binary.path, [f"break {where}", "info breakpoints"])
    match = re.search(r"^1\s+breakpoint\s+keep\s+y\s+0x([0-9a-f]+) in ", out, re.M)
    assert match, out
    return int(match[1], 16)


def gdb_bt(binary: Binary, where: str, *args: str) -> list[tuple[int, str]]:
    """(link-time pc, name) of gdb's `bt` frames at `break where` (frame 0's pc is the
    breakpoint's, an inlined frame's is -1)."""
    out = gdb(binary.path, [f"break {where}", " ".join(("run", *args)), "bt", "info proc mappings"])
    start = re.search(rf"^\s*0x([0-9a-f]+)\s.*\s0x0\s+\S+\s+{re.escape(binary.path)}$", out, re.M)
    assert start, out
    bias = int(start[1], 16)
    frames = []
    for match in re.finditer(r"^#\d+\s+(?:0x([0-9a-f]+) in )?(.*)$", out, re.M):
        frames.append((int(match[1], 16) - bias if match[1] else -1, name_of(match[2])))
    frames[0] = (gdb_breakpoint(binary, where), frames[0][1])
    return frames


def name_of(text: str) -> str:
    """The function's name at the start of a gdb frame line's text: up to the ` (` of the
    argument list, which generic arguments (`<(), (dyn Fn<()>)>`) may contain too."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "<") - (ch == ">")
        if depth == 0 and text.startswith(" (", i):
            return text[:i]
    return text


def physical(frames: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """gdb's frames as `k` numbers them: a run of inlined frames (no pc of their own) and
    the function they are inlined in become one frame, at the pc of the first of the run and
    with the name of the last."""
    out: list[tuple[int, str]] = []
    for pc, name in frames:
        if pc == -1:
            out[-1] = (out[-1][0], name)
        else:
            out.append((pc, name))
    return out


def pydbg_k(
    client: pydbg.DebugClient, output: Any, module: str, bias: int
) -> list[tuple[int, str]]:
    """(link-time pc, name) of each physical frame of `k` in `module`: the pc of frame 0,
    then the return address each frame shows for the frame above it."""
    output.take()
    client.control.execute("k")
    pcs, names = [client.registers.get_value("rip") - bias], []
    for line in output.take().splitlines():
        match = re.match(
            rf"^[0-9a-f`]+ ([0-9a-f`]+) {module}!(.+?)(?:\+0x[0-9a-f]+)?(?: \[.*\])?$", line
        )
        if match:
            pcs.append(int(match[1].replace("`", ""), 16) - bias)
            names.append(match[2])
    return list(zip(pcs, names, strict=False))


def test_k_in_a_closure_names_the_frames_as_gdbs_bt(client, output, rust_targets, scheme):
    binary = rust_targets[scheme]
    gdb_frames = gdb_bt(binary, "rust_names::main::{closure#0}")
    ours = [(pc, name) for pc, name in gdb_frames if name.startswith("rust_names::")]
    assert [name for _, name in ours] == [
        "rust_names::main::{closure#0}",
        "rust_names::apply<rust_names::main::{closure_env#0}>",
        "rust_names::main",
    ], gdb_frames
    bias = started(client, binary)
    module = module_of(binary)
    client.control.execute(f"bp {bias + ours[0][0]:#x}")
    assert go(client)
    shown = pydbg_k(client, output, module, bias)
    assert shown[:3] == [(pc, as_pydbg_names(name, scheme)) for pc, name in ours]
    if scheme == "v0":
        assert shown[1][1] == "rust_names::apply::<rust_names::main::{closure#0}>"
    else:
        assert shown[0][1] == "rust_names::main::{{closure}}"


def test_k_at_a_panic_shows_the_panicking_function_as_gdb(client, output, rust_targets, scheme):
    # rust_panic is #[no_mangle] in std; gdb also knows it as std::panicking::rust_panic
    # from DWARF, a name pydbg, which looks functions up in the symbol tables, does not.
    binary = rust_targets[scheme]
    gdb_frames = gdb_bt(binary, "rust_panic", "panic")
    ours = [(pc, name) for pc, name in gdb_frames if name.startswith("rust_names::")]
    assert [name for _, name in ours] == ["rust_names::checked", "rust_names::main"]
    bias = started(client, binary, "panic")
    module = module_of(binary)
    client.control.execute("bp rust_panic")
    assert go(client)
    shown = pydbg_k(client, output, module, bias)
    assert shown[0][1] == NO_MANGLE[gdb_frames[0][1]]
    assert shown[0][0] == client.symbols.get_offset_by_name("rust_panic") - bias
    assert [frame for frame in shown if frame[1].startswith("rust_names::")] == ours
    # The frames between are std's and core's, Debian's prebuilt std with its legacy names
    # whatever the program's scheme: gdb's names without generic arguments, `{{closure}}`;
    # std's #[no_mangle] functions by their symbol's name.
    frames = physical(gdb_frames)
    assert shown[1 : shown.index(ours[0])] == [
        (pc, NO_MANGLE.get(name, as_pydbg_names(name, "legacy")))
        for pc, name in frames[1 : frames.index(ours[0])]
    ]


def test_bp_by_a_method_path_breaks_where_gdb_says_the_function_is(
    client, output, rust_targets, scheme
):
    binary = rust_targets[scheme]
    entry = gdb(binary.path, ["info address rust_names::Point::norm"])
    match = re.search(r"is a function at address 0x([0-9a-f]+)\.", entry)
    assert match, entry
    gdb_entry, gdb_break = int(match[1], 16), gdb_breakpoint(binary, "rust_names::Point::norm")
    assert gdb_entry < gdb_break
    line = re.search(r", line (\d+)\.$", gdb(binary.path, ["break rust_names::Point::norm"]), re.M)
    bias = started(client, binary)
    module = module_of(binary)
    assert line, "gdb gave no line for its breakpoint"
    client.control.execute("bp rust_names::Point::norm")
    client.control.execute(f"bp `rust_names.rs:{line[1]}`")
    assert [bp.get_offset() - bias for bp in client.control.breakpoints()] == [
        gdb_entry,
        gdb_break,
    ]
    assert go(client)
    assert client.registers.get_value("rip") == bias + gdb_entry
    output.take()
    client.control.execute("k 1")
    assert re.match(
        rf"^[0-9a-f`]+ [0-9a-f`]+ {module}!rust_names::Point::norm \[",
        output.take().splitlines()[1],
    )
    client.control.execute(f"ln {bias + gdb_break:#x}")
    offset = gdb_break - gdb_entry
    assert output.take().rstrip().endswith(f"{module}!rust_names::Point::norm+{offset:#x}")
    # gdb's minimal-symbol name at the same place: the same path, the same offset.
    info = gdb(binary.path, [f"info symbol {gdb_break:#x}"])
    gdb_name = re.sub(r"\[[0-9a-f]+\]|::h[0-9a-f]{16}", "", info.split(" in section")[0])
    assert re.sub(r"^<([\w:]+)>::", r"\1::", gdb_name) == f"rust_names::Point::norm + {offset}"


def nm_c(binary: Binary) -> dict[int, str]:
    """Link-time address -> `nm -C` name, v0's `<a::T>::m` written `a::T::m` as pydbg does."""
    out = subprocess.run(
        ["nm", "-C", "--defined-only", binary.path], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        address, _kind, name = line.split(" ", 2)
        found[int(address, 16)] = re.sub(r"^<([\w:]+)>::", r"\1::", name)
    return found


def test_x_lists_the_crates_functions_as_nm_and_gdb_do(client, output, rust_targets, scheme):
    binary = rust_targets[scheme]
    bias = started(client, binary)
    module = module_of(binary)
    output.take()
    client.control.execute(f"x {module}!rust_names::*")
    listed = sorted(
        (int(a.replace("`", ""), 16) - bias, name.removeprefix(f"{module}!"))
        for a, name in (line.split(" ", 1) for line in output.take().splitlines())
    )
    expected = sorted((a, n) for a, n in nm_c(binary).items() if n.startswith("rust_names::"))
    assert listed == expected and len(listed) == 9
    # gdb's `info functions` of the crate's own file, in pydbg's spelling: the same set.
    out = gdb(binary.path, ["info functions rust_names::"])
    ours = out.split("rust_names.rs:")[1]
    gdb_names = re.findall(r"^\d+:\s+static fn (rust_names::\S+?)\(", ours, re.M)
    assert sorted(as_pydbg_names(n, scheme) for n in gdb_names if "{impl#" not in n) == sorted(
        n for _, n in listed
    )
    client.control.execute(f"x {module}!*rust_names::Shape*")
    assert (
        output.take().rstrip().endswith(f"{module}!<rust_names::Point as rust_names::Shape>::area")
    )
