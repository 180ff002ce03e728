"""Stock gdb (batch mode) against `pydbg gdbserver`, checked against gdb debugging the
same program locally and against what the program prints about itself (tests/targets/rsp.c).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time

import psutil
import pytest

from tests.gdbremote.conftest import ADDRESS, remote, run_gdb
from tests.support import wait_until


def _frames(output: str) -> list[str]:
    """gdb's `bt` lines, addresses masked."""
    return [ADDRESS.sub("ADDR", line) for line in output.splitlines() if line.startswith("#")]


def _printed(server, name: str) -> list[str]:
    assert wait_until(lambda: "done" in server.stdout(), 30), server.stdout()
    return [line.split()[1:] for line in server.stdout().splitlines() if line.split()[:1] == [name]]


def _pid(server) -> int:
    return int(re.search(r"pid = (\d+)", server.stderr()).group(1))


def _reap(pid: int) -> None:
    """A detached program outlives its server and is reparented to the test session (a
    subreaper): reap it there once it ends."""
    assert wait_until(lambda: not psutil.pid_exists(pid) or _zombie(pid), 30)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_break_continue_bt_matches_local_gdb(targets, gdbserver):
    program = targets["rsp"].path
    local = run_gdb(["break work", "run", "bt"], program)
    server = gdbserver("--", program)
    out = run_gdb([*remote(server), "break work", "continue", "bt", "continue"], program)
    assert "Breakpoint 1, work (x=3)" in out, out
    assert _frames(out) == _frames(local) and len(_frames(out)) == 3, out
    assert "exited normally" in out, out
    assert server.wait() == 0
    assert _printed(server, "counter") == [["8"]]


def test_registers_and_xmm_are_what_the_program_set(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [
            *remote(server),
            "break *regs_loaded",
            "continue",
            "info registers rip rsp",
            "p/x $xmm0.uint128",
            "p/x $ymm0.v2_int128",
            "p $mxcsr",
            "continue",
        ],
        program,
    )
    assert "exited normally" in out, out
    (label,) = _printed(server, "regs_loaded")
    (rsp,) = _printed(server, "saved_rsp")
    (xmm,) = _printed(server, "xmm_in")
    rip_line = re.search(r"^rip\s+(0x[0-9a-f]+)", out, re.M)
    rsp_line = re.search(r"^rsp\s+(0x[0-9a-f]+)", out, re.M)
    assert rip_line and int(rip_line.group(1), 16) == int(label[0], 16), out
    assert rsp_line and int(rsp_line.group(1), 16) == int(rsp[0], 16), out
    expected = int.from_bytes(bytes(int(b, 16) for b in xmm), "little")
    assert f"$1 = {expected:#x}" in out, out
    # ymm0's low half is xmm0; the high half is whatever the AVX state holds (printed).
    assert re.search(rf"\$2 = \{{{expected:#x}, 0x[0-9a-f]+\}}", out), out
    assert "[ IM DM ZM OM UM PM ]" in out, out  # the default MXCSR, 0x1f80


def test_x_on_a_global_matches_the_printout(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb([*remote(server), "break work", "continue", "x/4gx &quad", "continue"], program)
    quads = [int(q[0], 16) for q in _printed(server, "quad")]
    shown = [int(v, 16) for v in re.findall(r"\t(0x[0-9a-f]{16})", out)]
    assert shown == quads, out


def test_memory_write_reaches_the_program(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [*remote(server), "break work", "continue", "set var quad[3] = 0x77", "continue"], program
    )
    assert "exited normally" in out, out
    assert [q[0] for q in _printed(server, "quad")][3] == "0x77"


def test_watch_reports_old_and_new_value(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [*remote(server), "break outer", "continue", "watch counter", "continue", "continue"],
        program,
    )
    assert "Hardware watchpoint 2: counter" in out, out
    assert re.search(r"Old value = 5\s+New value = 8", out), out
    assert "work (x=3)" in out.split("New value = 8", 1)[1], out


def test_hbreak_and_awatch(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [*remote(server), "hbreak work", "continue", "awatch quad[1]", "continue", "kill"],
        program,
    )
    assert "Hardware assisted breakpoint 1 at" in out, out
    assert "Breakpoint 1, work (x=3)" in out, out
    assert "Hardware access (read/write) watchpoint 2: quad[1]" in out, out
    value = re.search(r"^Value = (\d+)", out, re.M)
    assert value and int(value.group(1)) == 0x5555666677778888, out


@pytest.mark.parametrize("count", [1000])
def test_stepi_lands_where_local_gdb_lands(targets, gdbserver, count):
    program = targets["rsp"].path
    steps = [f"stepi {count}", "info symbol $pc"]
    local = run_gdb(["break main", "run", *steps], program)
    server = gdbserver("--", program)
    out = run_gdb([*remote(server), "break main", "continue", *steps], program)

    def where(text: str) -> str:
        found = re.findall(r"(\S+(?: \+ \d+)?) in section ", text)
        assert found, text
        return found[-1]

    assert where(out) == where(local)


def test_threads_listed_selected_and_unwound(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program, "threads", "2")
    out = run_gdb(
        [
            *remote(server),
            "break all_ready",
            "continue",
            "info threads",
            "thread 2",
            "bt",
            "thread 1",
            "bt",
            "continue",
        ],
        program,
        args=["threads", "2"],
    )
    listed = [line for line in out.splitlines() if re.match(r"^[* ] +\d+ +Thread ", line)]
    assert len(listed) == 3, out
    after = out.split("[Switching to thread 2", 1)[1]
    assert "worker" in after.split("[Switching to thread 1", 1)[0], out
    assert "in main" in after.split("[Switching to thread 1", 1)[1], out
    assert "exited normally" in out, out


def test_detach_lets_the_program_finish(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    pid = _pid(server)
    out = run_gdb([*remote(server), "break work", "continue", "detach"], program)
    assert re.search(r"\[Inferior 1 \(process \d+\) detached\]", out), out
    assert _printed(server, "counter") == [["8"]]
    assert server.wait() == 0
    _reap(pid)


def test_kill_ends_the_program(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver("--", program)
    pid = _pid(server)
    out = run_gdb([*remote(server), "break work", "continue", "kill"], program)
    assert "[Inferior 1 (process" in out and "killed]" in out, out
    assert server.wait() == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert "done" not in server.stdout()


def test_symbols_through_vfile_without_a_local_file(targets, gdbserver):
    """No program on gdb's command line and the default sysroot: gdb learns the program
    from qXfer:exec-file and reads it, and the libraries, through vFile."""
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb([f"target remote 127.0.0.1:{server.port}", "break work", "continue", "bt"])
    assert f"Reading {program} from remote target" in out, out
    assert "Breakpoint 1, work (x=3)" in out and "in outer (x=2)" in out, out


def test_interrupt_breaks_in_with_sigint(targets, gdbserver):
    """Ctrl-C in gdb while the program runs (gdb sends 0x03): a SIGINT stop, after which
    the session goes on and the program finishes."""
    program = targets["rsp"].path
    server = gdbserver("--", program, "spin")
    pid = _pid(server)
    cmd = ["gdb", "-nx", "-batch"]
    for command in [*remote(server), "continue", "set var release = 1", "continue"]:
        cmd += ["-ex", command]
    gdb = subprocess.Popen(
        [*cmd, "--args", program, "spin"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Running: the program sleeps in worker_park, not in a tracing stop.
        def running() -> bool:
            return psutil.Process(pid).status() in ("sleeping", "running")

        assert wait_until(running, 30)
        time.sleep(0.5)  # (gdb sends `c` before the program runs; let it settle)
        assert wait_until(running, 30)
        gdb.send_signal(signal.SIGINT)
        out, _ = gdb.communicate(timeout=60)
    finally:
        if gdb.poll() is None:
            gdb.kill()
        gdb.wait()
    assert "received signal SIGINT" in out, out
    assert "exited normally" in out, out
    assert _printed(server, "counter") == [["8"]]


def test_extended_remote_runs_the_program(targets, gdbserver):
    program = targets["rsp"].path
    server = gdbserver(multi=True)
    out = run_gdb(
        [
            *remote(server, extended=True),
            f"set remote exec-file {program}",
            "break work",
            "run",
            "bt",
            "continue",
        ],
        program,
    )
    assert "Breakpoint 1, work (x=3)" in out and "in outer (x=2)" in out, out
    assert "exited normally" in out, out


@pytest.mark.parametrize(
    ("handle", "stops", "code"),
    [
        ([], 3, "03"),  # stop, print, pass: gdb continues with C1e (GDB's SIGUSR1 is 30)
        (["handle SIGUSR1 nostop noprint pass"], 0, "03"),  # QPassSignals: no stop at all
        (["handle SIGUSR1 stop print nopass"], 3, None),  # `c`: the signal is suppressed
    ],
)
def test_signals_stop_pass_and_suppress(targets, gdbserver, handle, stops, code):
    program = targets["signals"].path
    server = gdbserver("--", program, "usr1", "3")
    commands = [*remote(server), *handle, *["continue"] * (stops + 1)]
    out = run_gdb(commands, program, args=["usr1", "3"])
    assert out.count("received signal SIGUSR1, User defined signal 1") == stops, out
    if code is None:
        assert "exited normally" in out, out
    else:
        assert f"exited with code {code}" in out, out


def test_x87_and_avx_registers_match_the_program(targets, gdbserver):
    """fpu.c: at sse_loaded st0 = 1.0 (fld1) and xmm0 = xmm_in; at avx_loaded ymm1 =
    ymm_in, its upper half from the XSAVE area's AVX component."""
    program = targets["fpu"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [
            *remote(server),
            "break *sse_loaded",
            "break *avx_loaded",
            "continue",
            "p $st0",
            "p/x $xmm0.uint128",
            "p/x xmm_in",
            "continue",
            "p/x $ymm1.v2_int128",
            "p/x ymm_in",
            "continue",
        ],
        program,
    )
    assert "$1 = 1" in out, out
    values = dict(re.findall(r"^\$(\d+) = (.*)$", out, re.M))
    xmm_in = [int(v, 16) for v in re.findall(r"0x[0-9a-f]+", values["3"])]
    assert int(values["2"], 16) == int.from_bytes(bytes(xmm_in), "little"), out
    ymm_in = bytes(int(v, 16) for v in re.findall(r"0x[0-9a-f]+", values["5"]))
    low, high = (int(v, 16) for v in re.findall(r"0x[0-9a-f]+", values["4"]))
    assert low == int.from_bytes(ymm_in[:16], "little"), out
    assert high == int.from_bytes(ymm_in[16:], "little"), out
    assert "exited normally" in out, out


def test_stepping_one_thread_leaves_the_others_where_they_are(targets, gdbserver):
    """vCont;s:THREAD steps only that thread (all-stop, as with scheduler-locking)."""
    program = targets["rsp"].path
    server = gdbserver("--", program, "threads", "2")
    out = run_gdb(
        [
            *remote(server),
            "break all_ready",
            "continue",
            "delete",
            "thread 1",
            "p/x $pc",
            "thread 2",
            "p/x $pc",
            "stepi 30",  # (one step out of its nanosleep restarts the call: same pc)
            "p/x $pc",
            "thread 1",
            "p/x $pc",
            "kill",
        ],
        program,
        args=["threads", "2"],
    )
    values = [int(v, 16) for v in re.findall(r"\$\d+ = (0x[0-9a-f]+)\b", out)]
    assert len(values) == 4, out
    main_before, worker_before, worker_after, main_after = values
    assert worker_after != worker_before, out
    assert main_after == main_before, out


def test_shared_libraries_come_from_the_link_map(targets, gdbserver):
    """qXfer:libraries-svr4: gdb lists the same libraries, at the same addresses
    relative to each other's module, as the server's own module list would; compared
    with gdb's local `info sharedlibrary` by name."""
    program = targets["rsp"].path
    local = run_gdb(["break work", "run", "info sharedlibrary"], program)
    server = gdbserver("--", program)
    out = run_gdb([*remote(server), "break work", "continue", "info sharedlibrary"], program)

    def names(text: str) -> list[str]:
        return [
            os.path.basename(n) for n in re.findall(r"^0x\S+\s+0x\S+\s+\S+\s+.*?(\S+)$", text, re.M)
        ]

    assert names(out) == names(local) and "libc.so.6" in names(out), out


def test_attach_debug_and_detach_a_running_program(targets, gdbserver, tmp_path):
    program = targets["rsp"].path
    log = tmp_path / "attached.out"
    with open(log, "wb") as f:
        proc = subprocess.Popen([program, "spin"], stdout=f, stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: psutil.Process(proc.pid).status() == "sleeping", 30)
        server = gdbserver("--attach", str(proc.pid))
        out = run_gdb(
            [*remote(server), "bt", "info inferiors", "set var release = 1", "detach"],
            program,
        )
        assert "in worker_park" in out and "in main" in out, out
        assert re.search(r"\[Inferior 1 \(process \d+\) detached\]", out), out
        assert proc.wait(30) == 0
        assert "done" in log.read_text()
        assert server.wait() == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_inferior_call_finish_and_next(targets, gdbserver):
    """An inferior call (gdb writes registers and the stack, plants a breakpoint in its
    dummy frame on the stack: a hardware one here, int3 needs executable memory),
    `finish` and `next`.  The oracle is the program: at outer, counter is 5; work(10)
    returns 20 and makes it 15; outer then calls work(3) (18) and returns 7.  (gdb's
    own inferior calls on a local target fail on this machine: "Couldn't write extended
    state status".)"""
    program = targets["rsp"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [
            *remote(server),
            "break outer",
            "continue",
            "p work(10)",
            "p counter",
            "finish",
            "p counter",
            "continue",
        ],
        program,
    )
    found = re.findall(r"(\$\d+ = \d+|Value returned is \$\d+ = \d+)", out)
    assert found == ["$1 = 20", "$2 = 15", "Value returned is $3 = 7", "$4 = 18"], out
    assert "exited normally" in out, out
    assert _printed(server, "counter") == [["18"]]


def test_vector_and_x87_writes_reach_the_program(targets, gdbserver):
    """fpu.c stores xmm2 to xmm_out after sse_loaded and ymm3 to ymm_out after
    avx_loaded: values gdb writes there (P packets: xmm through the registers facet,
    the ymm upper half, mxcsr and st0 through the XSAVE area) are what it stores."""
    program = targets["fpu"].path
    server = gdbserver("--", program)
    out = run_gdb(
        [
            *remote(server),
            "set print repeats unlimited",
            "break *sse_loaded",
            "break *avx_loaded",
            "break fpu_done",
            "continue",
            "set var $xmm2.v2_int64[0] = 0x090a0b0c0d0e0f10",
            "set var $xmm2.v2_int64[1] = 0x0102030405060708",
            "set var $mxcsr = 0x1fc0",
            "set var $st0 = 2.5",
            "p $mxcsr",
            "p $st0",
            "continue",
            "set var $ymm3.v4_int64[2] = 0x191a1b1c1d1e1f20",
            "set var $ymm3.v4_int64[3] = 0x1112131415161718",
            "continue",
            "p/x xmm_out",
            "p/x ymm_out",
            "continue",
        ],
        program,
    )
    assert "$1 = [ IM DM ZM OM UM PM DAZ ]" in out or "$1 = [ DAZ IM DM ZM OM UM PM ]" in out, out
    assert "$2 = 2.5" in out, out
    values = dict(re.findall(r"^\$(\d+) = (\{.*\})$", out, re.M))
    xmm_out = bytes(int(v, 16) for v in re.findall(r"0x[0-9a-f]+", values["3"]))
    ymm_out = bytes(int(v, 16) for v in re.findall(r"0x[0-9a-f]+", values["4"]))
    assert int.from_bytes(xmm_out, "little") == 0x0102030405060708090A0B0C0D0E0F10, out
    assert int.from_bytes(ymm_out[16:], "little") == 0x1112131415161718191A1B1C1D1E1F20, out
    assert "exited normally" in out, out
