"""Linux signals as DbgEng exceptions: the exception code of a signal, the record callbacks
receive, and whether a not-handled signal earns a second-chance report.

Linux has no exception codes, so each signal is given the Windows code whose `sx` filter
means the same thing (spec §9.2): SIGSEGV is an access violation (`av`), SIGFPE/FPE_INTDIV a
divide by zero (`dz`), SIGINT a Ctrl+C (`cc`), and so on.  Signals without a Windows
counterpart get a code in a pydbg facility, `PYDBG_SIGNAL_FACILITY | signo` (SIGUSR1 is
0xE000000A), which is stable and documented, so `sxe e000000a` stops on SIGUSR1.

Second chance (§9.2): Linux never reports a signal twice.  pydbg emulates DbgEng's second
chance: when a first-chance signal is passed on not handled, and the target neither catches
nor ignores it, and its default action kills the process, the same exception is reported
again with first_chance False before the signal is delivered.  Only a second not-handled
resume delivers the fatal signal.
"""

from __future__ import annotations

import signal as _signal
from dataclasses import dataclass

from pydbg.constants import (
    DBG_CONTROL_C,
    STATUS_ACCESS_VIOLATION,
    STATUS_ASSERTION_FAILURE,
    STATUS_BREAKPOINT,
    STATUS_DATATYPE_MISALIGNMENT,
    STATUS_FLOAT_DIVIDE_BY_ZERO,
    STATUS_ILLEGAL_INSTRUCTION,
    STATUS_IN_PAGE_ERROR,
    STATUS_INTEGER_DIVIDE_BY_ZERO,
    STATUS_INTEGER_OVERFLOW,
    STATUS_PRIVILEGED_INSTRUCTION,
    STATUS_SINGLE_STEP,
)

# Codes of signals without a Windows counterpart: this facility OR the signal number.
PYDBG_SIGNAL_FACILITY = 0xE0000000

# si_code values (asm-generic/siginfo.h) used to refine the mapping.
_ILL_PRVOPC = 5
_FPE_INTDIV = 1
_FPE_INTOVF = 2
_FPE_FLTDIV = 3
_BUS_ADRALN = 1
_TRAP_TRACE = 2
_SEGV_ACCERR = 2

# Python's signal module has no name for it.
_SIGSTKFLT = 16

# Signals whose default action terminates the process (signal(7): Term and Core).
_FATAL_BY_DEFAULT = frozenset(
    {
        _signal.SIGHUP, _signal.SIGINT, _signal.SIGQUIT, _signal.SIGILL, _signal.SIGTRAP,
        _signal.SIGABRT, _signal.SIGBUS, _signal.SIGFPE, _signal.SIGUSR1, _signal.SIGSEGV,
        _signal.SIGUSR2, _signal.SIGPIPE, _signal.SIGALRM, _signal.SIGTERM, _SIGSTKFLT,
        _signal.SIGXCPU, _signal.SIGXFSZ, _signal.SIGVTALRM, _signal.SIGPROF, _signal.SIGIO,
        _signal.SIGPWR, _signal.SIGSYS,
    }
    | set(range(_signal.SIGRTMIN, _signal.SIGRTMAX + 1))
)  # fmt: skip


def exception_code(signo: int, si_code: int = 0) -> int:
    """The DbgEng exception code that stands for this signal (spec §9.2's table)."""
    if signo == _signal.SIGSEGV:
        return STATUS_ACCESS_VIOLATION
    if signo == _signal.SIGBUS:
        return STATUS_DATATYPE_MISALIGNMENT if si_code == _BUS_ADRALN else STATUS_IN_PAGE_ERROR
    if signo == _signal.SIGILL:
        return (
            STATUS_PRIVILEGED_INSTRUCTION if si_code == _ILL_PRVOPC else STATUS_ILLEGAL_INSTRUCTION
        )
    if signo == _signal.SIGFPE:
        if si_code == _FPE_INTOVF:
            return STATUS_INTEGER_OVERFLOW
        if si_code == _FPE_FLTDIV:
            return STATUS_FLOAT_DIVIDE_BY_ZERO
        if si_code == _FPE_INTDIV:
            return STATUS_INTEGER_DIVIDE_BY_ZERO
        return PYDBG_SIGNAL_FACILITY | signo
    if signo == _signal.SIGTRAP:
        return STATUS_SINGLE_STEP if si_code == _TRAP_TRACE else STATUS_BREAKPOINT
    if signo == _signal.SIGINT:
        return DBG_CONTROL_C
    if signo == _signal.SIGABRT:
        return STATUS_ASSERTION_FAILURE
    return PYDBG_SIGNAL_FACILITY | signo


def signal_name(signo: int) -> str:
    try:
        return _signal.Signals(signo).name
    except ValueError:
        if _signal.SIGRTMIN <= signo <= _signal.SIGRTMAX:
            return f"SIGRTMIN+{signo - _signal.SIGRTMIN}"
        return f"signal {signo}"


@dataclass(frozen=True)
class ExceptionRecord:
    """EXCEPTION_RECORD64, as pydbg fills it for a Linux event.

    `exception_information` follows §9.2: (signo, si_code, si_addr) for signals; for access
    violations DbgEng's convention (access kind, faulting address) comes first, so tools that
    read ExceptionInformation[1] as the address keep working: (kind, si_addr, signo, si_code)
    with kind 0 = read / 1 = write / 8 = execute when the kernel tells (it does not on x86, so
    0 unless si_code says the page was present: still 0).  `signo` is 0 for exceptions that
    are no signal (the initial breakpoint, a break-in).
    """

    exception_code: int
    exception_flags: int
    exception_record: int  # address of a chained record: always 0
    exception_address: int
    exception_information: tuple[int, ...]
    signo: int = 0
    si_code: int = 0
    sender_pid: int = 0

    @property
    def number_parameters(self) -> int:
        return len(self.exception_information)

    def describe(self) -> str:
        """The cdb-style description of the exception ("Access violation", ...)."""
        return _DESCRIPTIONS.get(self.exception_code) or (
            f"{signal_name(self.signo)} signal" if self.signo else "Unknown exception"
        )


_DESCRIPTIONS = {
    STATUS_ACCESS_VIOLATION: "Access violation",
    STATUS_BREAKPOINT: "Break instruction exception",
    STATUS_SINGLE_STEP: "Single step exception",
    STATUS_ILLEGAL_INSTRUCTION: "Illegal instruction",
    STATUS_PRIVILEGED_INSTRUCTION: "Privileged instruction",
    STATUS_INTEGER_DIVIDE_BY_ZERO: "Integer divide-by-zero",
    STATUS_INTEGER_OVERFLOW: "Integer overflow",
    STATUS_FLOAT_DIVIDE_BY_ZERO: "Floating-point divide-by-zero",
    STATUS_DATATYPE_MISALIGNMENT: "Data misaligned",
    STATUS_IN_PAGE_ERROR: "In-page I/O error",
    STATUS_ASSERTION_FAILURE: "Assertion failure (SIGABRT)",
    DBG_CONTROL_C: "Control-C exception",
}


# signal_record's records by their facts (bounded: emptied when full).
_RECORDS: dict[tuple[int, int, int, int, int], ExceptionRecord] = {}
_RECORDS_MAX = 256


def signal_record(facts: tuple[int, int, int, int, int]) -> ExceptionRecord:
    """The record for a signal-delivery-stop from its facts (signo, si_code, address, pc,
    sender): `address` is si_addr (0 if none), `pc` the thread's pc (the exception address
    for faults and for signals alike).  Records are immutable, so a signal raised again at
    the same place shares its record (cached, by the facts tuple as Tracer.cont_wait returns
    it: building one costs more than a ptrace round trip)."""
    record = _RECORDS.get(facts)
    if record is not None:
        return record
    signo, si_code, address, pc, sender = facts
    code = exception_code(signo, si_code)
    if code == STATUS_ACCESS_VIOLATION:
        info: tuple[int, ...] = (0, address, signo, si_code)
    else:
        info = (signo, si_code, address)
    record = ExceptionRecord(code, 0, 0, pc, info, signo, si_code, sender)
    if len(_RECORDS) >= _RECORDS_MAX:
        _RECORDS.clear()
    _RECORDS[facts] = record
    return record


def breakpoint_record(pc: int) -> ExceptionRecord:
    """STATUS_BREAKPOINT without a signal: the initial breakpoint and break-ins."""
    return ExceptionRecord(STATUS_BREAKPOINT, 0, 0, pc, (0,))


def _mask_from_status(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def earns_second_chance(pid: int, signo: int) -> bool:
    """Would delivering `signo` to this process kill it without any handler of its own?

    Read from /proc/PID/status (SigCgt: caught, SigIgn: ignored; dispositions are per
    process).  Stop signals never qualify: they stop, they do not kill.
    """
    if signo not in _FATAL_BY_DEFAULT:
        return False
    bit = 1 << (signo - 1)
    return not (_mask_from_status(pid, "SigCgt:") & bit or _mask_from_status(pid, "SigIgn:") & bit)
