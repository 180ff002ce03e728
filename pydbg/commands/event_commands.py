"""Events in commands: the last event (`.lastevent`, `.exr -1`) and the event filter table (`sx`).

`.exr -1` shows the last exception in cdb's layout (ExceptionAddress, ExceptionCode,
ExceptionFlags, NumberParameters, Parameter[n]), then what Linux told about it: the signal,
its si_code in words, and for SIGSEGV / SIGBUS / SIGILL / SIGFPE the faulting address.  The
parameters are pydbg's (pydbg.engine.signals): for an access violation (kind, si_addr, signo,
si_code), where kind is 0 because x86 Linux does not say whether a fault read or wrote; for
other signals (signo, si_code, si_addr).

`sx` lists the filters as cdb does: the events, a blank line, the exceptions, a blank line,
the default (`*`), a blank line, the syscall rows (`sys`, then `sys:openat`...; a pydbg
extension).  Breakpoint, single-step, Ctrl-C and invalid-handle exceptions take two
lines, the second one (`bpec`, `ssec`, `cc`, `hc`) their handling; a filter's commands and
argument follow it, indented.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandError
from pydbg.commands.interpreter import command
from pydbg.constants import (
    DBG_CONTROL_C,
    STATUS_ACCESS_VIOLATION,
    STATUS_BREAKPOINT,
    STATUS_INVALID_HANDLE,
    STATUS_SINGLE_STEP,
    FilterHandling,
    FilterStatus,
)
from pydbg.control import LastEventException
from pydbg.errors import PydbgError
from pydbg.filters import ExceptionFilterParameters, SpecificFilterParameters

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter
    from pydbg.engine.signals import ExceptionRecord

__all__ = ["exception_record_text", "last_event", "si_code_words", "signal_name", "sx_table"]

# si_code values (asm-generic/siginfo.h): the ones any signal may carry...
_SI_ANY = {
    0: ("SI_USER", "sent by kill or raise"),
    0x80: ("SI_KERNEL", "sent by the kernel"),
    -1: ("SI_QUEUE", "sent by sigqueue"),
    -2: ("SI_TIMER", "POSIX timer expired"),
    -3: ("SI_MESGQ", "POSIX message queue state changed"),
    -4: ("SI_ASYNCIO", "AIO completed"),
    -5: ("SI_SIGIO", "queued SIGIO"),
    -6: ("SI_TKILL", "sent by tkill or tgkill"),
}
# ...and the fault signals' own.
_SI_SIGNAL: dict[int, dict[int, tuple[str, str]]] = {
    signal.SIGSEGV: {
        1: ("SEGV_MAPERR", "address not mapped to object"),
        2: ("SEGV_ACCERR", "invalid permissions for mapped object"),
        3: ("SEGV_BNDERR", "failed address bound checks"),
        4: ("SEGV_PKUERR", "access denied by memory protection keys"),
    },
    signal.SIGBUS: {
        1: ("BUS_ADRALN", "invalid address alignment"),
        2: ("BUS_ADRERR", "nonexistent physical address"),
        3: ("BUS_OBJERR", "object-specific hardware error"),
        4: ("BUS_MCEERR_AR", "hardware memory error consumed on a machine check"),
        5: ("BUS_MCEERR_AO", "hardware memory error detected, action optional"),
    },
    signal.SIGILL: {
        1: ("ILL_ILLOPC", "illegal opcode"),
        2: ("ILL_ILLOPN", "illegal operand"),
        3: ("ILL_ILLADR", "illegal addressing mode"),
        4: ("ILL_ILLTRP", "illegal trap"),
        5: ("ILL_PRVOPC", "privileged opcode"),
        6: ("ILL_PRVREG", "privileged register"),
        7: ("ILL_COPROC", "coprocessor error"),
        8: ("ILL_BADSTK", "internal stack error"),
    },
    signal.SIGFPE: {
        1: ("FPE_INTDIV", "integer divide by zero"),
        2: ("FPE_INTOVF", "integer overflow"),
        3: ("FPE_FLTDIV", "floating-point divide by zero"),
        4: ("FPE_FLTOVF", "floating-point overflow"),
        5: ("FPE_FLTUND", "floating-point underflow"),
        6: ("FPE_FLTRES", "floating-point inexact result"),
        7: ("FPE_FLTINV", "floating-point invalid operation"),
        8: ("FPE_FLTSUB", "subscript out of range"),
    },
    signal.SIGTRAP: {
        1: ("TRAP_BRKPT", "process breakpoint"),
        2: ("TRAP_TRACE", "process trace trap"),
        3: ("TRAP_BRANCH", "process taken branch trap"),
        4: ("TRAP_HWBKPT", "hardware breakpoint or watchpoint"),
    },
}
# Signals whose si_addr is the faulting address (sigaction(2)).
_FAULTS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE)


def si_code_words(signo: int, si_code: int) -> str:
    """`1 SEGV_MAPERR (address not mapped to object)`: an si_code, named and explained."""
    code = si_code - (1 << 32) if si_code >= 1 << 31 else si_code  # (an int, kept unsigned)
    named = _SI_SIGNAL.get(signo, {}).get(code) if code > 0 and code != 0x80 else None
    named = named or _SI_ANY.get(code)
    return f"{code} {named[0]} ({named[1]})" if named else f"{code}"


def signal_name(signo: int) -> str:
    """SIGSEGV, SIGRTMIN+3, or `signal N` for a number no signal has."""
    try:
        return signal.Signals(signo).name
    except ValueError:
        if signal.SIGRTMIN <= signo <= signal.SIGRTMAX:
            return f"SIGRTMIN+{signo - signal.SIGRTMIN}"
        return f"signal {signo}"


def _where(interp: Interpreter, address: int) -> str:
    try:
        name, displacement = interp.client.symbols.get_name_by_offset(address)
    except PydbgError:
        return ""
    return f" ({name}+{displacement:#x})" if displacement else f" ({name})"


def exception_record_text(interp: Interpreter, record: ExceptionRecord) -> str:
    """cdb's `.exr` layout, then the signal's facts."""
    lines = [
        f"ExceptionAddress: {hex64(record.exception_address)}"
        + _where(interp, record.exception_address),
        f"   ExceptionCode: {record.exception_code:08x} ({record.describe()})",
        f"  ExceptionFlags: {record.exception_flags:08x}",
        f"NumberParameters: {record.number_parameters}",
    ]
    for index, value in enumerate(record.exception_information):
        lines.append(f"   Parameter[{index}]: {value & (1 << 64) - 1:016x}")
    if record.signo:
        lines.append(f"          Signal: {signal_name(record.signo)} ({record.signo})")
        lines.append(f"         si_code: {si_code_words(record.signo, record.si_code)}")
        if record.signo in _FAULTS:
            info = record.exception_information
            address = info[1] if record.exception_code == STATUS_ACCESS_VIOLATION else info[2]
            lines.append(f"Faulting address: {address & (1 << 64) - 1:016x}")
        elif record.sender_pid:
            lines.append(f"       Sender pid: {record.sender_pid}")
    return "\n".join(lines) + "\n"


@command(
    ".exr",
    summary="Show the last exception: code, address, parameters, signal and si_code",
    syntax=".exr -1",
    example=".exr -1",
)
def _exr(interp: Interpreter, rest: str) -> None:
    if rest.strip() != "-1":
        given = f"not {rest.strip()!r}" if rest.strip() else "an argument"
        raise CommandError(
            f".exr takes -1 (the last exception), {given}: Linux keeps no exception "
            "records in the target's memory"
        )
    info = interp.client.control.get_last_event_information()
    if info is None:
        interp.out("No event has happened yet\n")
        return
    if not isinstance(info.extra, LastEventException):
        interp.out(f"The last event is not an exception: {_event_text(info.description)}\n")
        return
    interp.out(exception_record_text(interp, info.extra.exception_record))


def _event_text(description: str) -> str:
    """`1a2c.3f4: Access violation ...`: the engine's `(pid.tid): ` prefix as cdb writes it."""
    if description.startswith("(") and "): " in description:
        ids, _, text = description[1:].partition("): ")
        return f"{ids}: {text}"
    return description


def last_event(interp: Interpreter, rest: str) -> None:
    """`.lastevent`: `Last event: pid.tid: what`."""
    if rest.strip():
        raise CommandError(f".lastevent takes no arguments, not {rest.strip()!r}")
    info = interp.client.control.get_last_event_information()
    interp.out(f"Last event: {_event_text(info.description) if info else '<none>'}\n")


# -- sx -------------------------------------------------------------------------------------------

_WORDS = {
    FilterStatus.BREAK: "break",
    FilterStatus.SECOND_CHANCE_BREAK: "second-chance break",
    FilterStatus.OUTPUT: "output",
    FilterStatus.IGNORE: "ignore",
}
# Exceptions cdb lists on two lines: break status, then "<name> - <text> continue - handling".
_CONTINUE_NAMES = {
    STATUS_BREAKPOINT: "bpec",
    STATUS_SINGLE_STEP: "ssec",
    DBG_CONTROL_C: "cc",
    STATUS_INVALID_HANDLE: "hc",
}


def _handling(option: FilterHandling) -> str:
    return "handled" if option == FilterHandling.GO_HANDLED else "not handled"


def _extras(params: SpecificFilterParameters | ExceptionFilterParameters) -> list[str]:
    lines = []
    if params.command:
        lines.append(f'       Command: "{params.command}"')
    if isinstance(params, ExceptionFilterParameters) and params.second_command:
        lines.append(f'       Second command: "{params.second_command}"')
    if isinstance(params, SpecificFilterParameters) and params.argument:
        lines.append(f"       Argument: {params.argument}")
    return lines


def sx_table(interp: Interpreter) -> str:
    """cdb's `sx` listing (module docstring)."""
    control = interp.client.control
    specific, exceptions, arbitrary = control.get_number_event_filters()
    events = control.get_specific_filter_parameters(0, specific)
    codes = control.get_exception_filter_parameters(start=specific, count=exceptions + arbitrary)
    lines: list[str] = []
    for index, params in enumerate(events):
        name = control.get_event_filter_name(index)
        lines.append(f"{name:>4} - {params.text} - {_WORDS[params.execution_option]}")
        lines.extend(_extras(params))
    default: list[str] = []
    lines.append("")
    for offset, code in enumerate(codes):
        name = control.get_event_filter_name(specific + offset)
        head = f"{name:>4} - {code.text} - {_WORDS[code.execution_option]}"
        group = lines if name != "*" else default
        continued = _CONTINUE_NAMES.get(code.exception_code)
        if continued is None:
            group.append(f"{head} - {_handling(code.continue_option)}")
        else:
            group.append(head)
            group.append(
                f"{continued:>4} - {code.text} continue - {_handling(code.continue_option)}"
            )
        group.extend(_extras(code))
    if default:
        lines.extend(["", *default])
    # The syscall rows (pydbg extension): `sys`, then each named system call.
    lines.append("")
    first = specific + exceptions + arbitrary
    for index in range(first, first + control.get_number_syscall_filters()):
        row = control.get_syscall_filter_parameters(index)
        name = control.get_event_filter_name(index)
        lines.append(f"{name:>4} - {row.text} - {_WORDS[row.execution_option]}")
        lines.extend(_extras(row))
    return "\n".join(lines) + "\n"
