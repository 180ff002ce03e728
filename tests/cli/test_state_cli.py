"""What a stop shows, frames, threads and the last exception through the `pydbg` command
line, run as a user runs it (the state target is launched by the CLI and killed by it).
Oracles: the file's own bytes and symbols (pyelftools, capstone), the target's fault."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.commands.state_support import HEADER, REGISTER_ROW, instructions


def pydbg(commands: str, *program: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pydbg", "-c", commands, "--", *program],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_counted_steps_show_every_step(targets):
    binary = targets.get("state", "nopie")
    assert binary is not None
    result = pydbg("bp step_body; g; t 3; r rip", binary.path, "steps")
    assert result.returncode == 0, result.stderr
    after_hit = result.stdout.split("Breakpoint 0 hit\n")[1]
    # The breakpoint's state, then one per step: four register blocks, four symbol lines.
    assert len(REGISTER_ROW.findall(after_hit)) == 4
    offsets = [int(h[2] or "0", 16) for h in HEADER.findall(after_hit)]
    code = instructions(binary, "step_body")
    assert offsets == [address - code[0][0] for address, *_ in code[:4]]
    assert after_hit.endswith(f"rip={code[3][0]:016x}\n")


def test_exception_record_frames_and_threads(targets):
    binary = targets["state"]
    result = pydbg("g; .exr -1; ~*kn; .frame 1; r rip", binary.path, "segv")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "   ExceptionCode: c0000005 (Access violation)" in out
    assert "         si_code: 1 SEGV_MAPERR (address not mapped to object)" in out
    assert "Faulting address: 0000000000000010" in out
    assert re.search(r"^\.  0  Id: [0-9a-f]+\.[0-9a-f]+\n # Child-SP", out, re.M)
    frame1 = re.search(r"^01 [0-9a-f]{8}`[0-9a-f]{8} ([0-9a-f]{8})`([0-9a-f]{8}) (\S+)", out, re.M)
    assert frame1 is not None and frame1[3].startswith("libc_so!")
    # After `.frame 1`, `r rip` is frame 1's: the return address into libc kn showed in
    # frame 0's RetAddr column.
    frame0 = re.search(r"^00 [0-9a-f]{8}`[0-9a-f]{8} ([0-9a-f]{8})`([0-9a-f]{8})", out, re.M)
    assert frame0 is not None
    assert out.endswith(f"rip={frame0[1]}{frame0[2]}\n")


def test_bad_frame_is_a_one_line_error(targets):
    binary = targets["state"]
    result = pydbg("bp state_stop; g; .frame 99", binary.path, "frames")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("pydbg: frame 0x99 is beyond the stack: thread 0 has")
    )
