"""The scope frame: `.frame N`, `.f+`, `.f-`, and `r` / expressions reading the frame's
registers as the unwinder recovered them.  Oracle: gdb on the same (non-PIE) binary at the
same instruction, `frame N` and `info registers`; the target's own constants for the
callee-saved registers (outer puts 0x1111/0x2222 in rbx/r12, inner 0x3333/0x4444)."""

from __future__ import annotations

import re
import shutil

import pytest

from pydbg.commands.errors import ExpressionError
from pydbg.commands.frame_commands import FrameError
from pydbg.registers import DEBUG_REGSRC_FRAME, RegisterUnavailableError
from pydbg.symbols import ScopeError
from tests.api.helpers import hex64
from tests.commands.state_support import break_at, gdb_frame_registers, start

NAMES = ("rip", "rsp", "rbp", "rbx", "r12")


def registers_shown(text: str) -> dict[str, str]:
    return dict(re.findall(r"\b(r\w+|efl)=([0-9a-f?]+)", text))


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_frame_registers_match_gdb(client, output, targets):
    binary = targets.get("state", "nopie")
    assert binary is not None
    start(client, output, binary, "frames")
    break_at(client, output, "state_stop")
    expected = gdb_frame_registers(binary, "state_stop", "frames", 4, NAMES)
    # Stacks differ between the two runs by where the kernel put them: compare rsp and rbp
    # as distances from frame 0's rsp, everything else as is.
    gdb_base, ours_base = expected[0]["rsp"], client.registers.get_value("rsp")
    for number, gdb in enumerate(expected):
        client.control.execute(f".frame {number:#x}; r")
        shown = registers_shown(output.take())
        # main's rbx and r12 are what libc left there (stack addresses): not compared.
        for name in NAMES if number < 3 else NAMES[:3]:
            ours = int(shown[name], 16)
            if name in ("rsp", "rbp"):
                assert ours - ours_base == gdb[name] - gdb_base, (number, name)
            else:
                assert ours == gdb[name], (number, name)
    # The target's own word on the callee-saved registers: inner's and outer's values.
    assert [e["rbx"] for e in expected[1:3]] == [0x3333, 0x1111]


def test_frame_line_is_the_kn_line_and_registers_follow_the_scope(client, output, targets):
    binary = targets["state"]
    pid = start(client, output, binary, "frames")
    break_at(client, output, "state_stop")
    client.control.execute("kn")
    stack = output.take().splitlines()
    client.control.execute(".frame 2")
    line = output.take().strip()
    assert line == stack[3]  # header, then frames 0, 1, 2
    assert re.match(
        r"^02 [0-9a-f]{8}`[0-9a-f]{8} [0-9a-f]{8}`[0-9a-f]{8} state_pie!outer\+0x", line
    )
    assert line.endswith("]") and "state.c @ " in line
    frame = client.symbols.get_scope_frame()
    assert frame.frame_number == 2
    assert client.control.evaluate("@$frame") == 2
    assert client.control.evaluate("@rbx") == 0x1111
    assert client.control.evaluate("@$ip") == frame.instruction_offset
    assert client.registers.get_values2(DEBUG_REGSRC_FRAME, ["r12", "r12d"]) == [0x2222] * 2
    # The thread's own registers (DEBUG_REGSRC_DEBUGGEE) are frame 0's whatever the scope.
    assert client.registers.get_value("rip") == binary.addr(pid, "state_stop")
    # Caller-saved registers are not known in a caller's frame.
    client.control.execute("r")
    shown = registers_shown(output.take())
    assert shown["rax"] == "?" * 16 and shown["efl"] == "?" * 8
    with pytest.raises(RegisterUnavailableError, match="rax is not known in frame 0x2"):
        client.control.execute("? @rax")
    client.control.execute(".f+")
    assert output.take().startswith("03 ")
    client.control.execute(".f-; .f-")
    assert output.take().splitlines()[-1].startswith("01 ")
    client.control.execute(".frame")
    assert output.take().startswith("01 ")


def test_bad_frames_are_one_line_errors_and_keep_the_scope(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "frames")
    break_at(client, output, "state_stop")
    client.control.execute(".frame 1")
    output.take()
    with pytest.raises(FrameError, match=r"frame 0x99 is beyond the stack: .* frames \(0\.\.0x"):
        client.control.execute(".frame 99")
    assert client.symbols.get_current_scope_frame_index() == 1
    with pytest.raises(ExpressionError, match="cannot set rbx in frame 0x1"):
        client.control.execute("r rbx=5")
    with pytest.raises(ScopeError):
        client.symbols.set_scope_frame_by_index(-1)
    client.control.execute(".frame 0")
    with pytest.raises(FrameError, match="frame 0 already"):
        client.control.execute(".f-")
    output.take()
    client.control.execute("r rbx")  # the session goes on
    assert output.take() == "rbx=0000000000003333\n"


def test_running_or_changing_thread_resets_the_scope(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "frames")
    break_at(client, output, "state_stop")
    client.control.execute(".frame 2; t; ? 0")
    text = output.take()
    assert client.symbols.get_current_scope_frame_index() == 0
    # The step's state is frame 0's: state_stop, one instruction in.
    assert "state_pie!state_stop+0x1" in text
    client.control.execute(".frame 1; ~0s")
    output.take()
    assert client.symbols.get_current_scope_frame_index() == 0


def test_selecting_another_thread_through_the_api_resets_the_scope(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "threads")
    break_at(client, output, "state_stop")
    objects = client.system_objects
    ids = objects.get_thread_ids_by_index()[0]
    client.control.execute(".frame 1")
    objects.set_current_thread_id(ids[1])
    objects.set_current_thread_id(ids[0])  # back, without looking at the scope between
    assert client.symbols.get_current_scope_frame_index() == 0


def test_frame_registers_in_the_display_after_frame_r(client, output, targets):
    binary = targets["state"]
    start(client, output, binary, "frames")
    break_at(client, output, "state_stop")
    client.control.execute(".frame /r 1")
    text = output.take()
    lines = text.splitlines()
    assert lines[0].startswith("01 ")
    shown = registers_shown(text)
    frame = client.symbols.get_scope_frame()
    assert int(shown["rip"], 16) == frame.instruction_offset
    assert int(shown["rsp"], 16) == frame.stack_offset
    assert shown["rbx"] == "0000000000003333"
    # The symbol line names the call's line (as kn does), the instruction is at the return
    # address.
    assert lines[-2].startswith("state_pie!inner+0x") and lines[-2].endswith("]:")
    assert lines[-1].startswith(hex64(frame.instruction_offset))
