"""Thread selectors: `~`, `~*k`, `~Nk`, `~.`, `~#`, `~Ns`, `~~[tid]s`, on the `state` target's
three parked workers.  Oracles: the kernel's list of the process's tasks (/proc/PID/task)
and the target's own structure (each worker is parked in worker_park)."""

from __future__ import annotations

import os
import re

import pytest

from pydbg.commands.errors import CommandError
from pydbg.commands.thread_commands import NoSuchThreadError
from tests.commands.state_support import break_at, start

LINE = re.compile(r"^([.# ])\s*(\d+)  Id: ([0-9a-f]+)\.([0-9a-f]+)$", re.M)


def stopped_with_workers(client, output, targets) -> int:
    binary = targets["state"]
    pid = start(client, output, binary, "threads")
    break_at(client, output, "state_stop")
    return pid


def test_listing_marks_current_and_matches_the_kernels_tasks(client, output, targets):
    pid = stopped_with_workers(client, output, targets)
    client.control.execute("~")
    rows = LINE.findall(output.take())
    assert sorted(int(tid, 16) for *_, tid in rows) == sorted(
        int(t) for t in os.listdir(f"/proc/{pid}/task")
    )
    assert {int(p, 16) for _, _, p, _ in rows} == {pid}
    assert [mark for mark, *_ in rows].count(".") == 1
    current = next(int(tid, 16) for mark, _, _, tid in rows if mark == ".")
    assert current == pid  # main hit the breakpoint


def test_star_k_shows_every_threads_stack_and_keeps_the_current_thread(client, output, targets):
    stopped_with_workers(client, output, targets)
    before = client.system_objects.get_current_thread_id()
    client.control.execute("~*k")
    text = output.take()
    assert text.startswith("\n")
    blocks = text[1:].split("\n\n")  # each after a blank line: `~` line, the stack
    assert len(blocks) == 4
    workers = [b for b in blocks if "state_pie!worker_park" in b]
    assert len(workers) == 3
    assert sum("state_pie!state_stop" in b for b in blocks) == 1
    for block in blocks:
        assert LINE.match(block.splitlines()[0])
        assert block.splitlines()[1].startswith("Child-SP")
    assert client.system_objects.get_current_thread_id() == before


def test_one_thread_prefix_runs_for_that_thread(client, output, targets):
    stopped_with_workers(client, output, targets)
    ids, tids = client.system_objects.get_thread_ids_by_index()
    worker, worker_tid = ids[1], tids[1]
    client.control.execute(f"~{worker}kn")
    text = output.take()
    assert text.startswith(" # Child-SP") and "state_pie!worker_park" in text
    assert "state_pie!state_stop" not in text
    client.control.execute(f"~{worker} ? @$tid")
    assert output.take().startswith(f"Evaluate expression: {worker_tid} =")
    assert client.system_objects.get_current_thread_id() == ids[0]
    client.control.execute("~.")
    assert LINE.match(output.take()).group(1) == "."
    client.control.execute("~#")
    assert int(LINE.match(output.take()).group(2)) == ids[0]


def test_select_shows_where_the_thread_is_and_resets_the_scope(client, output, targets):
    stopped_with_workers(client, output, targets)
    ids, tids = client.system_objects.get_thread_ids_by_index()
    client.control.execute(".frame 1")
    output.take()
    client.control.execute(f"~{ids[2]}s")
    text = output.take()
    assert client.system_objects.get_current_thread_id() == ids[2]
    assert client.symbols.get_current_scope_frame_index() == 0
    assert "rax=" not in text
    lines = text.splitlines()
    assert lines[-2].endswith(":") and "!" in lines[-2]
    rip = client.registers.get_value("rip")
    assert lines[-1].startswith(f"{rip >> 32:08x}`{rip & 0xFFFFFFFF:08x}")
    client.control.execute(f"~~[{tids[1]:#x}]s")
    output.take()
    assert client.system_objects.get_current_thread_system_id() == tids[1]
    client.control.execute("~")
    rows = LINE.findall(output.take())
    marks = {int(n): mark for mark, n, _, _ in rows}
    assert marks[ids[1]] == "." and marks[ids[0]] == "#"  # # marks the event's thread


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ("~9k", NoSuchThreadError, r"no thread 9 \(threads: 0, 1, 2, 3\)"),
        ("~~[0x1]s", NoSuchThreadError, "no thread has system id 1"),
        ("~*s", CommandError, "select one thread, not all"),
        ("~1 g", CommandError, "execution command .* not supported"),
        ("~1f", CommandError, "does not freeze threads"),
        ("~x", CommandError, "expected ~, ~N, ~., ~#, ~\\*"),
    ],
)
def test_bad_selectors_fail_clearly_and_keep_the_session(
    client, output, targets, command, error, match
):
    stopped_with_workers(client, output, targets)
    current = client.system_objects.get_current_thread_id()
    with pytest.raises(error, match=match):
        client.control.execute(command)
    assert client.system_objects.get_current_thread_id() == current
    client.control.execute("~")
    assert len(LINE.findall(output.take())) == 4
