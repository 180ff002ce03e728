"""The engine's breakpoints: ids, where each one is planted, and what a hit means.

Planting (spec §6.8, §9.3):

* A code breakpoint that is enabled, placed and not deferred has an int3 at its address in
  its process (and in the fork children that inherited it).  The native core keeps the
  original byte, hides the int3 from reads, folds writes into the saved byte, steps threads
  off it with every other thread stopped, and removes it on detach, exec and close; this
  module only decides when it is inserted and removed (reference-counted, so two
  breakpoints at one address share the byte).
* A data breakpoint takes one of the four debug-register slots of its process; the native
  core programs the slot into every thread, including threads created later.

Deciding a hit (`hit`): each breakpoint at the site, by id, is checked against its enabled
flag, GO_ONLY (not while stepping), match thread and condition; a hit that passes counts in
`hit_count` and, under plain execution, toward the pass count; the first breakpoint whose
pass count is reached triggers, and becomes one `BreakpointHit` event.  A hit that triggers
nothing is resumed as if it never happened.

Native decisions: when a site has one breakpoint and its match thread, pass count and
condition are data (a register or memory word compared with a number), the native core
decides each hit itself and only reports the ones that trigger; nothing enters Python for
the others.  Counts are then read back from the core.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import psutil

from pydbg.breakpoints import Breakpoint, BreakpointError, Condition
from pydbg.constants import (
    DEBUG_ANY_ID,
    DEBUG_BREAK_EXECUTE,
    DEBUG_BREAK_READ,
    DEBUG_BREAKPOINT_CODE,
    DEBUG_BREAKPOINT_DATA,
    DEBUG_BREAKPOINT_DEFERRED,
    DEBUG_BREAKPOINT_ENABLED,
    DEBUG_BREAKPOINT_GO_ONLY,
    DEBUG_BREAKPOINT_ONE_SHOT,
    DEBUG_CES_BREAKPOINTS,
    OutputMask,
)
from pydbg.engine import events as ev
from pydbg.engine.traps import EFLAGS_RF, TrapLedger
from pydbg.errors import PydbgError, UnknownSymbolError

if TYPE_CHECKING:
    from pydbg.engine.notify import ClientSlot, Notifier
    from pydbg.engine.targets import Process, TargetTable, Thread

__all__ = ["EFLAGS_RF", "BreakpointTable", "Language", "NativeCondition", "compile_condition"]

SLOTS = 4  # x86 debug registers DR0..DR3
_HW_EXECUTE, _HW_WRITE, _HW_READWRITE = 0, 1, 3
_ACCESS_TO_HW = {DEBUG_BREAK_EXECUTE: _HW_EXECUTE, DEBUG_BREAK_READ: _HW_READWRITE}

# `@reg OP number` / `by(addr) OP number` ...: the condition forms the native core decides.
_NATIVE_FORM = re.compile(
    r"^\s*(?:@(?P<reg>[a-z][a-z0-9]*)|(?P<fn>by|wo|dwo|qwo|poi)\((?P<addr>.+)\))"
    r"\s*(?P<op>==|!=|<=|>=|<|>)\s*(?P<value>[^=<>!]+?)\s*$",
    re.IGNORECASE,
)
_FN_SIZES = {"by": 1, "wo": 2, "dwo": 4, "qwo": 8, "poi": 8}


@dataclass(frozen=True)
class NativeCondition:
    """A condition in the form the native core evaluates (unsigned 64-bit compares)."""

    register: str | None = None
    mem_address: int = 0
    mem_size: int = 0
    op: str = "=="
    value: int = 0

    def as_kwargs(self) -> dict[str, Any]:
        if self.register is not None:
            return {"register": self.register, "reg_op": self.op, "reg_value": self.value}
        return {
            "mem_address": self.mem_address,
            "mem_size": self.mem_size,
            "mem_op": self.op,
            "mem_value": self.value,
        }


def compile_condition(
    text: str, evaluate: Callable[[str], int], registers: tuple[str, ...]
) -> NativeCondition | None:
    """The native form of a condition string, or None if it needs the MASM evaluator.
    The address and the number are evaluated once, now."""
    match = _NATIVE_FORM.match(text)
    if match is None:
        return None
    value = evaluate(match["value"]) & (1 << 64) - 1
    if match["reg"] is not None:
        name = match["reg"].lower()
        if name not in registers:
            return None  # a sub-register or an xmm: the evaluator reads those
        return NativeCondition(register=name, op=match["op"], value=value)
    address = evaluate(match["addr"])
    size = _FN_SIZES[match["fn"].lower()]
    return NativeCondition(mem_address=address, mem_size=size, op=match["op"], value=value)


@dataclass(frozen=True)
class Language:
    """The command language as the breakpoints use it, without knowing it: supplied by
    whoever owns the language (pydbg.client wires pydbg.commands in), so that the engine
    imports nothing above it.

    `evaluate` gives the value of an expression (an offset expression, a MASM condition)
    and raises pydbg.errors.UnknownSymbolError when it names something no loaded module defines
    yet (the breakpoint is then deferred until a module load), another PydbgError when the
    text cannot be evaluated.  `check_condition` and `check_command` read a condition or a
    command without running it and raise a PydbgError that says what is wrong.
    """

    evaluate: Callable[[str], int]
    check_condition: Callable[[str], None]
    check_command: Callable[[str], None]


class _Engine(Protocol):
    """What the breakpoint table needs of the engine."""

    current: Thread | None

    @property
    def backend(self) -> Any: ...

    @property
    def targets(self) -> TargetTable: ...

    @property
    def notifier(self) -> Notifier: ...

    def output(self, mask: int, text: str) -> None: ...

    def stop_for_change(self) -> None: ...

    def current_process(self, what: str) -> Process: ...


class BreakpointTable:
    """Every breakpoint of one engine."""

    def __init__(self, engine: _Engine, traps: TrapLedger) -> None:
        self.engine = engine
        self.traps = traps  # which threads sit at which trap (moving a site moves them)
        # The command language (offset expressions, conditions, commands); None until a
        # client installs it.
        self.language: Language | None = None
        self.by_id: dict[int, Breakpoint] = {}
        # (pid, address) -> code breakpoints planted there, by id.
        self.sites: dict[tuple[int, int], list[Breakpoint]] = {}
        # Where each planted breakpoint is: code -> (pids, address); data -> (pids, slot).
        self._planted: dict[Breakpoint, tuple[list[int], int]] = {}
        # pid -> the data breakpoint in each debug-register slot.
        self._slots: dict[int, list[Breakpoint | None]] = {}
        # (pid, address) whose hits the native core decides -> (hits, matches) at setup.
        self._native: dict[tuple[int, int], tuple[int, int]] = {}
        # (pid, address) of int3 bytes removed lately: a trap there that was collected
        # before the removal is stale, not a foreign int3 (hazards §9.3).
        self.removed_sites: dict[tuple[int, int], None] = {}
        # Code breakpoints served by a debug register instead of their int3 -> the slot;
        # and (pid, address) -> that breakpoint.
        self._served: dict[Breakpoint, int] = {}
        self.hw_sites: dict[tuple[int, int], Breakpoint] = {}
        # Whether hot code breakpoints may take a free debug register (a knob for
        # measuring the int3 path, and for targets that use debug registers themselves).
        self.serve_by_register = True

    def __iter__(self) -> Iterator[Breakpoint]:
        return iter(sorted(self.by_id.values(), key=lambda bp: bp.get_id()))

    def __len__(self) -> int:
        return len(self.by_id)

    @property
    def backend(self) -> Any:
        return self.engine.backend

    # -- life -----------------------------------------------------------------------------------

    def add(self, break_type: int, desired_id: int, adder: ClientSlot | None) -> Breakpoint:
        if break_type not in (DEBUG_BREAKPOINT_CODE, DEBUG_BREAKPOINT_DATA):
            raise BreakpointError(
                f"breakpoint type {break_type!r} is not DEBUG_BREAKPOINT_CODE or _DATA "
                "(time-travel and inline breakpoints do not exist on Linux)"
            )
        process = self.engine.current_process("add_breakpoint")
        if desired_id == DEBUG_ANY_ID:
            bp_id = next(i for i in range(len(self.by_id) + 1) if i not in self.by_id)
        elif not isinstance(desired_id, int) or not 0 <= desired_id < DEBUG_ANY_ID:
            raise BreakpointError(f"{desired_id!r} is not a breakpoint id")
        elif desired_id in self.by_id:
            raise BreakpointError(f"breakpoint id {desired_id} is taken")
        else:
            bp_id = desired_id
        bp = Breakpoint(self, bp_id, break_type, adder, process)
        self.by_id[bp_id] = bp
        self._notify(bp_id)
        return bp

    def remove(self, bp: Breakpoint) -> None:
        if bp.removed or self.by_id.get(bp.get_id()) is not bp:
            raise BreakpointError(f"breakpoint {bp.get_id()} is not in this engine")
        self._unplant(bp)
        bp.removed = True
        del self.by_id[bp.get_id()]
        self._notify(bp.get_id())

    def get(self, bp_id: int) -> Breakpoint:
        bp = self.by_id.get(bp_id)
        if bp is None:
            known = ", ".join(str(i) for i in sorted(self.by_id)) or "none"
            raise BreakpointError(f"no breakpoint has id {bp_id} (ids: {known})")
        return bp

    def clear(self) -> None:
        """The session ended: the native core already restored every byte."""
        for bp in self.by_id.values():
            bp.removed = True
        self.by_id.clear()
        self.sites.clear()
        self._planted.clear()
        self._slots.clear()
        self._native.clear()
        self.removed_sites.clear()
        self._served.clear()
        self.hw_sites.clear()

    def _notify(self, bp_id: int) -> None:
        self.engine.notifier.engine_state(DEBUG_CES_BREAKPOINTS, bp_id)

    # -- configuration (called by Breakpoint's setters) -----------------------------------------

    def apply(self, bp: Breakpoint, old_flags: int) -> None:
        try:
            self._sync(bp)
        except BaseException:
            bp.flags = old_flags
            with contextlib.suppress(PydbgError):
                self._sync(bp)
            raise
        self._notify(bp.get_id())

    def changed(self, bp: Breakpoint) -> None:
        self._sync_native(bp)
        self._notify(bp.get_id())

    def move(self, bp: Breakpoint, offset: int, expression: str) -> None:
        """Place bp at offset (validated against its process first)."""
        self._validate(bp, offset, bp.data_size)
        old = (bp.offset, bp.expression, bp.flags)
        self._unplant(bp)
        bp.offset, bp.expression = offset, expression
        bp.flags &= ~DEBUG_BREAKPOINT_DEFERRED
        try:
            self._sync(bp)
        except BaseException:
            bp.offset, bp.expression, bp.flags = old
            with contextlib.suppress(PydbgError):
                self._sync(bp)
            raise
        self._notify(bp.get_id())

    def move_to_expression(self, bp: Breakpoint, expression: str) -> None:
        address = self._evaluate_offset(expression)
        if address is None:
            self._unplant(bp)
            bp.offset, bp.expression = None, expression
            bp.flags |= DEBUG_BREAKPOINT_DEFERRED
            self._notify(bp.get_id())
            return
        self.move(bp, address, expression)

    def _evaluate_offset(self, expression: str) -> int | None:
        """The address an offset expression names now, or None if it cannot be evaluated
        yet (a symbol of a module that is not loaded)."""
        try:
            return self._language("expressions").evaluate(expression)
        except UnknownSymbolError:
            return None  # a name no loaded module defines (yet)
        except ValueError as exc:  # the text has no value (syntax, division by zero...)
            raise BreakpointError(f"bad breakpoint expression {expression!r}: {exc}") from exc

    def _language(self, what: str) -> Language:
        if self.language is None:
            raise BreakpointError(f"no client to read breakpoint {what}")
        return self.language

    def reevaluate(self) -> None:
        """Modules changed: deferred breakpoints with an expression try again."""
        for bp in list(self):
            if bp.flags & DEBUG_BREAKPOINT_DEFERRED and bp.expression:
                with contextlib.suppress(BreakpointError, PydbgError):
                    address = self._evaluate_offset(bp.expression)
                    if address is not None:
                        self.move(bp, address, bp.expression)

    def set_data(self, bp: Breakpoint, size: int, access: int) -> None:
        old = (bp.data_size, bp.access)
        self._unplant(bp)
        bp.data_size, bp.access = size, access
        try:
            self._sync(bp)
        except BaseException:
            bp.data_size, bp.access = old
            with contextlib.suppress(PydbgError):
                self._sync(bp)
            raise
        self._notify(bp.get_id())

    def check_thread_id(self, engine_tid: int) -> None:
        if self.engine.targets.thread_by_engine_id(engine_tid) is None:
            raise BreakpointError(f"no thread has engine id {engine_tid}")

    def check_condition(self, bp: Breakpoint, condition: Condition | None) -> None:
        if not isinstance(condition, str):
            return
        check = self._language("conditions").check_condition
        try:
            check(condition)
        except PydbgError as exc:
            raise BreakpointError(f"bad breakpoint condition {condition!r}: {exc}") from exc

    def check_command(self, command: str) -> None:
        if not isinstance(command, str):
            raise BreakpointError(f"a breakpoint command is a string, not {command!r}")
        check = self._language("commands").check_command
        try:
            check(command)
        except PydbgError as exc:
            raise BreakpointError(f"bad breakpoint command {command!r}: {exc}") from exc

    # -- counts -----------------------------------------------------------------------------------

    def hit_count(self, bp: Breakpoint) -> int:
        return bp.hits + self._native_counts(bp)[1]

    def passes(self, bp: Breakpoint) -> int:
        return bp.passes + self._native_counts(bp)[1]

    def reset_counts(self, bp: Breakpoint) -> None:
        hits = self._native_counts(bp)[1]
        bp.hits += hits
        planted = self._planted.get(bp)
        if planted is not None:
            for pid in planted[0]:
                key = (pid, self._site_address(bp, planted))
                if key in self._native:
                    self._native[key] = self.backend.breakpoint_counts(*key)

    def _native_counts(self, bp: Breakpoint) -> tuple[int, int]:
        planted = self._planted.get(bp)
        if planted is None or not self._native:
            return 0, 0
        hits = matches = 0
        address = self._site_address(bp, planted)
        for pid in planted[0]:
            base = self._native.get((pid, address))
            if base is None:
                continue
            with contextlib.suppress(PydbgError):
                now = self.backend.breakpoint_counts(pid, address)
                hits += now[0] - base[0]
                matches += now[1] - base[1]
        return hits, matches

    @staticmethod
    def _site_address(bp: Breakpoint, planted: tuple[list[int], int]) -> int:
        return planted[1] if bp.is_code else (bp.offset or 0)

    # -- planting ---------------------------------------------------------------------------------

    def _wanted(self, bp: Breakpoint) -> bool:
        return (
            not bp.removed
            and bp.flags & DEBUG_BREAKPOINT_ENABLED != 0
            and not bp.flags & DEBUG_BREAKPOINT_DEFERRED
            and bp.offset is not None
            and bp.process.pid in self.engine.targets.processes
        )

    def _sync(self, bp: Breakpoint) -> None:
        wanted = self._wanted(bp)
        planted = self._planted.get(bp)
        if planted is not None and not wanted:
            self._unplant(bp)
        elif planted is None and wanted:
            self.engine.stop_for_change()
            if bp.is_code:
                self._plant_code(bp)
            else:
                self._plant_data(bp)
        self._sync_native(bp)

    def _validate(self, bp: Breakpoint, offset: int, size: int) -> None:
        pid = bp.process.pid
        if not bp.is_code and offset % max(size, 1):
            raise BreakpointError(
                f"address {offset:#x} is not aligned to the breakpoint's size ({size} bytes), "
                "which a debug register needs"
            )
        region = _region_of(pid, offset)
        if region is None:
            raise BreakpointError(f"address {offset:#x} is not mapped in process {pid}")
        if bp.is_code and "x" not in region:
            raise BreakpointError(
                f"address {offset:#x} is not executable in process {pid} (mapped {region}); "
                "a code breakpoint there would never be reached"
            )

    def _plant_code(self, bp: Breakpoint) -> None:
        assert bp.offset is not None
        address = bp.offset
        served = self.hw_sites.get((bp.process.pid, address))
        if served is not None:
            self._serve(served, False)  # two breakpoints at one address share the int3
        pids = [bp.process.pid]
        done: list[int] = []
        try:
            for pid in pids:
                self.backend.insert_breakpoint(pid, address)
                done.append(pid)
        except PydbgError as exc:
            for pid in done:
                with contextlib.suppress(PydbgError):
                    self.backend.remove_breakpoint(pid, address)
            raise BreakpointError(
                f"cannot plant breakpoint {bp.get_id()} at {address:#x}: {exc}"
            ) from exc
        self._planted[bp] = (pids, address)
        for pid in pids:
            self.removed_sites.pop((pid, address), None)
            site = self.sites.setdefault((pid, address), [])
            site.append(bp)
            site.sort(key=lambda b: b.get_id())

    def _plant_data(self, bp: Breakpoint) -> None:
        assert bp.offset is not None
        pid = bp.process.pid
        slots = self._slots.setdefault(pid, [None] * SLOTS)
        if None not in slots:
            for served in [b for b in slots if b is not None and b in self._served]:
                self._serve(served, False)  # it goes back to its int3
                break
        if None not in slots:
            used = ", ".join(str(b.get_id()) for b in slots if b is not None)
            raise BreakpointError(
                f"all {SLOTS} debug registers of process {pid} are taken (breakpoints {used}); "
                "disable or remove one first"
            )
        slot = slots.index(None)
        hw = _ACCESS_TO_HW.get(bp.access, _HW_WRITE)
        try:
            self.backend.set_process_hw_breakpoint(pid, slot, bp.offset, hw, bp.data_size)
        except PydbgError as exc:
            raise BreakpointError(
                f"cannot program a debug register for breakpoint {bp.get_id()}: {exc}"
            ) from exc
        slots[slot] = bp
        self._planted[bp] = ([pid], slot)

    def _unplant(self, bp: Breakpoint) -> None:
        planted = self._planted.pop(bp, None)
        if planted is None:
            return
        pids, where = planted
        if bp in self._served:
            self._unserve(bp, where)
        if bp.is_code:
            for pid in pids:
                self._absorb(bp, pid, where)
                site = self.sites.get((pid, where))
                if site is None or bp not in site:
                    continue
                site.remove(bp)
                if not site:
                    del self.sites[(pid, where)]
                    self._forget_later(pid, where)
                if pid in self.engine.targets.processes:
                    self.engine.stop_for_change()
                    with contextlib.suppress(PydbgError):
                        self.backend.remove_breakpoint(pid, where)
        else:
            for pid in pids:
                slots = self._slots.get(pid)
                if slots is not None and slots[where] is bp:
                    slots[where] = None
                self._absorb(bp, pid, bp.offset or 0)
                if pid in self.engine.targets.processes:
                    self.engine.stop_for_change()
                    with contextlib.suppress(PydbgError):
                        self.backend.clear_process_hw_breakpoint(pid, where)

    def _absorb(self, bp: Breakpoint, pid: int, address: int) -> None:
        """Stop native decisions at a site, keeping what the core counted."""
        matches = self._fold_native(pid, address)
        bp.hits += matches
        bp.passes += matches

    # -- debug registers serving code breakpoints -------------------------------------------------

    def _serve(self, bp: Breakpoint, wanted: bool) -> None:
        """Serve a code breakpoint by a free debug register of its process (one stop per
        hit: the trap comes before the instruction and the kernel's resume flag lets it
        run, so there is no int3 to step over), or give the register back.  Only
        breakpoints whose hits the core decides are served: those are the ones hit often
        for few reports.  A data breakpoint that needs the register takes it back."""
        planted = self._planted.get(bp)
        if planted is None or not bp.is_code:
            return
        pids, address = planted
        pid = bp.process.pid
        if wanted and bp not in self._served:
            slots = self._slots.setdefault(pid, [None] * SLOTS)
            if None not in slots or len(pids) != 1 or (pid, address) in self.hw_sites:
                return
            slot = slots.index(None)
            self.engine.stop_for_change()
            try:
                self.backend.set_process_hw_breakpoint(pid, slot, address, _HW_EXECUTE, 1)
            except (PydbgError, AttributeError):
                return
            slots[slot] = bp
            self._served[bp] = slot
            self.hw_sites[(pid, address)] = bp
            for tid in self.traps.threads_trapped_at(pid, address):
                # Stopped at the int3 being lifted, about to run that instruction: the
                # resume flag keeps the register from trapping on it (a second report of
                # the same hit).
                with contextlib.suppress(PydbgError):
                    eflags = self.backend.get_reg(tid, "eflags")
                    self.backend.set_reg(tid, "eflags", eflags | EFLAGS_RF)
            site = self.sites.get((pid, address))
            if site == [bp]:
                del self.sites[(pid, address)]
                # Traps at the int3 still queued: their threads meet the register instead.
                self._forget_later(pid, address)
                with contextlib.suppress(PydbgError):
                    self.backend.remove_breakpoint(pid, address)
        elif not wanted and bp in self._served:
            self._unserve(bp, address)
            self.engine.stop_for_change()
            with contextlib.suppress(PydbgError):
                self.backend.insert_breakpoint(pid, address)
                self.sites.setdefault((pid, address), []).append(bp)

    def _unserve(self, bp: Breakpoint, address: int) -> None:
        slot = self._served.pop(bp)
        pid = bp.process.pid
        self.hw_sites.pop((pid, address), None)
        slots = self._slots.get(pid)
        if slots is not None and slots[slot] is bp:
            slots[slot] = None
        if pid in self.engine.targets.processes:
            self.engine.stop_for_change()
            with contextlib.suppress(PydbgError):
                self.backend.clear_process_hw_breakpoint(pid, slot)

    def served_by_register(self, bp: Breakpoint) -> bool:
        """Whether a debug register serves this code breakpoint now (pydbg)."""
        return bp in self._served

    def _forget_later(self, pid: int, address: int) -> None:
        self.removed_sites[(pid, address)] = None
        if len(self.removed_sites) > 4096:
            del self.removed_sites[next(iter(self.removed_sites))]

    def _fold_native(self, pid: int, address: int) -> int:
        """Stop native decisions at a site; return the matches the core counted."""
        base = self._native.pop((pid, address), None)
        if base is None:
            return 0
        matches = 0
        with contextlib.suppress(PydbgError):
            matches = self.backend.breakpoint_counts(pid, address)[1] - base[1]
            self.backend.clear_breakpoint_condition(pid, address)
        return matches

    # -- native decisions -------------------------------------------------------------------------

    def _native_form(self, bp: Breakpoint) -> tuple[bool, NativeCondition | None]:
        """(can the core decide bp's hits, its condition in native form)."""
        condition = bp.condition
        if condition is None:
            native = None
        elif isinstance(condition, str) and self.language is not None:
            from pydbg._native import REGISTER_NAMES

            try:
                native = compile_condition(condition, self.language.evaluate, REGISTER_NAMES)
            except PydbgError:
                return False, None
            if native is None:
                return False, None
        else:
            return False, None
        if bp.flags & (DEBUG_BREAKPOINT_ONE_SHOT | DEBUG_BREAKPOINT_GO_ONLY) or bp.command:
            # Those need the engine at each hit anyway, or change what a hit means.
            return False, None
        return True, native

    def _sync_native(self, bp: Breakpoint) -> None:
        planted = self._planted.get(bp)
        if planted is None or not hasattr(self.backend, "set_breakpoint_condition"):
            return
        pids, where = planted
        address = where if bp.is_code else (bp.offset or 0)
        if not bp.is_code and bp.access != DEBUG_BREAK_EXECUTE:
            return  # data traps: every one is worth reporting
        alone = all(self.sites.get((pid, address), [bp]) == [bp] for pid in pids)
        decidable, native = self._native_form(bp)
        trivial = native is None and bp.match_thread == DEBUG_ANY_ID and bp.pass_count <= 1
        decided = alone and decidable and not trivial
        for pid in pids:
            key = (pid, address)
            if key in self._native:
                self._absorb(bp, pid, address)
            if not decided:
                continue
            tid = 0
            if bp.match_thread != DEBUG_ANY_ID:
                thread = self.engine.targets.thread_by_engine_id(bp.match_thread)
                tid = thread.tid if thread is not None else -1
            skip = max(0, bp.pass_count - 1 - bp.passes)
            kwargs = native.as_kwargs() if native is not None else {}
            self.backend.set_breakpoint_condition(pid, address, tid=tid, skip=skip, **kwargs)
            self._native[key] = self.backend.breakpoint_counts(pid, address)
        if bp.is_code:
            self._serve(bp, decided and self.serve_by_register)

    # -- hits ---------------------------------------------------------------------------------

    def hit(
        self, process: Process, thread: Thread, address: int, stepping: bool
    ) -> ev.BreakpointHit | None:
        """A thread stopped at an int3 of `address`: the event it makes, if any."""
        site = self.sites.get((process.pid, address))
        if not site:
            return None
        return self._decide(site, process, thread, stepping, address)

    def data_hit(
        self, process: Process, thread: Thread, dr6: int, stepping: bool
    ) -> ev.BreakpointHit | None:
        slots = self._slots.get(process.pid)
        if slots is None:
            return None
        fired = [bp for i, bp in enumerate(slots) if bp is not None and dr6 & (1 << i)]
        if not fired:
            return None
        return self._decide(fired, process, thread, stepping, None)

    def served_at(self, pid: int, dr6: int) -> Breakpoint | None:
        """The register-served code breakpoint whose slot fired, if one did."""
        slots = self._slots.get(pid)
        if slots is None:
            return None
        for i, bp in enumerate(slots):
            if bp is not None and dr6 & (1 << i) and bp in self._served:
                return bp
        return None

    def owns_data_hit(self, pid: int, dr6: int) -> bool:
        slots = self._slots.get(pid)
        return slots is not None and any(
            bp is not None and dr6 & (1 << i) for i, bp in enumerate(slots)
        )

    def _decide(
        self,
        candidates: list[Breakpoint],
        process: Process,
        thread: Thread,
        stepping: bool,
        address: int | None,
    ) -> ev.BreakpointHit | None:
        triggered: Breakpoint | None = None
        for bp in list(candidates):
            if not bp.flags & DEBUG_BREAKPOINT_ENABLED:
                continue
            if stepping and bp.flags & DEBUG_BREAKPOINT_GO_ONLY:
                continue
            if bp.match_thread not in (DEBUG_ANY_ID, thread.engine_id):
                continue
            key = (process.pid, address if address is not None else (bp.offset or 0))
            native = key in self._native
            if not native:
                if not self._condition_holds(bp, thread):
                    continue
                bp.hits += 1
                if stepping:
                    # Not counted toward the pass count, but a reached count triggers.
                    if bp.passes + 1 < bp.pass_count:
                        continue
                else:
                    bp.passes += 1
                    if bp.passes < bp.pass_count:
                        continue
            if triggered is None:
                triggered = bp
        if triggered is None:
            return None
        if triggered.flags & DEBUG_BREAKPOINT_ONE_SHOT:
            self.remove(triggered)
        if triggered.stops_in_inlined and address is not None:
            thread.inline_stop = (address, 0)  # no inlined call hidden (source_lines)
        return ev.BreakpointHit(process, thread, breakpoint=triggered)

    def _condition_holds(self, bp: Breakpoint, thread: Thread) -> bool:
        condition = bp.condition
        if condition is None:
            return True
        engine = self.engine
        engine.stop_for_change()  # all-stop: the condition may read any thread
        saved = engine.current
        engine.current = thread  # the condition sees the thread that hit
        try:
            if isinstance(condition, str):
                return self._language("conditions").evaluate(condition) != 0
            return bool(condition(bp))
        except Exception as exc:  # noqa: BLE001 - reported; the breakpoint then triggers
            engine.output(
                OutputMask.ERROR,
                f"pydbg: the condition of breakpoint {bp.get_id()} raised "
                f"{type(exc).__name__}: {exc}; the breakpoint triggers\n",
            )
            return True
        finally:
            engine.current = saved

    # -- targets coming and going ---------------------------------------------------------------

    def process_forked(self, parent: Process, child: Process) -> None:
        """A debugged fork child inherited the parent's int3 bytes (the native core tracks
        them): the same breakpoints apply to it.  Debug registers are not inherited: the
        child's slots are programmed afresh."""
        for bp, (pids, where) in list(self._planted.items()):
            if parent.pid not in pids or child.pid in pids:
                continue
            if bp.is_code:
                if bp in self._served:
                    # Served by a register of the parent: the child's memory has no int3.
                    with contextlib.suppress(PydbgError):
                        self.backend.insert_breakpoint(child.pid, where)
                pids.append(child.pid)
                site = self.sites.setdefault((child.pid, where), [])
                site.append(bp)
                site.sort(key=lambda b: b.get_id())
            # Data breakpoints stay with the parent: slots are per process.

    def image_replaced(self, process: Process) -> None:
        """exec: the old image went, and with it the core's int3 bytes, conditions and
        debug registers of the process.  Its breakpoints become deferred (they come back
        when their expression evaluates again); a fork child that shared one loses its
        int3 too, and a parent's breakpoint no longer applies to a child that exec'd."""
        pid = process.pid
        self._slots.pop(pid, None)
        for bp, planted in list(self._planted.items()):
            pids = planted[0]
            if pid not in pids:
                continue
            address = self._site_address(bp, planted)
            self._served.pop(bp, None)
            self.hw_sites.pop((pid, address), None)
            self.sites.pop((pid, address), None)
            self._native.pop((pid, address), None)
            pids.remove(pid)
            if bp.process is not process:
                continue
            del self._planted[bp]
            for other in pids:
                site = self.sites.get((other, address))
                if site is not None and bp in site:
                    site.remove(bp)
                    if not site:
                        del self.sites[(other, address)]
                    with contextlib.suppress(PydbgError):
                        self.backend.remove_breakpoint(other, address)
            bp.flags |= DEBUG_BREAKPOINT_DEFERRED
            self._notify(bp.get_id())

    def module_unloaded(self, process: Process, base: int, size: int) -> None:
        """A module was unmapped: its int3 bytes went with it.  A breakpoint placed by
        an expression (`bu`) becomes deferred until the expression resolves again; one
        placed at a plain address is removed, as cdb removes `bp` breakpoints."""
        for bp, (pids, where) in list(self._planted.items()):
            address = where if bp.is_code else (bp.offset or 0)
            if process.pid not in pids or not base <= address < base + size:
                continue
            if not bp.is_code:
                continue  # a watchpoint on unmapped memory just never fires; keep it
            # The native core forgets the site; writing the byte back fails harmlessly.
            self._unplant(bp)
            if bp.expression:
                bp.offset = None
                bp.flags |= DEBUG_BREAKPOINT_DEFERRED
                self._notify(bp.get_id())
            else:
                self.remove(bp)

    def freeze_counts(self, process: Process) -> None:
        """The process is about to leave (its exit stop, a detach): fold the hit counts
        the native core keeps into the breakpoints, while the core still knows them."""
        for bp in list(self._planted):
            if bp.process is not process:
                continue
            planted = self._planted[bp]
            address = self._site_address(bp, planted)
            hits, passes = self.hit_count(bp), self.passes(bp)
            for pid in planted[0]:
                if (pid, address) in self._native:
                    with contextlib.suppress(PydbgError):
                        self._native[(pid, address)] = self.backend.breakpoint_counts(pid, address)
            bp.hits, bp.passes = hits, passes

    def process_gone(self, process: Process) -> None:
        """A process left the session (exited, detached or killed).  Its breakpoints
        are removed; their objects keep their last counts for reading."""
        self.freeze_counts(process)
        self._slots.pop(process.pid, None)
        for bp in [b for b in self._served if b.process is process]:
            del self._served[bp]
        for key in [k for k in self.hw_sites if k[0] == process.pid]:
            del self.hw_sites[key]
        for key in [k for k in self.sites if k[0] == process.pid]:
            del self.sites[key]
        for key in [k for k in self._native if k[0] == process.pid]:
            del self._native[key]
        for bp, (pids, _) in list(self._planted.items()):
            if process.pid in pids:
                pids.remove(process.pid)
                if not pids:
                    del self._planted[bp]
        for bp in list(self.by_id.values()):
            if bp.process is process:
                bp.removed = True
                del self.by_id[bp.get_id()]
                self._notify(bp.get_id())


def _region_of(pid: int, address: int) -> str | None:
    """The permissions of the mapping that holds address, or None if none does."""
    try:
        for region in psutil.Process(pid).memory_maps(grouped=False):
            start, stop = (int(x, 16) for x in region.addr.split("-"))
            if start <= address < stop:
                return str(region.perms)
    except (psutil.Error, OSError, ValueError):
        return "rwxp"  # cannot tell: let the native insert decide
    return None
