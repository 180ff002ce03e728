"""Helpers of the core-loading tests (test_load_*.py): making real cores (the kernel's, by
a crash with RLIMIT_CORE raised; gdb's gcore), opening them in a client, and reading what
gdb says of the same core."""

from __future__ import annotations

import re
import resource
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pydbg
from tests.api.helpers import wait
from tests.coredump.conftest import gdb_frames
from tests.support import Binary

CORE_PATTERN = "/proc/sys/kernel/core_pattern"
# The program's own functions (libc's may carry other names for the same code in gdb).
OWN = {
    "dump_here", "inner", "middle", "outer", "main", "worker_wait", "worker", "crasher",
    "thread_inner", "thread_outer", "crashing_thread", "idle_worker", "idle_thread",
    "sleep_forever",
}  # fmt: skip


def _raise_core_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def kernel_core(binary: Binary, directory: Path, *args: str) -> str:
    """Run the program in `directory` with RLIMIT_CORE as high as allowed until it dies of
    a signal; the core the kernel wrote there.  Skips when the kernel's core_pattern does
    not write a plain file into the crashing program's directory (a pipe to a handler
    such as systemd-coredump or apport, or an absolute path): that is the machine's
    setting, and this test does not change it."""
    with open(CORE_PATTERN) as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        pytest.skip(f"{CORE_PATTERN} is {pattern!r}: cores do not land in the program's cwd")
    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("the hard RLIMIT_CORE is 0: the kernel writes no core")
    proc = subprocess.run(
        [binary.path, *args],
        cwd=directory,
        preexec_fn=_raise_core_limit,  # (single-threaded here: the test runs on one thread)
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode < 0, f"{binary} {args} did not die of a signal: {proc.returncode}"
    cores = [p for p in directory.iterdir() if p.is_file()]
    if len(cores) != 1:
        pytest.skip(f"the kernel wrote no single core in {directory} ({cores}, {pattern!r})")
    return str(cores[0])


def open_core(client: pydbg.DebugClient, core: str, program: str | None = None) -> None:
    client.open_dump_file(core, program)
    assert wait(client)


def run(client: pydbg.DebugClient, output: Any, command: str) -> str:
    output.take()
    client.control.execute(command)
    return str(output.take())


_K_FRAME = re.compile(r"^[0-9a-f]{8}`[0-9a-f]{8} [0-9a-f]{8}`[0-9a-f]{8} (\S+)", re.M)


def k_names(text: str) -> list[str]:
    """The function names of `k` output (module prefix and offset cut)."""
    return [name.split("!", 1)[-1].split("+", 1)[0] for name in _K_FRAME.findall(text)]


def threads_k(client: pydbg.DebugClient, output: Any) -> dict[int, list[str]]:
    """tid -> the program's own functions of that thread's `k`, by `~*k`."""
    text = run(client, output, "~*k")
    out: dict[int, list[str]] = {}
    for block in re.split(r"^[ .#]\s*\d+\s+Id: ", text, flags=re.M)[1:]:
        tid = int(block.split(".", 1)[1].split()[0], 16)
        out[tid] = [name for name in k_names(block) if name in OWN]
    return out


def gdb_threads_bt(text: str) -> dict[int, list[str]]:
    """LWP -> the program's own functions of `thread apply all bt`."""
    out: dict[int, list[str]] = {}
    for block in re.split(r"^Thread \d+ ", text, flags=re.M)[1:]:
        found = re.search(r"\(LWP (\d+)\)", block)
        assert found is not None, block
        out[int(found.group(1))] = [name for name in gdb_frames(block) if name in OWN]
    return out


def gdb_value(text: str, name: str) -> int:
    """`$N = VALUE` of a gdb print, the line after `name` was echoed (`echo name\\n`)."""
    found = re.search(rf"^{re.escape(name)}\n\$\d+ = (-?(?:0x[0-9a-f]+|\d+))", text, re.M)
    assert found is not None, (name, text)
    return int(found.group(1), 0)
