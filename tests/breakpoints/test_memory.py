"""What a software breakpoint does to memory (spec §6.8, hazards §9.1, §14.1, scenario 42):
the int3 is in the process while reads through the debugger show the original bytes; a
write over a breakpoint goes to the saved byte; and when the session lets the process go
(detach, end_session) its code is again exactly the file on disk, debug registers clear.

The kernel's view is read from /proc/PID/mem (the test process may: it traces the target,
or is its parent); the file's view from the built binary at the symbol's file offset.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from pydbg.breakpoints import RemovedBreakpointError
from tests.api.recording import END_ACTIVE_DETACH_FLAG, END_PASSIVE_FLAG, GO
from tests.breakpoints.helpers import (
    BREAK_WRITE,
    CODE,
    DATA,
    ENABLED,
    ONE_SHOT,
    WAIT_LIMIT,
    Debuggee,
    go_recording,
    raw_memory,
)
from tests.support import maps

# xor %eax,%eax; add $7,%al; nop: five bytes that make patch_me return 7 instead of 1.
RETURN_7 = bytes.fromhex("31c0040790")


def _file_digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _code_differences(pid: int, path: str) -> list[int]:
    """Addresses where the executable code mapped from `path` differs from the file."""
    with open(path, "rb") as f:
        image = f.read()
    differences = []
    for start, end, perms, offset, mapped in maps(pid):
        if mapped != path or "x" not in perms:
            continue
        size = min(end - start, len(image) - offset)
        live = raw_memory(pid, start, size)
        disk = image[offset : offset + size]
        differences += [start + i for i in range(size) if live[i] != disk[i]]
    return differences


def test_int3_is_in_memory_but_reads_show_the_original(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    disk = target.binary.file_bytes(target.binary.sym("bp_hot"), 16)
    assert target.raw(address, 16) == disk

    bp = target.breakpoint(address)
    assert target.raw(address, 1) == b"\xcc"
    assert target.raw(address + 1, 15) == disk[1:]
    assert target.read(address, 16) == disk
    assert target.read(address - 3, 8)[3:] == disk[:5]  # a read that starts before it

    # A second breakpoint at the same address shares the byte.
    twin = target.breakpoint(address)
    client.control.remove_breakpoint(bp)
    assert target.raw(address, 1) == b"\xcc"
    assert target.read(address, 16) == disk
    client.control.remove_breakpoint(twin)
    assert target.raw(address, 16) == disk
    assert target.run_to_end() == 0
    assert target.result() == "total 10"


def test_reads_show_the_original_while_stopped_at_the_breakpoint(client, recorder, launch):
    target = launch("bp_threads", "hot", 0, 10)
    address = target.addr("bp_hot")
    disk = target.binary.file_bytes(target.binary.sym("bp_hot"), 16)
    target.breakpoint(address)
    assert target.go() is True
    assert target.pc() == address
    assert target.read(address, 16) == disk
    assert target.raw(address, 1) == b"\xcc"
    assert client.control.evaluate(f"by({address:#x})") == disk[0]  # MASM reads agree
    assert target.go() is True
    assert target.reg("rdi") == 1


def test_write_over_a_breakpoint_updates_the_saved_byte(client, recorder, launch):
    target = launch("bp_threads", "patch")
    address = target.addr("patch_me")
    bp = target.breakpoint(address)
    target.client.data_spaces.write_virtual(address, RETURN_7)
    assert target.read(address, 5) == RETURN_7
    assert target.raw(address, 5) == b"\xcc" + RETURN_7[1:]

    # Hit it, and step off it with the new byte: the program runs the new code.
    assert target.go() is True
    assert target.pc() == address
    assert target.read(address, 5) == RETURN_7
    assert target.run_to_end() == 0
    assert target.result() == "patch 7"
    assert bp.hit_count == 1


def test_write_over_a_breakpoint_then_remove_it_leaves_the_new_bytes(client, recorder, launch):
    target = launch("bp_threads", "patch")
    address = target.addr("patch_me")
    bp = target.breakpoint(address)
    target.client.data_spaces.write_virtual(address, RETURN_7)
    client.control.remove_breakpoint(bp)
    assert target.raw(address, 5) == RETURN_7
    assert target.run_to_end() == 0
    assert target.result() == "patch 7"


def _attach(client, procs, targets, out_file, threads: int = 3, calls: int = 100):
    binary = targets["bp_threads"]
    proc = procs.start([binary.path, out_file, "attach", str(threads), str(calls)], ready=b"ready")
    client.attach_process(proc.pid)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT) is True
    return proc, Debuggee(client, binary, proc.pid, out_file)


def _has_debug_registers() -> bool:
    from pydbg._native import Tracer

    return hasattr(Tracer, "set_process_hw_breakpoint")


def _plant_everything(client, target: Debuggee) -> list[Any]:
    """Code breakpoints on several functions (two on one address), a one-shot, a disabled
    one, and a data breakpoint when the native core has process-wide debug registers."""
    bps = [
        target.breakpoint(target.addr("bp_hot")),
        target.breakpoint(target.addr("bp_hot")),
        target.breakpoint(target.code("bp_hot")[-1].address),
        target.breakpoint(target.addr("bp_ready"), ONE_SHOT),
    ]
    disabled = client.control.add_breakpoint(CODE)
    disabled.set_offset(target.addr("patch_me"))
    bps.append(disabled)
    if _has_debug_registers():
        data = client.control.add_breakpoint(DATA)
        data.set_data_parameters(8, BREAK_WRITE)
        data.set_offset(target.addr("hot_total"))
        data.add_flags(ENABLED)
        bps.append(data)
    return bps


@pytest.mark.parametrize("how", ["detach_processes", "end_active_detach", "end_passive"])
def test_letting_an_attached_process_go_restores_its_code(
    client, recorder, procs, targets, out_file, tracer, how
):
    proc, target = _attach(client, procs, targets, out_file)
    assert proc.stdin is not None and proc.stdout is not None
    path = target.binary.path
    tids = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task")]
    assert len(tids) == 4
    bps = _plant_everything(client, target)
    assert _code_differences(proc.pid, path) != []

    # Release the workers and stop a few times at breakpoints, so that some threads sit
    # on int3 sites (or just past a watched write) when the session lets go.
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    hit: set[Any] = set()
    for _ in range(6):
        assert target.go() is True
        ((bp,),) = recorder.args_of("breakpoint")[-1:]
        hit.add(bp)
    # Each thread's next event after its entry hit is its watched write: with three
    # threads, six events include one (when there is a data breakpoint).
    assert hit >= {bps[0]} and (len(bps) == 5 or bps[5] in hit)

    if how == "detach_processes":
        client.detach_processes()
    elif how == "end_active_detach":
        client.end_session(END_ACTIVE_DETACH_FLAG)
    else:
        client.end_session(END_PASSIVE_FLAG)  # what was attached is detached
    assert client.control.get_number_breakpoints() == 0
    with pytest.raises(RemovedBreakpointError):
        bps[0].set_pass_count(2)

    # The program finishes its work untraced: no SIGTRAP from a forgotten int3.  Its
    # threads then wait for stdin to close, so every one of them can be looked at.
    assert proc.stdout.readline() == b"total 300\n"
    assert sorted(int(t) for t in os.listdir(f"/proc/{proc.pid}/task")) == sorted(tids)
    assert _code_differences(proc.pid, path) == []
    # No debug register is left enabled in any thread (a fresh tracer looks).
    tracer.seize(proc.pid)
    try:
        for tid in tids:
            assert tracer.get_debugreg(tid, 7) & 0xFF == 0
    finally:
        tracer.detach(proc.pid)
    proc.stdin.close()
    assert proc.wait(timeout=WAIT_LIMIT) == 0


def test_after_the_process_ends_nothing_is_left(client, recorder, launch):
    target = launch("bp_threads", "hot", 2, 10)
    path = target.binary.path
    digest = _file_digest(path)
    bp = target.breakpoint(target.addr("bp_hot"))
    recorder.votes["breakpoint"] = GO
    assert target.run_to_end() == 0
    assert client.control.get_number_breakpoints() == 0
    with pytest.raises(RemovedBreakpointError):
        bp.set_offset(target.addr("bp_ready"))
    assert bp.hit_count == 20
    assert _file_digest(path) == digest  # the binary on disk was never touched


def test_terminate_leaves_the_file_untouched(client, recorder, launch):
    target = launch("bp_threads", "hot", 2, 10)
    path = target.binary.path
    digest = _file_digest(path)
    bp = target.breakpoint(target.addr("bp_hot"))
    assert target.go() is True
    client.terminate_processes()
    assert client.control.get_number_breakpoints() == 0
    with pytest.raises(RemovedBreakpointError):
        bp.add_flags(ENABLED)
    assert _file_digest(path) == digest
    assert not _alive(target.pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_unfollowed_fork_child_runs_free_of_the_parents_int3(client, recorder, launch):
    target = launch("bp_threads", "fork", 50)
    bp = target.breakpoint(target.addr("bp_hot"))
    pids: list[int] = []
    recorder.votes["breakpoint"] = go_recording(
        pids, client.system_objects.get_current_process_system_id
    )
    assert target.run_to_end() == 0
    assert target.result() == "parent 0 child 0"
    assert pids == [target.pid] * 50
    assert bp.hit_count == 50
