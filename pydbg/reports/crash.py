"""The crash report: what a CI log needs to see of a program killed by a signal, built at the
stop before the fatal signal is delivered (the second-chance exception), while every thread
is stopped and the state is live.

    report = build_crash_report(client)      # client stopped at the second chance
    sys.stderr.write(report.text())
    json.dumps(report.to_json())

In order: the signal (name and number), its si_code in words, for a fault (SIGSEGV,
SIGBUS, SIGFPE, SIGILL raised by the processor) the faulting address and the memory region
holding it (`!address ADDR`), the registers (`r`), the faulting instruction and the five
before it (`u`, the instructions before found by client.control.get_near_instruction), the
crashing thread's stack (`kn`), every other thread's stack, and the modules with their build
ids (`lm`).  Everything goes through the client's public facets, so any front end (the CLI's
batch mode, a pytest plugin) can build one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydbg.addresses import hex64
from pydbg.commands.address_map import describe_region, usage
from pydbg.commands.event_commands import si_code_words, signal_name
from pydbg.commands.state_display import SHOWN_REGISTERS, register_lines
from pydbg.constants import STATUS_ACCESS_VIOLATION
from pydbg.control import LastEventException
from pydbg.data_spaces import MemoryRegion, MemoryState
from pydbg.errors import EngineError, PydbgError
from pydbg.reports.stacks import (
    ThreadStack,
    module_json,
    modules_text,
    thread_stack,
    thread_stacks,
)
from pydbg.symbols import Module

if TYPE_CHECKING:
    from pydbg.client import DebugClient
    from pydbg.engine.signals import ExceptionRecord

__all__ = ["CrashReport", "Instruction", "build_crash_report", "fault_address"]

# Signals whose si_addr is the faulting address when the processor raised them (si_code > 0).
_FAULTS = {4: "SIGILL", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV"}
INSTRUCTIONS_BEFORE = 5


@dataclass(frozen=True)
class Instruction:
    """One disassembled line, as `u` shows it; `faulting` marks the instruction at the pc."""

    address: int
    text: str
    faulting: bool


def _signed(si_code: int) -> int:
    """si_code is an int; the record may keep it unsigned."""
    return si_code - (1 << 32) if si_code >= 1 << 31 else si_code


def fault_address(record: ExceptionRecord) -> int | None:
    """si_addr of a processor fault; None for other signals and for a fault signal sent by
    kill(2) or raise(3) (si_code <= 0: no address)."""
    code = _signed(record.si_code)
    if record.signo not in _FAULTS or code <= 0 or code == 0x80:
        return None
    info = record.exception_information
    address = info[1] if record.exception_code == STATUS_ACCESS_VIOLATION else info[2]
    return address & (1 << 64) - 1


@dataclass(frozen=True)
class CrashReport:
    """A crash, as build_crash_report found it."""

    pid: int
    tid: int
    signo: int
    si_code: int
    description: str  # the exception's words: "Access violation"
    address: int | None  # the faulting address (None: not a processor fault)
    region: MemoryRegion | None  # what holds `address`
    registers: dict[str, int | None]
    instructions: tuple[Instruction, ...]
    crashed: ThreadStack
    others: tuple[ThreadStack, ...]
    modules: tuple[Module, ...]

    @property
    def signal_name(self) -> str:
        return signal_name(self.signo)

    def text(self) -> str:
        """The report as the CLI prints it to stderr."""
        top = self.crashed.frames[0].symbol if self.crashed.frames else ""
        where = f" at {top}" if top else ""
        parts = [
            f"pydbg: crash: {self.signal_name} ({self.signo}), {self.description}, in "
            f"process {self.pid} thread {self.tid}{where}\n"
            f"si_code:          {si_code_words(self.signo, self.si_code)}\n"
        ]
        if self.address is not None:
            parts.append(f"Faulting address: {hex64(self.address)}\n")
            if self.region is not None:
                parts.append(_indent(describe_region(self.address, self.region)))
        parts.append("\nRegisters:\n" + "\n".join(register_lines(self.registers)) + "\n")
        if self.instructions:
            lines = [("=> " if insn.faulting else "   ") + insn.text for insn in self.instructions]
            parts.append("\nInstructions (=> the faulting one):\n" + "\n".join(lines) + "\n")
        parts.append("\n" + self.crashed.text(f"Stack of thread {self.tid} (crashed)"))
        for stack in self.others:
            parts.append("\n" + stack.text(f"Stack of thread {stack.tid}"))
        parts.append("\n" + modules_text(list(self.modules)))
        return "".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The report as the `crash` record of pydbg.reports.jsonl."""
        return {
            "type": "crash",
            "pid": self.pid,
            "tid": self.tid,
            "signal": self.signo,
            "signal_name": self.signal_name,
            "si_code": self.si_code,
            "si_code_text": si_code_words(self.signo, self.si_code),
            "description": self.description,
            "address": self.address,
            "mapping": None if self.region is None else _region_json(self.region),
            "registers": self.registers,
            "instructions": [
                {"address": i.address, "text": i.text, "faulting": i.faulting}
                for i in self.instructions
            ],
            "threads": [
                {**self.crashed.to_json(), "crashed": True},
                *({**stack.to_json(), "crashed": False} for stack in self.others),
            ],
            "modules": [module_json(module) for module in self.modules],
        }


def _indent(text: str) -> str:
    return "".join("    " + line + "\n" for line in text.splitlines())


def _region_json(region: MemoryRegion) -> dict[str, Any]:
    mapped = region.state != MemoryState.FREE
    return {
        "base": region.base,
        "end": region.end,
        "mapped": mapped,
        "usage": usage(region),
        "perms": region.perms or None,
        "path": region.path or None,
    }


def _instructions(client: DebugClient, pc: int) -> tuple[Instruction, ...]:
    """The instruction at pc and the ones before it; fewer where they cannot be found."""
    control = client.control
    start = pc
    for before in range(INSTRUCTIONS_BEFORE, 0, -1):
        try:
            start = control.get_near_instruction(pc, -before)
            break
        except PydbgError:
            continue
    out = []
    address = start
    while address <= pc:
        try:
            text, following = control.disassemble(address)
        except PydbgError:
            break
        out.append(Instruction(address, text, address == pc))
        address = following
    return tuple(out)


def build_crash_report(client: DebugClient) -> CrashReport:
    """The report of the exception the client is stopped at (its last event); the current
    thread should be the crashing one, as it is at the event.  Raises EngineError when the
    last event is no signal."""
    info = client.control.get_last_event_information()
    if info is None or not isinstance(info.extra, LastEventException):
        raise EngineError("a crash report needs the targets stopped at an exception")
    record = info.extra.exception_record
    if not record.signo:
        raise EngineError("a crash report needs an exception raised by a signal")
    objects = client.system_objects
    address = fault_address(record)
    region = None
    if address is not None:
        try:
            region = client.data_spaces.query_virtual(address)
        except PydbgError:
            region = None
    names = list(SHOWN_REGISTERS)
    values: list[int | None] = []
    for name in names:
        try:
            values.append(client.registers.get_value(name))
        except PydbgError:
            values.append(None)
    registers = dict(zip(names, values, strict=True))
    pc = registers["rip"]
    crashed = thread_stack(client)
    others = tuple(s for s in thread_stacks(client) if s.engine_id != crashed.engine_id)
    return CrashReport(
        pid=objects.get_current_process_system_id(),
        tid=objects.get_current_thread_system_id(),
        signo=record.signo,
        si_code=_signed(record.si_code),
        description=record.describe(),
        address=address,
        region=region,
        registers=registers,
        instructions=_instructions(client, pc) if pc is not None else (),
        crashed=crashed,
        others=others,
        modules=tuple(client.symbols.modules()),
    )
