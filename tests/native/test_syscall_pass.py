"""The native syscall pass (Tracer.set_syscall_pass / syscall_counts) and cont_all's
PTRACE_SYSCALL tids: stops of numbers not asked for are resumed inside wait() and their
entries counted; the ones asked for are reported, entry and exit.  The oracle is the
program's own call count (tests/targets/syscalls.c makes N raw getpid calls)."""

from __future__ import annotations

from pydbg._native import REQ_CONT, REQ_SYSCALL, EventKind

GETPID, WRITE, EXECVE = 39, 1, 59


def test_unreported_calls_are_counted_and_reported_ones_come_in_pairs(
    tracer, driver, targets, tmp_path
):
    out = tmp_path / "out"
    pid = tracer.spawn([targets["syscalls"].path, "getpid", str(out), "300"])
    tracer.syscall_counts(reset=True)
    tracer.set_syscall_pass([WRITE])
    try:
        tracer.cont_all(syscall={pid})
        assert tracer.last_request(pid) == REQ_SYSCALL
        # spawn() left it in its exec stop, inside execve: the exit of that call, whose
        # entry the core never saw, is reported.
        event = driver.next()
        assert (event.kind, event.syscall_op, event.syscall_ret) == (EventKind.SYSCALL, 2, 0)
        assert tracer.get_reg(pid, "orig_rax") == EXECVE
        tracer.cont_all(syscall={pid})
        ops = []
        while True:
            event = driver.next()
            if event.kind != EventKind.SYSCALL:
                break
            assert tracer.get_reg(pid, "orig_rax") == WRITE  # only write is reported
            ops.append(event.syscall_op)
            tracer.cont_all(syscall={pid})
        assert ops and ops == [1, 2] * (len(ops) // 2)
        assert tracer.syscall_counts()[GETPID] == 300
        assert event.kind in (EventKind.EXIT, EventKind.EXITED), event
    finally:
        tracer.set_syscall_pass(None)
    assert out.read_text() == f"pid {pid}\n"


def test_cont_all_without_syscall_tids_is_plain_cont(tracer, driver, targets, tmp_path):
    pid = tracer.spawn([targets["syscalls"].path, "getpid", str(tmp_path / "out"), "3"])
    tracer.cont_all(syscall=set())
    assert tracer.last_request(pid) == REQ_CONT
    assert driver.until_exit(pid).exit_code == 0
