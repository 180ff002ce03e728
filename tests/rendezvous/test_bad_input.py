"""Target memory that lies: cycles in l_next, broken l_prev, unreadable nodes and names,
names without a NUL, endless lists, readers that raise or answer with the wrong thing.
Each gives a bounded list that says what went wrong, or a RendezvousError naming the
address, and never a struct.error, IndexError or a hang.

The link_map walk is tested on a fake address space; the whole-process reads on a real
stopped process whose memory is seen through an overlay that corrupts one structure.
"""

from __future__ import annotations

import errno
import os
import random
import struct
from collections.abc import Callable

import pytest

from pydbg.engine.rendezvous import (
    MAX_NAME,
    ModuleDiff,
    ModuleList,
    ModuleTracker,
    RendezvousError,
    loaded_objects,
    read_r_debug,
    walk_link_map,
)
from pydbg.errors import TracerClosedError
from tests.rendezvous.conftest import DlopenTarget

PAGE = os.sysconf("SC_PAGE_SIZE")  # the page size the name reads respect
LINK_MAP = struct.Struct("<QQQQQ")


class FakeMemory:
    """A sparse address space: mapped pages hold bytes, everything else faults."""

    def __init__(self) -> None:
        self.pages: dict[int, bytearray] = {}
        self.reads = 0

    def map(self, address: int, size: int) -> None:
        for page in range(address // PAGE, (address + size + PAGE - 1) // PAGE):
            self.pages.setdefault(page, bytearray(PAGE))

    def write(self, address: int, data: bytes) -> None:
        self.map(address, len(data))
        for i, byte in enumerate(data):
            self.pages[(address + i) // PAGE][(address + i) % PAGE] = byte

    def __call__(self, address: int, size: int) -> bytes:
        self.reads += 1
        out = bytearray()
        for a in range(address, address + size):
            page = self.pages.get(a // PAGE)
            if page is None:
                raise OSError(errno.EFAULT, f"unmapped {a:#x}")
            out.append(page[a % PAGE])
        return bytes(out)

    def node(self, address: int, l_addr: int, name: int, l_next: int, l_prev: int) -> None:
        self.write(address, LINK_MAP.pack(l_addr, name, 0x1000 + l_addr, l_next, l_prev))

    def string(self, address: int, text: bytes) -> int:
        self.write(address, text)
        return address


def _list(memory: FakeMemory, count: int, base: int = 0x10000) -> list[int]:
    """`count` well-formed nodes, 64 bytes apart, named lib0.so, lib1.so, ..."""
    nodes = [base + i * 64 for i in range(count)]
    for i, node in enumerate(nodes):
        name = memory.string(0x900000 + i * 32, f"lib{i}.so\0".encode())
        after = nodes[i + 1] if i + 1 < count else 0
        memory.node(node, i << 20, name, after, nodes[i - 1] if i else 0)
    return nodes


def test_well_formed_list():
    memory = FakeMemory()
    nodes = _list(memory, 3)
    entries, problems = walk_link_map(memory, nodes[0])
    assert problems == []
    assert [(e.address, e.name, e.l_addr) for e in entries] == [
        (nodes[0], "lib0.so", 0),
        (nodes[1], "lib1.so", 1 << 20),
        (nodes[2], "lib2.so", 2 << 20),
    ]
    assert walk_link_map(memory, 0) == ([], [])


def test_cycle_back_to_the_head_is_cut():
    memory = FakeMemory()
    nodes = _list(memory, 3)
    memory.node(nodes[2], 2 << 20, 0x900040, nodes[0], nodes[1])  # l_next back to the head
    entries, problems = walk_link_map(memory, nodes[0])
    assert [e.address for e in entries] == nodes
    assert len(problems) == 1 and "cycle" in problems[0]


def test_node_pointing_at_itself():
    memory = FakeMemory()
    memory.node(0x20000, 0, 0, 0x20000, 0)
    entries, problems = walk_link_map(memory, 0x20000)
    assert len(entries) == 1 and "cycle" in problems[0]


def test_l_prev_that_does_not_point_back_stops_the_walk():
    memory = FakeMemory()
    nodes = _list(memory, 4)
    memory.node(nodes[2], 2 << 20, 0x900040, nodes[3], 0xBAD000)
    entries, problems = walk_link_map(memory, nodes[0])
    assert [e.address for e in entries] == nodes[:2]
    assert "l_prev" in problems[0] and f"{0xBAD000:#x}" in problems[0]


def test_unreadable_node_ends_the_list_with_a_problem():
    memory = FakeMemory()
    nodes = _list(memory, 2)
    memory.node(nodes[1], 1 << 20, 0x900020, 0xDEAD0000, nodes[0])
    entries, problems = walk_link_map(memory, nodes[0])
    assert len(entries) == 2
    assert "unreadable link_map node" in problems[0] and "0xdead0000" in problems[0]


def test_unreadable_or_null_name_gives_none_and_the_walk_goes_on():
    memory = FakeMemory()
    nodes = _list(memory, 3)
    memory.node(nodes[0], 0, 0, nodes[1], 0)  # l_name NULL
    memory.node(nodes[1], 1 << 20, 0xDEAD0000, nodes[2], nodes[0])  # l_name unmapped
    entries, problems = walk_link_map(memory, nodes[0])
    assert problems == []
    assert [e.name for e in entries] == [None, None, "lib2.so"]


def test_names_are_cut_at_unreadable_memory_and_at_the_limit():
    memory = FakeMemory()
    # Ends exactly at the end of the last mapped page, no NUL: what is readable is the name.
    tail = memory.string(0x30000 + PAGE - 5, b"abcde")
    # NUL as the very last mapped byte: a read crossing into the next page would fail.
    edge = memory.string(0x40000 + PAGE - 4, b"xyz\0")
    # No NUL for far more than PATH_MAX.
    memory.write(0x50000, b"A" * (3 * MAX_NAME))
    memory.node(0x10000, 0, tail, 0x10040, 0)
    memory.node(0x10040, 0, edge, 0x10080, 0x10000)
    memory.node(0x10080, 0, 0x50000, 0, 0x10040)
    entries, problems = walk_link_map(memory, 0x10000)
    assert problems == []
    assert [e.name for e in entries[:2]] == ["abcde", "xyz"]
    assert entries[2].name == "A" * MAX_NAME


def test_endless_list_is_bounded():
    memory = FakeMemory()
    nodes = _list(memory, 50)
    entries, problems = walk_link_map(memory, nodes[0], limit=10)
    assert len(entries) == 10 and "longer than 10" in problems[0]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda a, n: b"", id="empty"),
        pytest.param(lambda a, n: bytes(n - 1), id="short"),
        pytest.param(lambda a, n: bytes(n + 8), id="long"),
        pytest.param(lambda a, n: None, id="none"),
        pytest.param(lambda a, n: "text", id="str"),
        pytest.param(lambda a, n: 1 // 0, id="raises"),
    ],
)
def test_reader_that_misbehaves(answer: Callable[[int, int], object]):
    with pytest.raises(RendezvousError) as info:
        read_r_debug(answer, 0x7000, pid=1234)  # type: ignore[arg-type]
    assert info.value.address == 0x7000 and info.value.pid == 1234
    assert "0x7000" in str(info.value) and "pid 1234" in str(info.value)
    entries, problems = walk_link_map(answer, 0x7000)  # type: ignore[arg-type]
    assert entries == [] and "unreadable link_map node at 0x7000" in problems[0]


# -- a real process seen through a lying reader ----------------------------------------------


class Overlay:
    """The process's real memory, with some bytes replaced and some ranges unreadable."""

    def __init__(self, read: Callable[[int, int], bytes]) -> None:
        self.read = read
        self.patches: dict[int, bytes] = {}
        self.holes: list[tuple[int, int]] = []

    def patch(self, address: int, data: bytes) -> None:
        self.patches[address] = data

    def hole(self, address: int, size: int = 1) -> None:
        self.holes.append((address, address + size))

    def __call__(self, address: int, size: int) -> bytes:
        end = address + size
        if any(start < end and address < stop for start, stop in self.holes):
            raise OSError(errno.EFAULT, f"hole at {address:#x}")
        data = bytearray(self.read(address, size))
        for at, patch in self.patches.items():
            for i, byte in enumerate(patch):
                if address <= at + i < end:
                    data[at + i - address] = byte
        return bytes(data)


def _nodes(target: DlopenTarget) -> tuple[ModuleList, list]:
    truth = loaded_objects(target.pid, target.read)
    entries, problems = walk_link_map(target.read, truth.r_debug.map)
    assert not problems and len(entries) == len(truth.objects) == 4
    return truth, entries


def test_real_list_with_a_cycle(dlopen_target: DlopenTarget):
    truth, entries = _nodes(dlopen_target)
    memory = Overlay(dlopen_target.read)
    memory.patch(entries[-1].address + 24, struct.pack("<Q", entries[0].address))  # l_next
    found = loaded_objects(dlopen_target.pid, memory)
    assert found.objects == truth.objects
    assert not found.complete and "cycle" in found.problems[0]


def test_real_list_with_an_unreadable_name(dlopen_target: DlopenTarget):
    truth, entries = _nodes(dlopen_target)
    libc = next(i for i, o in enumerate(truth.objects) if o.module_name == "libc_so")
    memory = Overlay(dlopen_target.read)
    memory.patch(entries[libc].address + 8, struct.pack("<Q", 0xDEAD0000))  # l_name
    memory.hole(0xDEAD0000, 16)
    found = loaded_objects(dlopen_target.pid, memory)
    assert found.complete
    # Still found through l_ld and the mappings, under its real path; only the name is lost.
    lost = found.objects[libc]
    assert lost.name == "" and lost.path == truth.objects[libc].path
    assert (lost.module_name, lost.base, lost.size, lost.build_id) == (
        "libc_so",
        truth.objects[libc].base,
        truth.objects[libc].size,
        truth.objects[libc].build_id,
    )


def test_real_rendezvous_with_unreadable_r_map(dlopen_target: DlopenTarget):
    truth, _ = _nodes(dlopen_target)
    memory = Overlay(dlopen_target.read)
    memory.patch(truth.r_debug.address + 8, struct.pack("<Q", 0xDEAD0000))  # r_map
    memory.hole(0xDEAD0000, 64)
    found = loaded_objects(dlopen_target.pid, memory)
    assert found.objects == () and "unreadable link_map node at 0xdead0000" in found.problems[0]


def test_real_rendezvous_with_a_looping_namespace_chain(dlopen_target: DlopenTarget):
    truth, _ = _nodes(dlopen_target)
    address = truth.r_debug.address
    memory = Overlay(dlopen_target.read)
    memory.patch(address, struct.pack("<i", 2))  # r_version 2: r_next is valid
    memory.patch(address + 40, struct.pack("<Q", address))  # r_next: itself
    found = loaded_objects(dlopen_target.pid, memory)
    assert found.objects == truth.objects and len(found.namespaces) == 1
    assert "r_next" in found.problems[0]


def test_real_rendezvous_that_cannot_be_read(dlopen_target: DlopenTarget):
    truth, _ = _nodes(dlopen_target)
    memory = Overlay(dlopen_target.read)
    memory.hole(truth.r_debug.address, 8)
    with pytest.raises(RendezvousError) as info:
        loaded_objects(dlopen_target.pid, memory)
    assert info.value.pid == dlopen_target.pid and info.value.address == truth.r_debug.address


def test_reader_that_always_fails(dlopen_target: DlopenTarget):
    def fail(address: int, size: int) -> bytes:
        raise OSError(errno.EIO, "no")

    with pytest.raises(RendezvousError) as info:
        loaded_objects(dlopen_target.pid, fail)
    assert info.value.pid == dlopen_target.pid and "no" in str(info.value)


@pytest.mark.parametrize("seed", range(3))
def test_random_link_maps_and_random_memory(dlopen_target: DlopenTarget, seed: int):
    """Random bytes where the nodes are, then everywhere: bounded results or the error."""
    truth, entries = _nodes(dlopen_target)
    rng = random.Random(seed)
    for _ in range(20):
        memory = Overlay(dlopen_target.read)
        for entry in entries:
            memory.patch(entry.address, rng.randbytes(LINK_MAP.size))
        try:
            found = loaded_objects(dlopen_target.pid, memory)
        except RendezvousError:
            continue
        assert len(found.objects) <= len(entries)  # l_prev garbage stops at once
    for _ in range(20):
        state = rng.getrandbits(32)

        def noise(address: int, size: int, state: int = state) -> bytes:
            return random.Random(state ^ address ^ size).randbytes(size)

        try:
            found = loaded_objects(dlopen_target.pid, noise)
        except RendezvousError:
            continue
        assert len(found.objects) <= 4096


def test_tracer_misuse_is_not_taken_for_bad_memory():
    def closed(address: int, size: int) -> bytes:
        raise TracerClosedError("the tracer has been closed")

    with pytest.raises(TracerClosedError):
        read_r_debug(closed, 0x7000)
    with pytest.raises(TracerClosedError):
        walk_link_map(closed, 0x7000)


def test_object_limit_and_an_incomplete_list_is_not_reported(dlopen_target: DlopenTarget):
    truth, _ = _nodes(dlopen_target)
    cut = loaded_objects(dlopen_target.pid, dlopen_target.read, limit=2)
    assert cut.objects == truth.objects[:2] and "longer than 2" in cut.problems[0]
    # Reporting the two missing objects as unloaded would be a lie: no change is reported.
    tracker = ModuleTracker(truth)
    assert tracker.update(cut) is None and tracker.objects == truth.objects
    assert tracker.update(truth) == ModuleDiff()
