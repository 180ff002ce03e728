"""Registers: general-purpose get/set round trips, changing a register to change what the
program does, set_pc and orig_rax, fs_base, and the x87/SSE/AVX state (hazards §11)."""

from __future__ import annotations

import pytest

from pydbg._native import REGISTER_NAMES, EventKind, Regs
from pydbg.errors import InvalidRegisterError, NotStoppedError
from tests.support import MASK64, u64

KERNEL_ORDER = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
    "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds",
    "es", "fs", "gs",
)  # fmt: skip


def _run_to(tracer, driver, binary, pid, symbol):
    address = binary.addr(pid, symbol)
    tracer.insert_breakpoint(pid, address)
    tracer.cont(pid)
    event = driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == address)
    tracer.remove_breakpoint(pid, address)
    return event


def test_register_names_are_user_regs_struct_in_kernel_order():
    assert tuple(REGISTER_NAMES) == KERNEL_ORDER


def test_get_set_regs_round_trip(tracer, targets):
    pid = tracer.spawn([targets["loop"].path, "1"])
    regs = tracer.get_regs(pid)
    assert isinstance(regs, Regs)
    values = regs.as_dict()
    assert tuple(values) == KERNEL_ORDER
    for name in REGISTER_NAMES:
        assert tracer.get_reg(pid, name) == values[name] == regs[name] == getattr(regs, name)
    assert regs.rip == tracer.get_pc(pid)
    tracer.set_regs(pid, regs)
    assert tracer.get_regs(pid).as_dict() == values
    # Change callee-saved registers the loader does not read yet; read them back.
    changed = regs.copy()
    changed.r12 = 0x1122334455667788
    changed["r13"] = MASK64
    changed.rbx = 0
    assert regs.r12 == values["r12"]  # copy() is independent
    tracer.set_regs(pid, changed)
    after = tracer.get_regs(pid)
    assert u64(after.r12) == 0x1122334455667788
    assert u64(after.r13) == MASK64
    assert after.rbx == 0
    tracer.set_reg(pid, "r14", 0xDEADBEEF)
    assert tracer.get_reg(pid, "r14") == 0xDEADBEEF


def test_set_register_changes_behaviour(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "10"])
    _run_to(tracer, driver, binary, pid, "finish")
    assert tracer.get_reg(pid, "rdi") == 0  # finish(0): every tick counted
    tracer.set_reg(pid, "rdi", 42)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 42


def test_set_regs_changes_behaviour(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "10"])
    _run_to(tracer, driver, binary, pid, "finish")
    regs = tracer.get_regs(pid)
    regs.rdi = 99
    tracer.set_regs(pid, regs)
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 99


def test_set_pc_skips_code_and_disables_syscall_restart(tracer, driver, targets):
    binary = targets["block"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "block_start")
    assert tracer.get_reg(pid, "rax") == 5
    tracer.set_pc(pid, binary.addr(pid, "block_end"))  # skip the 1000 adds
    assert tracer.get_pc(pid) == binary.addr(pid, "block_end")
    assert u64(tracer.get_reg(pid, "orig_rax")) == MASK64
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 1  # run_block returned 5, not 1005


def test_fs_base_is_the_thread_pointer(tracer, driver, targets):
    binary = targets["loop"]
    pid = tracer.spawn([binary.path, "3"])
    assert tracer.get_reg(pid, "fs_base") == 0  # no TLS before the loader runs
    _run_to(tracer, driver, binary, pid, "tick")
    fs_base = tracer.get_reg(pid, "fs_base")
    assert fs_base != 0
    # x86-64 glibc: the TCB starts with a pointer to itself.
    assert int.from_bytes(tracer.read_memory(pid, fs_base, 8), "little") == fs_base


@pytest.mark.parametrize("name", ["rzz", "xmm0", "RAX", ""])
def test_invalid_register_name(tracer, targets, name):
    pid = tracer.spawn([targets["loop"].path, "1"])
    with pytest.raises(InvalidRegisterError) as info:
        tracer.get_reg(pid, name)
    assert isinstance(info.value, KeyError)
    assert info.value.name == name
    with pytest.raises(InvalidRegisterError):
        tracer.set_reg(pid, name, 1)
    regs = tracer.get_regs(pid)
    with pytest.raises(KeyError):
        regs[name]


def test_register_access_of_running_thread(tracer, targets):
    pid = tracer.spawn([targets["loop"].path, "-1"])
    regs = tracer.get_regs(pid)
    tracer.cont(pid)
    calls = [
        lambda: tracer.get_regs(pid),
        lambda: tracer.set_regs(pid, regs),
        lambda: tracer.get_reg(pid, "rip"),
        lambda: tracer.set_reg(pid, "rax", 1),
        lambda: tracer.get_pc(pid),
        lambda: tracer.set_pc(pid, regs.rip),
        lambda: tracer.get_fpregs(pid),
        lambda: tracer.get_debugreg(pid, 7),
    ]
    for call in calls:
        with pytest.raises(NotStoppedError) as info:
            call()
        assert info.value.tid == pid
    tracer.stop_all(pid)
    assert tracer.get_regs(pid).rip != 0


def _xmm_in(binary) -> int:
    return int.from_bytes(binary.file_bytes(binary.sym("xmm_in"), 16), "little")


def test_sse_and_x87_state(tracer, driver, targets):
    binary = targets["fpu"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "sse_loaded")
    fp = tracer.get_fpregs(pid)
    assert len(fp.raw) >= 512
    assert fp.xmm(0) == _xmm_in(binary)
    assert fp.xmm(2) == 0  # pxor
    assert fp.st(0) == b"\x00" * 7 + b"\x80\xff\x3f"  # fld1: 1.0 as an 80-bit extended
    value = 0x0F0E0D0C0B0A09080706050403020100
    fp.set_xmm(2, value)
    tracer.set_fpregs(pid, fp)
    assert tracer.get_fpregs(pid).xmm(2) == value
    _run_to(tracer, driver, binary, pid, "fpu_done")
    # The program stored xmm2 after the breakpoint: it saw the value we wrote.
    stored = tracer.read_memory(pid, binary.addr(pid, "xmm_out"), 16)
    assert int.from_bytes(stored, "little") == value
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0


def test_fpu_control_and_status_words(tracer, driver, targets):
    binary = targets["fpu"]
    pid = tracer.spawn([binary.path])
    _run_to(tracer, driver, binary, pid, "sse_loaded")
    fp = tracer.get_fpregs(pid)
    assert fp.fcw == 0x37F  # the ABI default control word
    assert fp.mxcsr == 0x1F80  # the ABI default: all exceptions masked
    assert (fp.fsw >> 11) & 7 == 7  # one fld1 on an empty stack: TOP = 7
    assert fp.ftw == 0x80  # abridged tag word: only physical register 7 is valid
    fp.mxcsr = 0x1F80 | 0x6000  # round toward zero
    tracer.set_fpregs(pid, fp)
    assert tracer.get_fpregs(pid).mxcsr == 0x7F80


def test_avx_state(tracer, driver, targets):
    binary = targets["fpu"]
    pid = tracer.spawn([binary.path])
    fp = tracer.get_fpregs(pid)
    if not fp.has_avx:
        pytest.skip("no AVX on this CPU")
    _run_to(tracer, driver, binary, pid, "avx_loaded")
    fp = tracer.get_fpregs(pid)
    ymm_in = int.from_bytes(binary.file_bytes(binary.sym("ymm_in"), 32), "little")
    assert fp.ymm(1) == ymm_in
    assert fp.xmm(1) == ymm_in & ((1 << 128) - 1)  # the low half is xmm1
    assert fp.ymm(3) == 0
    value = int.from_bytes(bytes(range(0xA0, 0xC0)), "little")
    fp.set_ymm(3, value)
    tracer.set_fpregs(pid, fp)
    assert tracer.get_fpregs(pid).ymm(3) == value
    _run_to(tracer, driver, binary, pid, "fpu_done")
    stored = tracer.read_memory(pid, binary.addr(pid, "ymm_out"), 32)
    assert int.from_bytes(stored, "little") == value
    tracer.cont(pid)
    assert driver.until_exit(pid).exit_code == 0
