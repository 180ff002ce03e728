"""Breakpoint decisions under load: more threads and more hits than tests/breakpoints/
test_hits.py, with every CPU kept busy by helper processes the test starts itself.

A busy machine changes which thread runs when: a thread resumed from a breakpoint may
be stopped again (another thread's report, a stop-all) before it has executed a single
instruction.  These tests make that likely instead of rare.

The load is `busy_cpus`: one spinning Python process per CPU, each bounded (it exits on
its own after LOAD_SECONDS even if this process dies) and killed and reaped by the
`procs` fixture after the session of the test ended.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.api.recording import GO

LOAD_SECONDS = 300  # an upper bound only; the test kills the spinners when it ends
_SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@pytest.fixture
def busy_cpus(procs) -> int:
    """Keep every CPU busy for the test; the number of spinners started."""
    count = max(2, os.cpu_count() or 2)
    for _ in range(count):
        procs.start(
            [sys.executable, "-c", _SPIN.format(seconds=LOAD_SECONDS)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
    return count


# The debug-register case runs several rounds: each round is one chance for the race it
# guards against (a stop-all before the resumed thread ran its first instruction).
CASES = [(True, 4, 50)] * 4 + [(True, 16, 100), (False, 4, 50), (False, 16, 100)]


@pytest.mark.parametrize(
    ("by_register", "threads", "calls"),
    CASES,
    ids=[f"{'debug-register' if r else 'int3'}-{t}x{n}-{i}" for i, (r, t, n) in enumerate(CASES)],
)
def test_match_thread_every_hit_of_that_thread_triggers_under_load(
    client, recorder, launch, busy_cpus, by_register, threads, calls
):
    client._engine.breakpoints.serve_by_register = by_register
    target = launch("bp_threads", "hot", threads, calls)
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.go() is True
    assert target.reg("rdi") == 0  # every thread's first call
    chosen, chosen_tid = target.thread_id(), target.tid()
    bp.set_match_thread_id(chosen)
    assert client._engine.breakpoints.served_by_register(bp) is by_register
    triggered: list[tuple[int, int]] = []

    def vote(b):
        triggered.append((target.tid(), target.reg("rdi")))
        return GO

    recorder.votes["breakpoint"] = vote
    counts: list[int] = []
    recorder.votes["exit_process"] = lambda code: counts.append(bp.hit_count)
    assert target.run_to_end(timeout=120) == 0
    assert target.result() == f"total {threads * calls}"
    assert triggered == [(chosen_tid, i) for i in range(1, calls)]
    assert counts == [calls]  # the other threads pass silently: not hits
