"""What the core holds, read with readelf and pyelftools and compared with /proc, the live
registers and memory, and the executable file: the notes the kernel writes (in its order),
their contents, and the memory segments."""

from __future__ import annotations

import os
import struct
import subprocess

from pydbg.constants import DEBUG_STATUS_GO
from pydbg.coredump import write_core
from tests.api.helpers import wait
from tests.coredump.conftest import core_bytes, gdb, loads, need, notes
from tests.support import auxv, maps

# elf_prstatus: pr_info (3 ints), pr_cursig, pad, sigpend, sighold, pid, ppid, pgrp, sid,
# 4 timevals, then the 27 registers of user_regs_struct.
_PRSTATUS = struct.Struct("<iiih2xQQiiii8q27Qi4x")
_RIP, _RSP, _RAX = 16, 19, 10


def test_readelf_lists_the_notes_in_the_kernels_order(at_breakpoint, core_path):
    write_core(at_breakpoint.client, core_path)
    out = subprocess.run(
        [need("readelf"), "-n", "-W", core_path], capture_output=True, text=True, check=True
    ).stdout
    kinds = [
        word
        for line in out.splitlines()
        for word in line.split()
        if word.startswith("NT_") and not word.endswith(":")
    ]
    per_thread = ["NT_PRSTATUS", "NT_FPREGSET", "NT_X86_XSTATE"]
    process = ["NT_PRPSINFO", "NT_SIGINFO", "NT_AUXV", "NT_FILE"]
    assert kinds == ["NT_PRSTATUS", *process, *per_thread[1:], *per_thread, *per_thread]


def test_thread_notes_hold_each_threads_registers_event_thread_first(at_breakpoint, core_path):
    stopped = at_breakpoint
    client = stopped.client
    objects = client.system_objects
    event_tid = objects.get_current_thread_system_id()
    engine_ids, tids = objects.get_thread_ids_by_index()
    live = {}
    for engine_id, tid in zip(engine_ids, tids, strict=True):
        objects.set_current_thread_id(engine_id)
        regs = client.registers
        live[tid] = (
            regs.get_value("rip"), regs.get_value("rsp"), regs.get_value("rax"),
            regs.get_xsave_area(),
        )  # fmt: skip
    worker = next(e for e, t in zip(engine_ids, tids, strict=True) if t != event_tid)
    objects.set_current_thread_id(worker)  # current: a worker; the event's thread: main
    write_core(client, core_path)
    assert objects.get_current_thread_id() == worker
    found = notes(core_path)
    statuses = [desc for _, kind, desc in found if kind == "NT_PRSTATUS"]
    fpregs = [desc for _, kind, desc in found if kind == "NT_FPREGSET"]
    xstates = [
        desc for owner, kind, desc in found if owner == "LINUX" and kind in (0x202, "NT_X86_XSTATE")
    ]
    assert len(statuses) == len(fpregs) == len(xstates) == len(tids) == 3
    order = []
    for status, fp, xstate in zip(statuses, fpregs, xstates, strict=True):
        fields = _PRSTATUS.unpack(status)
        tid, registers = fields[6], fields[18:45]
        order.append(tid)
        assert fields[0] == fields[3] == 5  # si_signo and pr_cursig: the breakpoint's SIGTRAP
        assert fields[7] == os.getpid()  # pr_ppid: the debugger launched it
        rip, rsp, rax, xsave = live[tid]
        assert (registers[_RIP], registers[_RSP], registers[_RAX]) == (rip, rsp, rax)
        assert xstate == xsave and fp == xsave[:512]
        assert fields[-1] == 1  # pr_fpvalid
    assert order[0] == event_tid and sorted(order) == sorted(tids)


def test_process_notes_match_proc(at_breakpoint, core_path):
    stopped = at_breakpoint
    write_core(stopped.client, core_path)
    found = {kind: desc for _, kind, desc in notes(core_path)}
    with open(f"/proc/{stopped.pid}/auxv", "rb") as f:
        assert found["NT_AUXV"] == f.read()
    assert struct.unpack_from("<QQ", found["NT_AUXV"], 0) != (0, 0) and auxv(stopped.pid)

    psinfo = found["NT_PRPSINFO"]
    fname, psargs = struct.unpack_from("<16s80s", psinfo, 40)
    pid, ppid = struct.unpack_from("<ii", psinfo, 24)
    assert (pid, ppid) == (stopped.pid, os.getpid())
    assert fname.rstrip(b"\0") == os.path.basename(stopped.binary.path).encode()[:15]
    assert psargs.rstrip(b"\0") == f"{stopped.binary.path} stop".encode()[:79]

    signo, errno_, code = struct.unpack_from("<iii", found["NT_SIGINFO"])
    assert (signo, errno_, code) == (5, 0, 0x80)  # SIGTRAP, SI_KERNEL: an int3

    count, page = struct.unpack_from("<QQ", found["NT_FILE"])
    entries = [struct.unpack_from("<QQQ", found["NT_FILE"], 16 + 24 * i) for i in range(count)]
    names = found["NT_FILE"][16 + 24 * count :].split(b"\0")[:count]
    expected = [
        (s, e, off // page, p) for s, e, _, off, p in maps(stopped.pid) if p.startswith("/")
    ]
    assert [(s, e, o, n.decode()) for (s, e, o), n in zip(entries, names, strict=True)] == expected


def test_a_crash_core_records_the_signal_and_fault_address(at_crash, core_path):
    write_core(at_crash.client, core_path)
    found = notes(core_path)
    siginfo = next(desc for _, kind, desc in found if kind == "NT_SIGINFO")
    signo, _, code, address = struct.unpack_from("<iii4xQ", siginfo)
    assert (signo, code, address) == (11, 1, 0)  # SIGSEGV, SEGV_MAPERR, at the null pointer
    statuses = [desc for _, kind, desc in found if kind == "NT_PRSTATUS"]
    assert all(_PRSTATUS.unpack(s)[3] == 11 for s in statuses)  # pr_cursig, as the kernel


def test_memory_segments_hold_the_live_bytes_and_no_breakpoint(at_breakpoint, core_path):
    stopped = at_breakpoint
    spaces = stopped.client.data_spaces
    heap = spaces.read_pointers_virtual(1, stopped.binary.addr(stopped.pid, "heap_block"))[0]
    message = stopped.binary.addr(stopped.pid, "message")
    code = stopped.binary.addr(stopped.pid, "dump_here")
    live = {address: spaces.read_virtual(address, 64) for address in (heap, message)}
    write_core(stopped.client, core_path)
    for address, data in live.items():
        assert core_bytes(core_path, address, 64) == data
    # The breakpoint's int3 made the code page copy-on-write: it is in the core, with the
    # program's own byte where the int3 is.
    on_disk = stopped.binary.file_bytes(stopped.binary.sym("dump_here"), 16)
    assert core_bytes(core_path, code, 16) == on_disk and on_disk[0] != 0xCC


def test_segments_cover_every_mapping_and_only_readable_ones_have_contents(
    at_breakpoint, core_path
):
    stopped = at_breakpoint
    write_core(stopped.client, core_path)
    rows = maps(stopped.pid)
    headers = loads(core_path)
    assert [(h.p_vaddr, h.p_vaddr + h.p_memsz) for h in headers] == [(s, e) for s, e, *_ in rows]
    offsets = [h.p_offset for h in headers if h.p_filesz]
    assert all(offset % 4096 == 0 for offset in offsets) and offsets == sorted(offsets)
    by_path = {}
    for header, (_, _, perms, offset, path) in zip(headers, rows, strict=True):
        by_path.setdefault(path, []).append((header, perms, offset))
        if perms.startswith("---") or path in ("[vvar]", "[vvar_vclock]", "[vsyscall]"):
            assert header.p_filesz == 0, path
        flags = "".join(c for c, bit in zip("rwx", (4, 2, 1), strict=True) if header.p_flags & bit)
        assert flags == perms[:3].replace("-", "")
    for header, _, _ in by_path["[heap]"] + by_path["[stack]"]:
        assert header.p_filesz == header.p_memsz
    libc = next(path for path in by_path if "/libc.so" in path)
    first, *rest = by_path[libc]
    assert first[0].p_filesz == 4096  # the ELF header page, where the build id is
    text = next(header for header, perms, _ in rest if perms.startswith("r-x"))
    assert text.p_filesz == 0  # code stays in the file


def test_all_memory_dumps_every_readable_mapping_whole(at_breakpoint, core_path):
    stopped = at_breakpoint
    write_core(stopped.client, core_path, all_memory=True)
    for header, (_, _, perms, _, path) in zip(loads(core_path), maps(stopped.pid), strict=True):
        readable = perms[0] == "r" and path not in ("[vvar]", "[vvar_vclock]")
        assert header.p_filesz == (header.p_memsz if readable else 0), path


def test_regions_carry_the_file_offset_of_each_mapping(at_breakpoint):
    stopped = at_breakpoint
    regions = stopped.client.data_spaces.regions()
    assert [(r.base, r.end, r.perms, r.offset, r.path) for r in regions] == maps(stopped.pid)
    by_path = {r.path: r for r in regions}
    assert "dd" in by_path["[vvar]"].vm_flags
    assert by_path["[heap]"].anonymous > 0


def test_the_xsave_area_holds_the_sse_and_avx_registers(client, targets, core_path):
    """registers.get_xsave_area at the fpu target's labels: xmm0 in the FXSAVE region,
    ymm1's upper half in the AVX component; gdb reads both back from the core."""
    binary = targets["fpu"]
    client.create_process([binary.path])
    assert wait(client)
    module = os.path.basename(binary.path).replace("-", "_")
    client.control.execute(f"bp {module}!sse_loaded")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    area = client.registers.get_xsave_area()
    xmm_in = binary.file_bytes(binary.sym("xmm_in"), 16)
    assert area[160:176] == xmm_in  # xmm0: FXSAVE offset 160
    assert int.from_bytes(area[464:472], "little") & 0b11 == 0b11  # XCR0: x87, SSE
    assert len(area) > 512
    write_core(client, core_path)
    text = gdb("print/x $xmm0.uint128", program=binary.path, core=core_path)
    assert f"= {int.from_bytes(xmm_in, 'little'):#x}" in text
