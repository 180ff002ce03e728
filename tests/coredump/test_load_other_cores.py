"""Cores from other writers, opened as a dump target: gdb's `gcore` of a process stopped by
an attach (checked against gdb on the same core), and pydbg's own writer, whose core must
read back as the live process read (`k`, `~*k`, `r`, `.exr -1`, memory)."""

from __future__ import annotations

import re
import subprocess
import time

from pydbg.constants import DebugEnd
from tests.coredump.conftest import gdb, gdb_frames, need
from tests.coredump.loading import OWN, k_names, open_core, run, threads_k


def _sleeping(pid: int, limit: float = 30.0) -> None:
    """Until the process sleeps (in sleep_forever's nanosleep: crash.c `sleep` does
    nothing else that blocks)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "S":
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never slept")


def test_gcore_of_a_stopped_process_matches_gdb(client, output, targets, procs, tmp_path):
    need("gdb")
    binary = targets["crash"]
    proc = procs.start([binary.path, "sleep"])
    _sleeping(proc.pid)
    core = str(tmp_path / "gcore.core")
    made = subprocess.run(
        ["gdb", "-nx", "-batch", "-p", str(proc.pid), "-ex", f"gcore {core}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    text = gdb("bt", "info registers rip rsp rbp", program=binary.path, core=core)

    open_core(client, core, binary.path)

    names = k_names(run(client, output, "k"))
    assert [n for n in names if n in OWN] == ["sleep_forever", "main"]
    assert [n for n in gdb_frames(text) if n in OWN] == ["sleep_forever", "main"]
    for name in ("rip", "rsp", "rbp"):
        value = client.registers.get_value(name)
        assert re.search(rf"^{name}\s+{value:#x}\s", text, re.M), (name, text)
    assert client.system_objects.get_current_thread_system_id() == proc.pid
    # No crash was recorded: the last event names no access violation.
    assert "Access violation" not in run(client, output, ".lastevent")


def test_pydbg_written_core_reads_back_as_the_live_process(at_crash, core_path):
    """Write a core at the crash (`.dump /f`), end the session, open the core: every
    command shows what it showed live (`~*k` by tid: engine thread ids are never reused
    within an engine, so the core's threads get new ones)."""
    stopped = at_crash
    client = stopped.client
    commands = ["k", "r", ".exr -1", "lm", "dq @rsp L4", "u @rip L3", "ln @rip", "kn 2"]
    live = {command: stopped.run(command) for command in commands}
    marker = stopped.binary.addr(stopped.pid, "marker")
    live_marker = client.data_spaces.read_virtual(marker, 8)
    xmm = [client.registers.get_value(f"xmm{i}") for i in range(4)]
    threads = threads_k(client, stopped.output)
    stopped.run(f".dump /f {core_path}")
    client.end_session(DebugEnd.ACTIVE_TERMINATE)

    open_core(client, core_path, stopped.binary.path)

    for command in commands:
        assert stopped.run(command) == live[command], command
    assert client.data_spaces.read_virtual(marker, 8) == live_marker
    assert [client.registers.get_value(f"xmm{i}") for i in range(4)] == xmm
    assert threads_k(client, stopped.output) == threads
    assert [n for n in k_names(live["k"]) if n in OWN] == ["inner", "middle", "outer", "main"]
