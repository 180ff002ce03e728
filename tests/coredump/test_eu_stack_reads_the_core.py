"""eu-stack (elfutils), a second reader with its own unwinder, finds every thread of the core
and the functions pydbg's `~*k` shows."""

from __future__ import annotations

import re
import subprocess

from pydbg.coredump import write_core
from tests.coredump.conftest import need


def _eu_stack(program: str, core: str) -> dict[int, list[str]]:
    """tid -> the function names eu-stack shows for it."""
    proc = subprocess.run(
        [need("eu-stack"), "--core", core, "-e", program],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    threads: dict[int, list[str]] = {}
    current: list[str] = []
    for line in proc.stdout.splitlines():
        header = re.match(r"TID (\d+):", line)
        if header:
            current = threads.setdefault(int(header.group(1)), [])
            continue
        frame = re.match(r"#\d+\s+0x[0-9a-f]+\s+(\S+)", line)
        if frame:
            current.append(frame.group(1).split("@", 1)[0])
    assert threads, proc.stdout + proc.stderr
    return threads


def test_eu_stack_shows_the_threads_and_functions_of_the_stop(at_breakpoint, core_path):
    stopped = at_breakpoint
    own = {"dump_here", "inner", "middle", "outer", "main", "worker_wait", "worker"}
    live: dict[int, list[str]] = {}
    engine_ids, tids = stopped.client.system_objects.get_thread_ids_by_index()
    for engine_id, tid in zip(engine_ids, tids, strict=True):
        stopped.run(f"~{engine_id}s")
        live[tid] = [name for name in stopped.k_functions() if name in own]
    stopped.run(f"~{engine_ids[0]}s")
    write_core(stopped.client, core_path)
    shown = _eu_stack(stopped.binary.path, core_path)
    assert list(shown) == tids  # the event thread (main's) first, as in the notes
    assert {tid: [n for n in names if n in own] for tid, names in shown.items()} == live
    assert live[tids[0]] == ["dump_here", "inner", "middle", "outer", "main"]


def test_eu_stack_unwinds_a_crash_core(at_crash, core_path):
    stopped = at_crash
    write_core(stopped.client, core_path)
    shown = _eu_stack(stopped.binary.path, core_path)
    crashing = shown[stopped.client.system_objects.get_current_thread_system_id()]
    assert crashing[:4] == ["inner", "middle", "outer", "main"]
