"""gdb reads the cores pydbg writes as the live process was: the backtrace pydbg's `k` shows,
every thread, the registers, the variables, and the signal of a crash."""

from __future__ import annotations

import re

from pydbg.constants import DEBUG_STATUS_GO
from pydbg.coredump import write_core
from tests.api.helpers import wait
from tests.coredump.conftest import gdb, gdb_frames, launch, up_to_main


def _gdb_threads(text: str) -> set[int]:
    """The LWPs of gdb's `info threads`."""
    return {
        int(lwp) for lwp in re.findall(r"^\*?\s+\d+\s+Thread 0x[0-9a-f]+ \(LWP (\d+)\)", text, re.M)
    }


def test_gdb_backtrace_threads_registers_and_variables_match_the_live_process(
    at_breakpoint, core_path
):
    stopped = at_breakpoint
    client = stopped.client
    live_k = stopped.k_functions()
    assert live_k[:5] == ["dump_here", "inner", "middle", "outer", "main"]
    registers = {name: client.registers.get_value(name) for name in ("rip", "rsp", "rax", "rbx")}
    xmm0 = client.registers.get_value("xmm0")
    spaces = client.data_spaces
    marker = int.from_bytes(
        spaces.read_virtual(stopped.binary.addr(stopped.pid, "marker"), 8), "little"
    )
    heap = spaces.read_pointers_virtual(1, stopped.binary.addr(stopped.pid, "heap_block"))[0]
    heap_bytes = spaces.read_virtual(heap, 8)
    _, tids = client.system_objects.get_thread_ids_by_index()

    write_core(client, core_path)

    text = gdb(
        "bt",
        "info threads",
        "info registers rip rsp rax rbx",
        "print/x marker",
        "print/x *heap_block@8",
        "print/x $xmm0.uint128",
        program=stopped.binary.path,
        core=core_path,
    )
    assert "Program terminated with signal SIGTRAP" in text  # the int3 of the breakpoint
    assert gdb_frames(text) == up_to_main(live_k)
    assert _gdb_threads(text) == set(tids) and len(tids) == 3
    for name, value in registers.items():
        assert re.search(rf"^{name}\s+{value:#x}\s", text, re.M), (name, text)
    assert f"= {marker:#x}" in text and marker == 0x1122334455667788
    assert "= {" + ", ".join(f"{b:#x}" for b in heap_bytes) + "}" in text
    assert f"= {xmm0:#x}" in text


def test_every_thread_unwinds_in_gdb_as_in_pydbg(at_breakpoint, core_path):
    """`thread apply all bt` against `~*k`: the frames of the program's own functions, per
    thread (libc's may carry other names of the same code: __GI___libc_read / read)."""
    stopped = at_breakpoint
    own = {"dump_here", "inner", "middle", "outer", "main", "worker_wait", "worker"}
    live: dict[int, list[str]] = {}
    engine_ids, tids = stopped.client.system_objects.get_thread_ids_by_index()
    for engine_id, tid in zip(engine_ids, tids, strict=True):
        stopped.run(f"~{engine_id}s")
        live[tid] = [name for name in stopped.k_functions() if name in own]
    stopped.run(f"~{engine_ids[0]}s")
    write_core(stopped.client, core_path)
    text = gdb("thread apply all bt", program=stopped.binary.path, core=core_path)
    from_gdb: dict[int, list[str]] = {}
    for block in re.split(r"^Thread \d+ ", text, flags=re.M)[1:]:
        lwp = int(re.search(r"\(LWP (\d+)\)", block).group(1))
        from_gdb[lwp] = [name for name in gdb_frames(block) if name in own]
    assert from_gdb == live
    assert sorted(map(len, live.values())) == [2, 2, 5]


def test_a_crash_core_tells_gdb_the_signal_and_the_frames(at_crash, core_path):
    stopped = at_crash
    live_k = stopped.k_functions()
    assert live_k[:4] == ["inner", "middle", "outer", "main"]
    rip = stopped.client.registers.get_value("rip")
    write_core(stopped.client, core_path)
    text = gdb("bt", "print $_siginfo.si_signo", "print $_siginfo._sifields._sigfault.si_addr",
               "info registers rip", program=stopped.binary.path, core=core_path)  # fmt: skip
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in text
    assert gdb_frames(text) == up_to_main(live_k)
    assert "= 11" in text  # NT_SIGINFO
    assert re.search(r"= \(void \*\) 0x0\b", text)  # the null pointer written through
    assert re.search(rf"^rip\s+{rip:#x}\s", text, re.M)


def test_all_memory_puts_the_code_of_every_module_in_the_core(at_breakpoint, core_path):
    """/ma: gdb disassembles libc from the core alone, with no file to read it from."""
    stopped = at_breakpoint
    address = stopped.client.symbols.get_offset_by_name("libc_so!write")
    live = stopped.client.data_spaces.read_virtual(address, 16)
    write_core(stopped.client, core_path, all_memory=True)
    text = gdb(
        "set sysroot /nonexistent",  # no libraries from the disk
        f"print/x *(unsigned char (*)[16]){address:#x}",
        program=stopped.binary.path,
        core=core_path,
    )
    assert "= {" + ", ".join(f"{b:#x}" for b in live) + "}" in text


def test_a_crash_in_another_thread_makes_it_gdbs_current_thread(client, output, targets, core_path):
    stopped = launch(client, output, targets["coredump"], "thread-crash")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    tid = client.system_objects.get_current_thread_system_id()
    assert tid != stopped.pid
    live_k = stopped.k_functions()
    assert live_k[:4] == ["inner", "middle", "outer", "crasher"]
    write_core(client, core_path)
    text = gdb("bt", program=stopped.binary.path, core=core_path)
    assert "Program terminated with signal SIGSEGV" in text
    assert re.search(rf"Current thread is 1 \(Thread 0x[0-9a-f]+ \(LWP {tid}\)\)", text)
    assert gdb_frames(text)[:4] == live_k[:4]


def test_a_non_pie_program(client, output, targets, core_path):
    stopped = launch(client, output, targets.get("coredump", "nopie"), "stop")
    client.control.execute(f"bp {stopped.module}!dump_here")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    live_k = stopped.k_functions()
    write_core(client, core_path)
    text = gdb("bt", "print/x marker", program=stopped.binary.path, core=core_path)
    assert gdb_frames(text) == up_to_main(live_k) and live_k[0] == "dump_here"
    assert "= 0x1122334455667788" in text
