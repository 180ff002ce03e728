"""Helpers of the breakpoint tests: a launched target addressed by symbol, its code decoded
from the ELF file, the raw bytes of its memory as the kernel holds them, and a tracer that
counts the native stops the engine asks for.

Expected program counters always come from capstone decoding the target's own bytes (read
from the built file at the symbol pyelftools found, placed at the load bias of the running
process); nothing is hard-coded.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable
from typing import Any

from capstone import CS_ARCH_X86, CS_GRP_CALL, CS_GRP_RET, CS_MODE_64, Cs

import pydbg
from tests.api.recording import GO, NO_DEBUGGEE
from tests.support import Binary

WAIT_LIMIT = 20.0  # a bound for waits that must end with an event; never a timing assertion

# spec §6.8, written out (not imported from pydbg) so the engine is checked against the spec.
CODE, DATA = 0, 1
GO_ONLY, DEFERRED, ENABLED, ADDER_ONLY, ONE_SHOT = 0x01, 0x02, 0x04, 0x08, 0x10
BREAK_READ, BREAK_WRITE, BREAK_EXECUTE = 0x1, 0x2, 0x4
ANY_ID = 0xFFFFFFFF
INVALID_OFFSET = (1 << 64) - 1

_cs = Cs(CS_ARCH_X86, CS_MODE_64)
_cs.detail = True


def is_call(insn: Any) -> bool:
    return insn.group(CS_GRP_CALL)


def is_ret(insn: Any) -> bool:
    return insn.group(CS_GRP_RET)


def target_of(insn: Any) -> int:
    """The destination of a direct jmp / jcc / call."""
    (operand,) = insn.operands
    return int(operand.imm) & ((1 << 64) - 1)


def after(insn: Any) -> int:
    return int(insn.address + insn.size)


class Debuggee:
    """One target process of a session: its symbols, code, memory and result file."""

    def __init__(self, client: pydbg.DebugClient, binary: Binary, pid: int, out_file: str):
        self.client = client
        self.binary = binary
        self.pid = pid
        self.out_file = out_file
        self.bias = binary.bias(pid)

    # -- where things are ---------------------------------------------------------------

    def addr(self, name: str) -> int:
        return self.bias + self.binary.sym(name)

    def code(self, name: str) -> list[Any]:
        """The instructions of function `name`, decoded from the file's bytes and placed at
        their runtime addresses."""
        size = self.binary.sym_size(name)
        data = self.binary.file_bytes(self.binary.sym(name), size)
        insns = list(_cs.disasm(data, self.addr(name)))
        assert sum(i.size for i in insns) == size, f"{name} did not decode completely"
        return insns

    def first(self, name: str, predicate: Callable[[Any], bool]) -> Any:
        """The first instruction of function `name` that matches."""
        for insn in self.code(name):
            if predicate(insn):
                return insn
        raise AssertionError(f"no such instruction in {name}")

    # -- memory, as the debugger and as the kernel see it -------------------------------

    def read(self, address: int, size: int) -> bytes:
        return self.client.data_spaces.read_virtual(address, size)

    def global_int(self, name: str, size: int = 8) -> int:
        return int.from_bytes(self.read(self.addr(name), size), "little", signed=True)

    def raw(self, address: int, size: int) -> bytes:
        """The bytes the kernel holds (int3 included), read through /proc/PID/mem."""
        return raw_memory(self.pid, address, size)

    # -- breakpoints and execution ------------------------------------------------------

    def breakpoint(self, address: int, flags: int = 0, break_type: int = CODE) -> Any:
        bp = self.client.control.add_breakpoint(break_type)
        bp.set_offset(address)
        bp.add_flags(ENABLED | flags)
        return bp

    def go(self, timeout: float = WAIT_LIMIT) -> bool:
        self.client.control.set_execution_status(GO)
        return self.client.control.wait_for_event(timeout=timeout)

    def command(self, text: str, timeout: float = WAIT_LIMIT) -> bool:
        """Execute a command line, then wait for what its last execution command armed."""
        self.client.control.execute(text)
        return self.client.control.wait_for_event(timeout=timeout)

    def run_to_end(self, timeout: float = WAIT_LIMIT) -> int | None:
        """Go (again and again, if something breaks in) until the session ends; the exit
        code of the process."""
        for _ in range(1000):
            if not self.go(timeout):
                assert self.client.control.get_execution_status() == NO_DEBUGGEE, "wait timed out"
                return self.client.get_exit_code()
        raise AssertionError("the target did not end")

    def pc(self) -> int:
        return self.client.registers.get_value("rip")

    def reg(self, name: str) -> int:
        return self.client.registers.get_value(name)

    def thread_id(self) -> int:
        """The engine id of the current thread."""
        return self.client.system_objects.get_current_thread_id()

    def tid(self) -> int:
        return self.client.system_objects.get_current_thread_system_id()

    def result(self) -> str:
        if not os.path.exists(self.out_file):
            return ""
        with open(self.out_file) as f:
            return f.read().strip()


def raw_memory(pid: int, address: int, size: int) -> bytes:
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        f.seek(address)
        return f.read(size)


def tgkill(pid: int, tid: int, signo: int) -> None:
    """Send a signal to one thread of another process (os.kill would pick any thread)."""
    libc = ctypes.CDLL(None, use_errno=True)
    sys_tgkill = 234  # x86_64
    if libc.syscall(sys_tgkill, pid, tid, signo) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


SIGRT1 = signal.SIGRTMIN + 1


class CountingTracer:
    """pydbg._native.Tracer, counting what the engine asks of it: `resumes` (calls that
    let a target thread run: step, branch_step, cont, cont_all, singlestep) and `stops`
    (native records handed back: one per step / branch_step, and each record of a wait)."""

    _RESUMES = frozenset({"step", "branch_step", "cont", "cont_all", "singlestep"})

    def __init__(self, counts: dict[str, int]) -> None:
        from pydbg._native import Tracer

        self._tracer = Tracer()
        self.counts = counts
        counts.setdefault("resumes", 0)
        counts.setdefault("stops", 0)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._tracer, name)
        if name not in self._RESUMES and name != "wait":
            return attr
        counts = self.counts

        def counted(*args: Any, **kwargs: Any) -> Any:
            if name in self._RESUMES:
                counts["resumes"] += 1
            result = attr(*args, **kwargs)
            if name in ("step", "branch_step"):
                counts["stops"] += 1
            elif name == "wait":
                counts["stops"] += len(result)
            return result

        return counted


def go_recording(into: list[Any], what: Callable[[], object]) -> Callable[[Any], int]:
    """A breakpoint vote that appends what() to `into` and says GO."""

    def vote(bp: Any) -> int:
        into.append(what())
        return GO

    return vote
