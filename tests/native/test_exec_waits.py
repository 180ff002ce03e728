"""The core's blocking waits for one thread while a sibling is inside execve (hazards
§6.2, §16 #21).

execve by a non-leader kills the other threads and then waits, in the kernel (de_thread),
until each has left its PTRACE_EVENT_EXIT stop; those stops wait for the tracer.  A wait
for the exec'ing thread alone (stop-all, a step, the trace loop) never ends that way.
Each test holds the leader and the sleeper stopped, lets the exec'ing thread reach
de_thread (state D), and then calls the wait that used to hang.
"""

from __future__ import annotations

import pytest

from pydbg._native import EventKind
from tests.support import task_state, task_tids, wait_until


def _start(tracer, driver, targets, program=("/bin/true",)):
    """Spawn exec_thread; return (pid, sleeper, execer) with every thread stopped: the
    leader in its second CLONE stop, the sleeper interrupted, the execer in its first stop."""
    pid = tracer.spawn([targets["exec_thread"].path, *program])
    tracer.cont(pid)
    clones = []
    while len(clones) < 2:
        event = driver.next()
        assert event.kind == EventKind.CLONE, event
        clones.append(event.message)
        if len(clones) == 1:
            driver.resume(event)
    tracer.stop_all(pid)
    assert not tracer.has_pending()
    return pid, clones[0], clones[1]


def _in_exec(pid, execer):
    """Let only the exec'ing thread run, until it sits in de_thread."""
    assert wait_until(lambda: task_state(pid, execer) == "D" or execer not in task_tids(pid))


def _finish(tracer, driver, pid, events):
    """The collected events tell of the exec; the new program runs to exit 0."""
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.EXIT) == 2, events  # the leader and the sleeper
    assert kinds[-1] == EventKind.EXEC, events
    assert events[-1].tid == pid
    assert tracer.threads(pid) == [pid]
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def _collected(tracer, first=None):
    events = [] if first is None else [first]
    events.extend(tracer.wait(0))
    return [e for e in events if e.kind != EventKind.EXITED] if events else events


@pytest.mark.timeout(60)
def test_stop_all_while_a_thread_is_in_exec(tracer, driver, targets):
    pid, _sleeper, execer = _start(tracer, driver, targets)
    tracer.cont(execer)
    _in_exec(pid, execer)
    tracer.stop_all(pid)  # waited for the exec'ing thread alone: hung
    events = _collected(tracer)
    _finish(tracer, driver, pid, events)


@pytest.mark.timeout(60)
def test_step_through_execve_with_the_others_stopped(tracer, driver, targets):
    """Single-step the exec'ing thread from execve's entry, the others held stopped."""
    pid, _sleeper, execer = _start(tracer, driver, targets)
    libc_execve = _libc_symbol(pid, "execve")
    tracer.insert_breakpoint(pid, libc_execve)
    tracer.cont(execer)
    hit = driver.next()
    assert hit.kind == EventKind.BREAKPOINT and hit.tid == execer, hit
    tracer.remove_breakpoint(pid, libc_execve)
    for _ in range(100):
        event = tracer.step(execer)
        if event.kind != EventKind.STEP:
            break
    else:
        raise AssertionError("no exec within 100 steps")
    events = _collected(tracer, event)
    _finish(tracer, driver, pid, events)


@pytest.mark.timeout(60)
def test_trace_loop_through_execve_with_the_others_stopped(tracer, driver, targets):
    pid, _sleeper, execer = _start(tracer, driver, targets)
    libc_execve = _libc_symbol(pid, "execve")
    tracer.insert_breakpoint(pid, libc_execve)
    tracer.cont(execer)
    hit = driver.next()
    assert hit.kind == EventKind.BREAKPOINT and hit.tid == execer, hit
    result = tracer.trace(execer, 1000)
    assert result.event is not None, result
    events = _collected(tracer, result.event)
    assert tracer.breakpoints(pid) == {}  # the old image's went with it
    _finish(tracer, driver, pid, events)


def _libc_symbol(pid: int, name: str) -> int:
    """Address of a dynamic symbol of the libc mapped in pid (pyelftools)."""
    from elftools.elf.elffile import ELFFile

    path = base = None
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and "/libc.so" in fields[5] and int(fields[2], 16) == 0:
                path, base = fields[5], int(fields[0].split("-")[0], 16)
                break
    assert path is not None, "libc is not mapped"
    with open(path, "rb") as f:
        symbol = ELFFile(f).get_section_by_name(".dynsym").get_symbol_by_name(name)[0]
        return base + symbol["st_value"]
