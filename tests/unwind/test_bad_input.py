"""Bad input on a live process: registers that point nowhere, memory that cannot be read, and
modules whose file is gone or is not ELF.  The walk may end early, with the reason on its
last frame, but never raises.
"""

from __future__ import annotations

import os
import shutil

import pytest

from pydbg.unwind import FrameMethod, ModuleInfo, UnwindStop, unwind
from tests.unwind.helpers import Modules, stop_in


@pytest.fixture
def stop(tracer, driver, unwind_builds):
    return stop_in(tracer, driver, [unwind_builds["O0"], "nest", "2"], "libc.so.6", "write")


def test_rip_zero_after_a_call_through_a_null_pointer(tracer, stop):
    """At write's first instruction the return address is at rsp, as after `call *0`."""
    good = stop.unwind(tracer)
    stop.regs["rip"] = 0
    frames = stop.unwind(tracer)
    assert frames[0].pc == 0
    assert frames[1].method is FrameMethod.STACK_TOP
    assert [f.pc for f in frames[1:]] == [f.pc for f in good[1:]]
    assert frames[-1].stop is UnwindStop.OUTERMOST


def test_rip_zero_and_rsp_unmapped(tracer, stop):
    """Nothing at rsp: the rbp chain is the last resort (rbp is still leaf's frame, so the
    frames from leaf's caller on are found); with rbp garbage too, frame 0 is all."""
    good = stop.unwind(tracer)
    stop.regs.update(rip=0, rsp=0x1000)
    frames = stop.unwind(tracer)
    assert frames[1].method is FrameMethod.FRAME_POINTER
    assert [f.pc for f in frames[1:]] == [f.pc for f in good[2:]]
    stop.regs["rbp"] = 0x2000
    frames = stop.unwind(tracer)
    assert len(frames) == 1 and frames[0].best_effort
    assert frames[0].stop is UnwindStop.NO_CODE


def test_rsp_unmapped(tracer, stop):
    stop.regs["rsp"] = 0x1000
    frames = stop.unwind(tracer)
    assert len(frames) == 1 and frames[0].best_effort
    assert frames[0].stop is UnwindStop.READ_FAILED
    assert "cannot read 8 bytes at 0x1000" in (frames[0].error or "")


@pytest.mark.parametrize("how", ["raises", "short"])
def test_memory_that_cannot_be_read(stop, how):
    def read_memory(address: int, size: int) -> bytes:
        if how == "raises":
            raise PermissionError(f"no access at {address:#x}")
        return b"\x00" * (size - 1)

    frames = unwind(stop.regs, read_memory, stop.modules.module_at)
    assert len(frames) == 1 and frames[0].stop is UnwindStop.READ_FAILED


def test_module_file_is_not_elf(tracer, stop, tmp_path):
    text = tmp_path / "not-elf"
    text.write_text("hello\n")
    program = os.path.realpath(stop.argv[0])

    def module_at(address: int) -> ModuleInfo | None:
        module = stop.modules.module_at(address)
        if module is not None and module.path == program:
            return ModuleInfo(path=str(text), bias=module.bias)
        return module

    good = stop.unwind(tracer)
    frames = unwind(stop.regs, stop.read_memory(tracer), module_at)
    # -O0 code keeps frame pointers: without its CFI the program's frames come from rbp.
    assert [f.pc for f in frames] == [f.pc for f in good]
    assert FrameMethod.FRAME_POINTER in {f.method for f in frames}


def test_module_file_is_not_elf_and_no_frame_pointer(tracer, driver, unwind_builds, tmp_path):
    stop = stop_in(tracer, driver, [unwind_builds["O2"], "nest", "2"], "libc.so.6", "write")
    text = tmp_path / "not-elf"
    text.write_text("hello\n")
    program = os.path.realpath(stop.argv[0])

    def module_at(address: int) -> ModuleInfo | None:
        module = stop.modules.module_at(address)
        if module is not None and module.path == program:
            return ModuleInfo(path=str(text), bias=module.bias)
        return module

    frames = unwind(stop.regs, stop.read_memory(tracer), module_at)
    # leaf (frame 1) is in the program: no CFI, and -O2 code keeps no frame pointer.
    assert len(frames) == 2
    assert frames[-1].stop is UnwindStop.BAD_CFI and frames[-1].best_effort
    assert f"{text} is not a readable ELF file" in (frames[-1].error or "")


@pytest.mark.parametrize("build", ["O0", "O2"])
def test_module_file_deleted(tracer, driver, unwind_builds, tmp_path, build):
    program = str(tmp_path / "unwind")
    shutil.copy(unwind_builds[build], program)
    stop = stop_in(tracer, driver, [program, "nest", "2"], "libc.so.6", "write")
    before = stop.unwind(tracer)
    os.unlink(program)
    gone = Modules(stop.pid)
    assert any(path.endswith(" (deleted)") for *_, path in gone.rows)
    frames = stop.unwind(tracer, modules=gone)
    if build == "O0":
        # The rbp chain still finds every frame.
        assert [f.pc for f in frames] == [f.pc for f in before]
        assert FrameMethod.FRAME_POINTER in {f.method for f in frames}
    else:
        assert [f.pc for f in frames] == [f.pc for f in before[: len(frames)]]
        assert frames[-1].best_effort and frames[-1].stop is UnwindStop.BAD_CFI
        assert f"cannot read {program}" in (frames[-1].error or "")
    # /proc/PID/map_files still opens the deleted file: the full CFI walk again.
    through_map_files = stop.unwind(tracer, modules=Modules(stop.pid, map_files=True))
    assert [f.pc for f in through_map_files] == [f.pc for f in before]
    assert {f.method for f in through_map_files[1:]} == {FrameMethod.CFI}
