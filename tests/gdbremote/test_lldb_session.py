"""Stock lldb (`lldb --batch`, `gdb-remote`) against `pydbg gdbserver`: lldb asks its own
questions (qHostInfo, qProcessInfo, qMemoryRegionInfo, the `x` binary read) and reads
the registers from the target description.  Checked against the program's printout and
gdb's local `bt`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.gdbremote.conftest import GDB_TIMEOUT, run_gdb
from tests.gdbremote.test_gdb_session import _printed

pytestmark = pytest.mark.skipif(shutil.which("lldb") is None, reason="lldb is not installed")


def run_lldb(port: int, commands: list[str], program: str) -> str:
    cmd = ["lldb", "--batch", "--no-lldbinit", "-o", f"gdb-remote 127.0.0.1:{port}"]
    for command in commands:
        cmd += ["-o", command]
    result = subprocess.run([*cmd, program], capture_output=True, text=True, timeout=GDB_TIMEOUT)
    return result.stdout + result.stderr


def test_lldb_breaks_unwinds_and_reads_registers_and_memory(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_lldb(
        server.port,
        [
            "breakpoint set --name work",
            "continue",
            "bt",
            "memory read --format x --size 8 --count 4 &quad",
            "process kill",
        ],
        program,
    )
    assert "stop reason = breakpoint 1.1" in out, out
    frames = re.findall(r"frame #\d+: 0x[0-9a-f]+ \S+`(\w+)", out)
    local = run_gdb(["break work", "run", "bt"], program)
    assert frames[-3:] == re.findall(r"^#\d+ +(?:0x[0-9a-f]+ in )?(\w+)", local, re.M), out
    memory = out.split("memory read", 1)[1].split("process kill", 1)[0]
    pairs = re.findall(r": (0x[0-9a-f]{16}) (0x[0-9a-f]{16})", memory)
    shown = [int(v, 16) for pair in pairs for v in pair]
    assert server.wait() == 0
    assert "done" not in server.stdout()
    assert shown == [
        0x1111222233334444,
        0x5555666677778888,
        0x0123456789ABCDEF,
        42,
    ], out


def test_lldb_registers_watchpoint_and_exit(targets, gdbserver):
    binary = targets["rsp"]
    program = binary.path
    server = gdbserver("--", program)
    # (lldb without its Python cannot evaluate `regs_loaded` as an address expression:
    # the label's file address in the module, found by the test, is what it takes.)
    where = f"--address {binary.sym('regs_loaded'):#x} --shlib {os.path.basename(program)}"
    out = run_lldb(
        server.port,
        [
            f"breakpoint set {where}",
            "continue",
            "register read rip rsp xmm0",
            "watchpoint set variable counter",
            "continue",
            "watchpoint delete 1",
            "continue",
        ],
        program,
    )
    (label,) = _printed(server, "regs_loaded")
    (rsp,) = _printed(server, "saved_rsp")
    (xmm,) = _printed(server, "xmm_in")
    rip_line = re.search(r"rip = (0x[0-9a-f]+)", out)
    rsp_line = re.search(r"rsp = (0x[0-9a-f]+)", out)
    assert rip_line and int(rip_line.group(1), 16) == int(label[0], 16), out
    assert rsp_line and int(rsp_line.group(1), 16) == int(rsp[0], 16), out
    assert "xmm0 = {" + " ".join(f"0x{b}" for b in xmm) + "}" in out, out
    assert re.search(r"old value: 5\s+new value: 8", out), out
    assert "exited with status = 0" in out, out
