"""Memory: read/write round trips, large reads, partial reads at PROT_NONE pages and
unmapped holes with exact transferred counts, writes to r-x text that leave the file alone,
and the breakpoint-transparent view of memory (hazards §9.1, §12; scenario 42)."""

from __future__ import annotations

import hashlib
import os

import pytest

from pydbg._native import EventKind
from pydbg.errors import MemoryAccessError
from tests.support import maps

PAGE = os.sysconf("SC_PAGESIZE")
# memory.c fills its test pages with (i * 7 + 3) & 0xff and `big` with i % 251.
PAGE_FILL = bytes((i * 7 + 3) & 0xFF for i in range(PAGE))
BIG_SIZE = 16 << 20
MOV_EAX_42_RET = b"\xb8\x2a\x00\x00\x00\xc3"


@pytest.fixture
def memory_target(tracer, driver, targets):
    """The `memory` target stopped in mem_ready(), with its layout resolved."""
    binary = targets["memory"]
    pid = tracer.spawn([binary.path])
    ready = binary.addr(pid, "mem_ready")
    tracer.insert_breakpoint(pid, ready)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == ready)
    tracer.remove_breakpoint(pid, ready)

    def pointer(name):
        return int.from_bytes(tracer.read_memory(pid, binary.addr(pid, name), 8), "little")

    layout = {
        "guard": pointer("guard_page"),
        "hole": pointer("hole_page"),
        "big": pointer("big"),
        "scratch": binary.addr(pid, "scratch"),
        "answer": binary.addr(pid, "answer"),
    }
    return binary, pid, layout


def _finish(tracer, driver, pid):
    tracer.cont(pid)
    return driver.until_exit(pid).exit_code


def test_write_read_round_trip(tracer, driver, memory_target):
    binary, pid, layout = memory_target
    magic = binary.file_bytes(binary.sym("magic"), 16)
    assert magic == b"written-by-test\0"
    assert tracer.read_memory(pid, layout["scratch"], 64) == bytes(64)
    payload = magic + bytes(range(48))
    tracer.write_memory(pid, layout["scratch"], payload)
    assert tracer.read_memory(pid, layout["scratch"], 64) == payload
    tracer.write_memory(pid, layout["scratch"] + 20, bytearray(b"xyz"))
    tracer.write_memory(pid, layout["scratch"] + 30, memoryview(b"uvw"))
    expected = bytearray(payload)
    expected[20:23] = b"xyz"
    expected[30:33] = b"uvw"
    assert tracer.read_memory(pid, layout["scratch"], 64) == bytes(expected)
    # The program sees the magic we wrote: answer() (1) + 100.
    assert _finish(tracer, driver, pid) == 101


def test_read_16_mib(tracer, driver, memory_target):
    _, pid, layout = memory_target
    expected = (bytes(range(251)) * (BIG_SIZE // 251 + 1))[:BIG_SIZE]
    data = tracer.read_memory(pid, layout["big"], BIG_SIZE)
    assert len(data) == BIG_SIZE
    assert data == expected
    buffer = bytearray(BIG_SIZE)
    assert tracer.read_memory_into(pid, layout["big"], buffer) == BIG_SIZE
    assert buffer == expected
    # Unaligned, page-crossing slices.
    assert tracer.read_memory(pid, layout["big"] + 4095, 8193) == expected[4095 : 4095 + 8193]
    assert _finish(tracer, driver, pid) == 1


@pytest.mark.parametrize("region", ["guard", "hole"])
def test_read_crossing_into_inaccessible_page(tracer, driver, memory_target, region):
    """The readable prefix is exact: 16 bytes before the PROT_NONE page / unmapped hole."""
    _, pid, layout = memory_target
    start = layout[region] + PAGE - 16
    with pytest.raises(MemoryAccessError) as info:
        tracer.read_memory(pid, start, 64)
    exc = info.value
    assert exc.transferred == 16
    assert exc.data == PAGE_FILL[-16:]
    assert exc.pid == pid
    assert exc.address in (start, start + 16)
    assert f"{exc.address:#x}" in str(exc)
    assert tracer.read_memory(pid, start, 64, partial=True) == PAGE_FILL[-16:]
    buffer = bytearray(64)
    assert tracer.read_memory_into(pid, start, buffer) == 16
    assert buffer[:16] == PAGE_FILL[-16:]
    # Entirely inside the inaccessible page: nothing.
    with pytest.raises(MemoryAccessError) as info:
        tracer.read_memory(pid, layout[region] + PAGE, 8)
    assert info.value.transferred == 0 and info.value.data == b""
    assert tracer.read_memory(pid, layout[region] + PAGE, 8, partial=True) == b""
    # The whole readable page still reads in full.
    assert tracer.read_memory(pid, layout[region], PAGE) == PAGE_FILL
    assert _finish(tracer, driver, pid) == 1


def test_write_crossing_into_hole(tracer, driver, memory_target):
    _, pid, layout = memory_target
    start = layout["hole"] + PAGE - 16
    with pytest.raises(MemoryAccessError) as info:
        tracer.write_memory(pid, start, b"\xee" * 64)
    assert info.value.transferred == 16
    assert tracer.read_memory(pid, start, 16) == b"\xee" * 16
    assert _finish(tracer, driver, pid) == 1


@pytest.mark.parametrize("address", [0, 8, 0x1000])
def test_unmapped_address(tracer, driver, memory_target, address):
    _, pid, _ = memory_target
    with pytest.raises(MemoryAccessError) as info:
        tracer.read_memory(pid, address, 8)
    assert info.value.address == address
    assert info.value.transferred == 0
    assert f"{address:#x}" in str(info.value)
    with pytest.raises(MemoryAccessError) as info:
        tracer.write_memory(pid, address, b"x")
    assert info.value.address == address
    # Nothing was left stopped or patched: the program finishes normally.
    assert _finish(tracer, driver, pid) == 1


def test_vsyscall_page_fails_cleanly(tracer, driver, memory_target):
    _, pid, _ = memory_target
    vsyscall = [start for start, _, _, _, path in maps(pid) if path == "[vsyscall]"]
    if not vsyscall:
        pytest.skip("no [vsyscall] mapping on this kernel")
    with pytest.raises(MemoryAccessError):
        tracer.read_memory(pid, vsyscall[0], 16)
    assert _finish(tracer, driver, pid) == 1


def test_write_to_text_changes_behaviour_not_the_file(tracer, driver, memory_target):
    binary, pid, layout = memory_target
    with open(binary.path, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()
    perms = [p for start, end, p, _, _ in maps(pid) if start <= layout["answer"] < end]
    assert perms and "w" not in perms[0] and "x" in perms[0]  # really r-x text
    tracer.write_memory(pid, layout["answer"], MOV_EAX_42_RET)
    assert tracer.read_memory(pid, layout["answer"], 6) == MOV_EAX_42_RET
    assert _finish(tracer, driver, pid) == 42
    with open(binary.path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == before


def test_breakpoints_read_as_original_bytes(tracer, driver, memory_target):
    binary, pid, layout = memory_target
    answer = layout["answer"]
    on_disk = binary.file_bytes(binary.sym("answer") - 3, 16)
    tracer.insert_breakpoint(pid, answer)
    tracer.insert_breakpoint(pid, answer + 1)  # mid-instruction does not matter here
    assert tracer.read_memory(pid, answer - 3, 16) == on_disk
    buffer = bytearray(16)
    assert tracer.read_memory_into(pid, answer - 3, buffer) == 16
    assert bytes(buffer) == on_disk
    assert tracer.breakpoints(pid) == {answer: on_disk[3], answer + 1: on_disk[4]}
    tracer.remove_breakpoint(pid, answer + 1)
    tracer.remove_breakpoint(pid, answer)
    assert _finish(tracer, driver, pid) == 1


def test_write_under_breakpoint_updates_saved_byte(tracer, driver, memory_target):
    _, pid, layout = memory_target
    answer = layout["answer"]
    tracer.insert_breakpoint(pid, answer)
    tracer.write_memory(pid, answer, MOV_EAX_42_RET)
    # The int3 stays; the saved byte is the new first byte; reads show the new code.
    assert tracer.breakpoints(pid) == {answer: MOV_EAX_42_RET[0]}
    assert tracer.read_memory(pid, answer, 6) == MOV_EAX_42_RET
    tracer.cont(pid)
    hit = driver.until_kind(EventKind.BREAKPOINT)
    assert hit.address == answer
    tracer.remove_breakpoint(pid, answer)
    assert tracer.read_memory(pid, answer, 6) == MOV_EAX_42_RET
    # The instruction executed after the hit is the one we wrote.
    assert _finish(tracer, driver, pid) == 42
