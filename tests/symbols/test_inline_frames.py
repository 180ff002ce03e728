"""Inline frames in `k` on live processes (tests/targets/inlines.c: probe() called from
leaf(), inlined into middle(), inlined into outer(); -O2, and -O0 where always_inline
still inlines), frame by frame against gdb's `bt` on
the same program stopped at the same function: the names and lines of the frames, in
order, inline frames included."""

from __future__ import annotations

import re
import shutil

import pytest

from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.elf.oracles import run
from tests.support import Targets

pytestmark = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is the oracle")

_GDB_FRAME = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*\) at (\S+):(\d+)$")
_OUR_FRAME = re.compile(
    r"^(?:[0-9a-f]{2} |   )?(?:\(Inline Function\)|\S+) \S+ (\S+?)(?:\+0x[0-9a-f]+)? "
    r"\[(.+) @ (\d+)\]$"
)


def gdb_bt(path: str, function: str) -> list[tuple[str, str, int]]:
    out = run(
        [
            "gdb",
            "-batch",
            "-nx",
            "-iex",
            "set debuginfod enabled off",
            "-ex",
            "set width 0",
            "-ex",
            f"break {function}",
            "-ex",
            "run",
            "-ex",
            "bt",
            path,
        ]  # fmt: skip
    )
    frames = []
    for line in out.splitlines():
        m = _GDB_FRAME.match(line.strip())
        if m:
            frames.append((m[1], m[2], int(m[3])))
    return frames


@pytest.mark.parametrize("variant", ["pie-O2", "pie", "nopie"])
def test_k_shows_inlined_functions_as_gdb_bt_does(
    client, targets: Targets, output, variant: str
) -> None:
    # always_inline functions are inlined at -O0 too.
    binary = targets.get("inlines", variant)
    assert binary is not None
    expected = gdb_bt(binary.path, "*probe")  # its first instruction, where bp breaks
    names = [name for name, _, _ in expected]
    assert names[:5] == ["probe", "leaf", "middle", "outer", "main"], expected

    client.create_process([binary.path])
    assert wait(client)
    client.control.execute("bp probe")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    output.take()
    client.control.execute("kn")
    lines = output.take().splitlines()[1:]
    ours = []
    for line in lines:
        m = _OUR_FRAME.match(line)
        if m:
            ours.append((m[1].partition("!")[2], m[2], int(m[3])))
    assert ours[:5] == expected[:5]
    # Inline frames are numbered with the others (cdb's kn, gdb's bt): outer is 03.
    assert lines[1].startswith("01 (Inline Function) --------`--------")
    assert lines[3].startswith("03 ")
    ex = client.control.get_stack_trace_ex()
    assert [(f.frame_number, f.inline, f.physical_number) for f in ex[:5]] == [
        (0, False, 0),
        (1, True, 1),
        (2, True, 1),
        (3, False, 1),
        (4, False, 2),
    ]
    assert [f.inline_depth for f in ex[:4]] == [0, 0, 1, 2]
    frames = client.control.get_stack_trace()
    assert [name for name, _ in client.symbols.get_inlined_calls(frames[1].lookup_offset)] == [
        f"{name.partition('!')[0]}!{inlined}"
        for name, inlined in zip([frames[1].symbol] * 2, ["leaf", "middle"], strict=True)
    ]
    assert client.symbols.get_inlined_calls(frames[2].lookup_offset) == []  # main


def test_k_at_the_entry_of_inlined_calls_shows_their_call_site(
    client, targets: Targets, output
) -> None:
    """Stopped at outer's first instruction, where leaf and middle (inlined) start too:
    gdb's bt shows outer at the line of the call, not yet in the inlined functions
    (skip_inline_frames); `k` and frame 0 of get_stack_trace_ex do the same."""
    binary = targets.get("inlines", "pie-O2")
    assert binary is not None
    # By name: gdb's `break *outer` would stop in the innermost frame a breakpoint
    # without a function of its own holds (stopped_by_user_bp_inline_frame).
    expected = gdb_bt(binary.path, "outer")
    assert [name for name, _, _ in expected][:2] == ["outer", "main"], expected
    client.create_process([binary.path])
    assert wait(client)
    client.control.execute("bp outer")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    output.take()
    client.control.execute("kn")
    ours = []
    for line in output.take().splitlines()[1:]:
        m = _OUR_FRAME.match(line)
        if m:
            ours.append((m[1].partition("!")[2], m[2], int(m[3])))
    assert ours[:2] == expected[:2]
    line, _ = client.symbols.get_stop_line()
    assert line == expected[0][2]
    assert not client.control.get_stack_trace_ex(1)[0].inline
