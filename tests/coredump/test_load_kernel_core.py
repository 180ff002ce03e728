"""Cores written by the kernel, opened as a dump target (open_dump_file, `pydbg -z`) and
checked against gdb in batch mode on the same core and program: the backtrace of the
crashing thread and of every thread, the registers, a global, the signal and its faulting
address, the crashing thread as the event thread."""

from __future__ import annotations

import os
import re

import pytest

from tests.coredump.conftest import gdb, gdb_frames, up_to_main
from tests.coredump.loading import (
    OWN,
    gdb_threads_bt,
    gdb_value,
    k_names,
    kernel_core,
    open_core,
    run,
    threads_k,
)

_REGISTERS = ("rip", "rsp", "rbp", "rbx", "rax", "r12", "r13", "r14", "r15")


@pytest.mark.parametrize("variant", ["pie", "nopie"])
def test_crash_in_main_thread_matches_gdb(client, output, targets, tmp_path, variant):
    binary = targets.get("coredump", variant)
    assert binary is not None
    core = kernel_core(binary, tmp_path, "crash")
    text = gdb(
        "bt",
        "echo ==all==\\n",
        "thread apply all bt",
        "info registers " + " ".join(_REGISTERS),
        "echo marker\\n",
        "print/x marker",
        "echo signo\\n",
        "print $_siginfo.si_signo",
        "echo addr\\n",
        "print/x $_siginfo._sifields._sigfault.si_addr",
        "echo xmm1\\n",
        "print/x $xmm1.uint128",
        program=binary.path,
        core=core,
    )
    assert "Program terminated with signal SIGSEGV" in text

    open_core(client, core, binary.path)

    # The crashing thread's stack, as gdb unwinds it (gdb stops at main).
    names = k_names(run(client, output, "k"))
    assert names[:5] == ["inner", "middle", "outer", "main", "__libc_start_call_main"]
    assert up_to_main(names) == gdb_frames(text.split("==all==")[0])
    # Every thread (main and the two workers waiting in read).
    every = threads_k(client, output)
    assert every == gdb_threads_bt(text) and len(every) == 3
    assert sorted(map(len, every.values())) == [2, 2, 4]
    # Registers of the crashing thread.
    for name in _REGISTERS:
        value = client.registers.get_value(name)
        assert re.search(rf"^{name}\s+{value:#x}\s", text, re.M), (name, hex(value), text)
    # SSE state, from the XSAVE note.
    assert client.registers.get_value("xmm1") == gdb_value(text, "xmm1")
    # The address map: the faulting instruction is in the program's text mapping.
    region = run(client, output, "!address @rip")
    assert "PAGE_EXECUTE_READ" in region and "MEM_IMAGE" in region and binary.path in region
    # A global, read from the core's memory by symbol.
    module = os.path.basename(binary.path).replace("-", "_")
    marker = int(run(client, output, f"dq {module}!marker L1").split()[1].replace("`", ""), 16)
    assert marker == gdb_value(text, "marker") == 0x1122334455667788
    # The recorded signal: .exr -1 and .lastevent.
    exr = run(client, output, ".exr -1")
    assert f"Signal: SIGSEGV ({gdb_value(text, 'signo')})" in exr
    assert re.search(rf"Faulting address: 0*{gdb_value(text, 'addr'):x}\n", exr), exr
    assert "Access violation" in run(client, output, ".lastevent")


def test_crash_in_another_thread_matches_gdb(client, output, targets, tmp_path):
    """The crash in a third thread: it is the event thread (the kernel writes it first)
    and its stack and registers are gdb's current thread's."""
    binary = targets["coredump"]
    core = kernel_core(binary, tmp_path, "thread-crash")
    text = gdb(
        "info threads",
        "bt",
        "info registers rip rsp",
        "echo ==all==\\n",
        "thread apply all bt",
        program=binary.path,
        core=core,
    )
    current = re.search(r"^\* \d+\s+Thread 0x[0-9a-f]+ \(LWP (\d+)\)", text, re.M)
    assert current is not None, text

    open_core(client, core, binary.path)

    objects = client.system_objects
    assert objects.get_current_thread_system_id() == int(current.group(1))
    assert objects.get_event_thread() == objects.get_current_thread_id()
    names = k_names(run(client, output, "k"))
    assert [n for n in names if n in OWN] == ["inner", "middle", "outer", "crasher"]
    assert gdb_frames(text.split("==all==")[0])[:4] == names[:4]
    for name in ("rip", "rsp"):
        value = client.registers.get_value(name)
        assert re.search(rf"^{name}\s+{value:#x}\s", text, re.M), (name, text)
    every = threads_k(client, output)
    assert every == gdb_threads_bt(text) and len(every) == 4
    # Another thread can be selected and read; the event stays the crash.
    main_tid = objects.get_current_process_system_id()
    run(client, output, f"~{objects.get_thread_id_by_system_id(main_tid)}s")
    assert "main" in k_names(run(client, output, "k"))
    assert "Access violation" in run(client, output, ".lastevent")


def test_modules_come_from_the_core(client, output, targets, tmp_path):
    """`lm` lists what the link map in the core's memory lists, at gdb's addresses."""
    binary = targets["coredump"]
    core = kernel_core(binary, tmp_path, "crash")
    text = gdb("info sharedlibrary", program=binary.path, core=core)
    open_core(client, core, binary.path)
    lm = run(client, output, "lm")
    for library in ("libc.so.6", "ld-linux-x86-64.so.2"):
        shown = rf"^(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+\S+\s+(\S*{re.escape(library)})$"
        row = re.search(shown, text, re.M)
        assert row is not None, text
        line = next(line for line in lm.splitlines() if library in line)
        start, end = (int(x.replace("`", ""), 16) for x in line.split()[:2])
        assert start <= int(row.group(1), 16) < end, (line, row.group(0))
    assert binary.path in lm and os.path.basename(binary.path).replace("-", "_") in lm
    # Symbols of the libraries resolve in the core as in a live process.
    assert re.search(r"libc_so!\w+", run(client, output, "ln libc_so!malloc"))


def test_batch_z_prints_the_backtrace(targets, tmp_path):
    """`pydbg -z CORE PROG -c k`: the CLI's dump mode, in batch."""
    import subprocess
    import sys

    from tests.support import ROOT

    binary = targets["coredump"]
    core = kernel_core(binary, tmp_path, "crash")
    proc = subprocess.run(
        [sys.executable, "-m", "pydbg", "-z", core, binary.path, "-c", ".lastevent; k; g; r rip"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert "Access violation" in proc.stdout
    assert k_names(proc.stdout)[:4] == ["inner", "middle", "outer", "main"]
    # `g` fails with one line and ends the batch (cdb stops a command line at an error).
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "pydbg: go: the target is a core file (read-only); it cannot run or change"
    ]


def test_opening_reports_the_events_of_the_recorded_process(client, targets, tmp_path):
    """The wait after open_dump_file reports CreateProcess, CreateThread per other thread,
    LoadModule per library of the link map, then the recorded signal, a second chance;
    it breaks in whatever the callbacks vote (nothing in a core can run)."""
    from pydbg.constants import DebugStatus
    from tests.api.recording import ALL_EVENTS, Recorder, exception
    from tests.api.recording import create_process as created

    binary = targets["coredump"]
    core = kernel_core(binary, tmp_path, "crash")
    recorder = Recorder(ALL_EVENTS, votes={"exception": int(DebugStatus.GO)})
    client.set_event_callbacks(recorder)
    open_core(client, core, binary.path)
    states = ("change_engine_state", "session_status", "change_symbol_state")
    events = [c for c in recorder.calls if c[0] not in (*states, "change_debuggee_state")]
    pid = client.system_objects.get_current_process_system_id()
    assert events[0] == created(pid, pid)
    assert [c[0] for c in events[1:3]] == ["create_thread", "create_thread"]
    modules = [c for c in events if c[0] == "load_module"]
    assert {m[1] for m in modules} >= {"libc_so", "ld_linux_x86_64_so"}
    assert events[-1] == exception(0xC0000005, False)
    assert client.control.get_execution_status() == DebugStatus.BREAK
