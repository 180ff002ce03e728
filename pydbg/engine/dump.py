"""The dump target (DbgEng's OpenDumpFile, cdb `-z`): a core file served to the session
through the same `Backend` seam a live process is.

Where the dump target lives, and why there: the facets (registers, data_spaces, symbols,
system_objects, control) and the engine's helpers (module lists, stack walks, the
symbolizer) already reach the target only through the engine's backend (registers,
memory, threads) and its module registry.  So a core file becomes a `DumpBackend`, a
read-only `Backend` that answers those calls from the recorded notes and memory
(pydbg.coredump.reader), and the session holds it where it would hold the native tracer.
Every facet keeps its one code path; `k`, `r`, `d*`, `u`, `ln`, `lm`, `.exr` work on a
core as on a stopped process.  What would change the target (resuming, stepping,
breakpoints, memory and register writes, killing) raises `DumpTargetReadOnlyError` at
this seam, and the engine refuses execution requests before they reach it, so the
session stays broken in and usable.

The other /proc-shaped facts a live process offers (the auxiliary vector, the mappings,
the executable's path) come from `process_view`, which the module registry hands to the
rendezvous reader (pydbg.engine.rendezvous.ProcessView), so that the module list is read
from the link map in the core's memory by the same code that reads a live one.
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from pydbg._native import FPRegs, Regs, ThreadState, TraceResult
from pydbg.coredump.reader import CoreFile
from pydbg.engine import events as ev
from pydbg.engine.backend import FdArg, NativeEvent
from pydbg.engine.images import module_name
from pydbg.engine.rendezvous import AT_ENTRY, AT_SYSINFO_EHDR, ProcessView
from pydbg.engine.signals import breakpoint_record, signal_record
from pydbg.errors import DumpTargetReadOnlyError, MemoryAccessError, NoSuchProcessError

if TYPE_CHECKING:
    from pydbg.engine.modules import ModuleRegistry
    from pydbg.engine.targets import Process

__all__ = ["DumpBackend", "dump_events"]


def dump_events(process: Process, backend: DumpBackend, modules: ModuleRegistry) -> list[ev.Event]:
    """What opening the core reports, in the order a live process would have: CreateProcess
    (the main image), CreateThread for each other thread, LoadModule for each module of
    the link map in the core, then the recorded signal as an exception of the thread that
    took it (the kernel writes that thread's NT_PRSTATUS first), a second chance: it was
    fatal.  A core with no signal (gcore of a stopped process) ends with a break-in
    instead, as cdb shows for a dump taken with no exception."""
    core = backend.core
    threads = list(process.threads.values())
    first = threads[0]
    loads = modules.start(process, first)
    watch = modules.get(process.pid)
    main = next((o for o in watch.objects if o.is_main), None) if watch is not None else None
    if main is not None:
        process.image_name = main.path
    name = process.image_name
    regs = {tid: backend.get_regs(tid) for tid in process.threads}
    out: list[ev.Event] = [
        ev.CreateProcess(
            process,
            first,
            base_offset=main.base if main else 0,
            module_size=main.size if main else 0,
            module_name=main.module_name if main else module_name(name),
            image_name=name,
            thread_data_offset=regs[first.tid].fs_base,
            start_offset=core.auxv.get(AT_ENTRY, 0),
        )
    ]
    for thread in threads[1:]:
        out.append(
            ev.CreateThread(
                process,
                thread,
                data_offset=regs[thread.tid].fs_base,
                start_offset=regs[thread.tid].rip,
            )
        )
    out.extend(loads)
    crashed = process.threads.get(core.threads[0].tid, first)
    pc = regs[crashed.tid].rip
    signal = core.signal
    signo = signal.signo if signal is not None else core.threads[0].signal
    if signo:
        code = signal.code if signal is not None else 0
        address = signal.address if signal is not None else 0
        sender = signal.sender_pid if signal is not None else 0
        record = signal_record((signo, code, address, pc, sender))
        out.append(ev.ExceptionEvent(process, crashed, record, False, False, 0))
    else:
        out.append(ev.ExceptionEvent(process, crashed, record=breakpoint_record(pc)))
    return out


class DumpBackend:
    """A `Backend` over one core file: reads answer from the core, everything else is
    refused with DumpTargetReadOnlyError."""

    def __init__(self, core: CoreFile) -> None:
        self.core = core
        self.pid = core.pid
        self._closed = False
        self._regs: dict[int, Regs] = {}
        for thread in core.threads:
            regs = Regs()
            for name, value in thread.registers.items():
                regs[name] = value
            self._regs[thread.tid] = regs
        self._xsave = {t.tid: t.xsave for t in core.threads}

    # -- what a session asks of any backend ----------------------------------------------

    def close(self) -> None:
        self._closed = True
        self.core.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def process_view(self) -> ProcessView:
        """The /proc-shaped facts of the recorded process (auxv, mappings, executable)."""
        core = self.core
        maps = [(m.start, m.end, m.offset, m.path) for m in core.files]
        # The vDSO is no file (NT_FILE leaves it out) but its segment is in the core.
        vdso = core.auxv.get(AT_SYSINFO_EHDR, 0)
        maps += [(start, end, 0, "[vdso]") for start, end, _ in core.regions() if start == vdso]
        return ProcessView(
            auxv=dict(core.auxv),
            maps=tuple(maps),
            exe=core.executable,
            files=dict(core.substitutes),
        )

    def mappings(self) -> list[tuple[int, int, str, int, str, int, frozenset[str]]]:
        """The recorded address map in /proc/PID/smaps terms: (start, end, perms, file
        offset, path, anonymous bytes, VmFlags) per PT_LOAD segment (the kernel writes one
        per mapping).  Paths and offsets come from NT_FILE, the vDSO is named by
        AT_SYSINFO_EHDR; a core tells neither anonymous byte counts nor flags."""
        core = self.core
        vdso = core.auxv.get(AT_SYSINFO_EHDR, 0)
        rows = []
        for start, end, flags in core.regions():
            perms = (
                ("r" if flags & 4 else "-")
                + ("w" if flags & 2 else "-")
                + ("x" if flags & 1 else "-")
            ) + "p"
            mapping = core.mapping_at(start)
            path, offset = "", 0
            if mapping is not None:
                path = core.substitutes.get(mapping.path, mapping.path)
                offset = mapping.offset + start - mapping.start
            elif start == vdso:
                path = "[vdso]"
            rows.append((start, end, perms, offset, path, 0, frozenset[str]()))
        return rows

    def wait(self, timeout: float | None = None) -> Sequence[NativeEvent]:
        return []  # nothing ever happens in a core

    def wake(self) -> None:
        pass

    def has_pending(self) -> bool:
        return False

    def processes(self) -> list[int]:
        return [self.pid]

    def threads(self, pid: int) -> list[int]:
        self._check_pid(pid)
        return list(self._regs)

    def thread_state(self, tid: int) -> ThreadState:
        self._thread(tid)
        return ThreadState.STOPPED

    def stop_all(self, pid: int | None = None) -> None:
        pass  # (everything in a core is stopped for good)

    # -- reads ---------------------------------------------------------------------------

    def get_regs(self, tid: int) -> Regs:
        return self._thread(tid).copy()

    def get_pc(self, tid: int) -> int:
        return int(self._thread(tid).rip)

    def get_reg(self, tid: int, name: str) -> int:
        return int(self._thread(tid)[name])

    def get_fpregs(self, tid: int) -> FPRegs:
        self._thread(tid)
        data = self._xsave.get(tid)
        if data is None:
            raise DumpTargetReadOnlyError(
                f"floating-point registers of thread {tid}: the core has no NT_FPREGSET"
            )
        return FPRegs.from_raw(data)

    def read_memory(self, pid: int, address: int, size: int, *, partial: bool = False) -> bytes:
        self._check_pid(pid)
        data = self.core.read(address, size) if size > 0 else b""
        if len(data) == size or partial:
            return data
        exc = MemoryAccessError(
            _errno.EFAULT,
            f"only {len(data)} of {size} bytes are in the core file or its mapped files",
            request="read_memory",
            pid=pid,
            address=address + len(data),
        )
        exc.transferred = len(data)
        exc.data = data
        raise exc

    def breakpoint_counts(self, pid: int, address: int) -> tuple[int, int]:
        return (0, 0)

    def syscall_counts(self, reset: bool = False) -> dict[int, int]:
        return {}

    def _thread(self, tid: int) -> Regs:
        regs = self._regs.get(tid)
        if regs is None:
            raise NoSuchProcessError(
                _errno.ESRCH, "no such thread in the core file", request="core", tid=tid
            )
        return regs

    def _check_pid(self, pid: int) -> None:
        if pid != self.pid:
            raise NoSuchProcessError(
                _errno.ESRCH, "no such process in the core file", request="core", pid=pid
            )

    # -- everything that would change the target ----------------------------------------

    def spawn(
        self,
        argv: Sequence[str | bytes],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: FdArg = None,
        stdout: FdArg = None,
        stderr: FdArg = None,
        pass_fds: Sequence[int] = (),
        trace_fork: bool = False,
        new_process_group: bool = False,
        kill_on_exit: bool = True,
    ) -> int:
        raise DumpTargetReadOnlyError("create_process (end the dump session first)")

    def seize(self, pid: int, *, trace_fork: bool = False, kill_on_exit: bool = False) -> list[int]:
        raise DumpTargetReadOnlyError("attach_process (end the dump session first)")

    def detach(self, pid: int, *, leave_stopped: bool = False) -> None:
        raise DumpTargetReadOnlyError("detach")

    def kill(self, pid: int) -> int:
        raise DumpTargetReadOnlyError("kill")

    def cont(self, tid: int, sig: int = 0) -> None:
        raise DumpTargetReadOnlyError("go")

    def cont_wait(
        self, tid: int, sig: int = 0, timeout: float | None = None, simple: int = 0
    ) -> Sequence[NativeEvent] | tuple[int, int, int, int, int]:
        raise DumpTargetReadOnlyError("go")

    def cont_all(
        self,
        pid: int | None = None,
        signals: Mapping[int, int] | None = None,
        syscall: Container[int] | None = None,
    ) -> None:
        raise DumpTargetReadOnlyError("go")

    def syscall(self, tid: int, sig: int = 0) -> None:
        raise DumpTargetReadOnlyError("go")

    def listen(self, tid: int) -> None:
        raise DumpTargetReadOnlyError("go")

    def step(self, tid: int, sig: int = 0) -> NativeEvent:
        raise DumpTargetReadOnlyError("step")

    def trace(
        self,
        tid: int,
        max_steps: int,
        *,
        until: int | None = None,
        record: bool = True,
        stop_at_breakpoints: bool | Sequence[int] = False,
        register: str | None = None,
        until_return: bool | tuple[int, int] = False,
    ) -> TraceResult:
        raise DumpTargetReadOnlyError("step")

    def branch_step(self, tid: int) -> NativeEvent:
        raise DumpTargetReadOnlyError("step")

    def set_regs(self, tid: int, regs: Regs) -> None:
        raise DumpTargetReadOnlyError("register write")

    def set_reg(self, tid: int, name: str, value: int) -> None:
        raise DumpTargetReadOnlyError(f"register write ({name})")

    def set_pc(self, tid: int, pc: int) -> None:
        raise DumpTargetReadOnlyError("register write (rip)")

    def set_fpregs(self, tid: int, fpregs: FPRegs) -> None:
        raise DumpTargetReadOnlyError("register write (floating point)")

    def write_memory(self, pid: int, address: int, data: bytes | bytearray | memoryview) -> None:
        raise DumpTargetReadOnlyError(f"memory write at {address:#x}")

    def set_breakpoint_condition(
        self,
        pid: int,
        address: int,
        *,
        tid: int = 0,
        skip: int = 0,
        register: str | None = None,
        reg_op: str | None = None,
        reg_value: int = 0,
        mem_address: int = 0,
        mem_size: int = 0,
        mem_op: str | None = None,
        mem_value: int = 0,
    ) -> None:
        raise DumpTargetReadOnlyError("breakpoint")

    def set_pass_signals(self, signals: Mapping[int, bool]) -> None:
        pass  # (a filter change: nothing will ever be delivered)

    def set_syscall_pass(self, report: Iterable[int] | None = None) -> None:
        pass

    def clear_breakpoint_condition(self, pid: int, address: int) -> None:
        pass

    def insert_breakpoint(self, pid: int, address: int) -> None:
        raise DumpTargetReadOnlyError("breakpoint")

    def remove_breakpoint(self, pid: int, address: int) -> None:
        pass  # (none was ever inserted)

    def set_process_hw_breakpoint(
        self, pid: int, slot: int, address: int, access: int, size: int
    ) -> None:
        raise DumpTargetReadOnlyError("breakpoint")

    def clear_process_hw_breakpoint(self, pid: int, slot: int) -> None:
        pass
