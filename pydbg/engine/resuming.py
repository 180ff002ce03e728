"""Resuming the targets after a decision: the signals to deliver, threads to restart
with PTRACE_LISTEN, the step plan or a plain cont_all (PTRACE_SYSCALL for the threads
pydbg.engine.syscalls.decide names, which also says the syscall stops the core passes on),
and the set of signals the native core may pass on without reporting them (kept in step
with everything it depends on).
"""

from __future__ import annotations

import contextlib

from pydbg.engine import events as ev
from pydbg.engine import fastpaths, syscalls
from pydbg.engine.arming import Arming
from pydbg.engine.backend import NativeEvent
from pydbg.errors import (
    PydbgError,
)
from pydbg.log import ENGINE as _LOG


class Resuming(Arming):
    """The resume step of the event path."""

    def _sync_native_pass(self) -> None:
        """Give the native core the signals it may pass on unreported, recomputed when
        anything they depend on changed: filters, callbacks and interest masks, a step
        plan, the targets; and once after each signal the engine decided, whose target may
        have caught it meanwhile (so it no longer earns a second chance)."""
        backend = self._backend
        if backend is None or backend.closed:
            return
        notifier = self.notifier
        key = (
            self._filters_version,
            notifier.interests,
            len(notifier.extensions),
            self._plan is None,
            tuple(self.targets.processes),
            len(self.shadows),
        )
        event = self.last_event
        recheck = (
            isinstance(event, ev.ExceptionEvent)
            and event.signo != 0
            and event is not self._pass_checked
        )
        if key == self._pass_key and not recheck:
            return
        self._pass_key = key
        self._pass_checked = event
        backend.set_pass_signals(fastpaths.native_pass_signals(self))

    def _resume(self) -> NativeEvent | None:
        """Run the targets in the current mode; return a synchronous step's record."""
        self._sync_native_pass()
        backend = self.backend
        if self._listen:
            for tid in sorted(self._listen):
                # PydbgError: it left the group stop (or the world) meanwhile.
                with contextlib.suppress(PydbgError):
                    backend.listen(tid)
            self._listen.clear()
        signals: dict[int, int] = {}
        if self._signals:
            signals = {tid: sig for tid, sig in self._signals.items() if self._alive_tid(tid)}
            self._signals.clear()
        plan = self._plan
        for each in self.targets.threads():
            each.inline_stop = None  # where a line step left it: valid until it runs
        tracing = syscalls.decide(self)  # (the one rule: syscalls.py)
        if (backend, tracing.report) != self._syscall_pass:
            backend.set_syscall_pass(tracing.report)
            self._syscall_pass = (backend, tracing.report)
        syscall = tracing.threads
        if not syscall and self._syscalls_traced:
            # Their syscall exits will not stop now: an entry seen is history, and must
            # not name the exit of a later call that tracing meets midway.
            for each in self.targets.threads():
                each.syscall_entry = None
        self._syscalls_traced = bool(syscall)
        if self.breakpoints.sites or self.breakpoints.hw_sites:
            thread = plan.thread if plan is not None else self.current
            # (A thread that trapped at an int3 is stepped over it by the core.)
            if (
                thread is not None
                and self.traps.trapped.pop(thread.tid, None) is None
                and self._alive(thread)
            ):
                with contextlib.suppress(PydbgError):
                    self._note_site(thread.tid, thread.process.pid, backend.get_pc(thread.tid))
        if plan is not None and self._alive(plan.thread):
            if self._log:
                _LOG.debug("resume: %r, signals %s", plan, signals)
            try:
                record = plan.run(backend, signals, syscall)
            except ProcessLookupError:
                # The stepping thread was killed while stopped (a group exit): there is
                # nothing left to step; let the rest run to report the exit.
                self._cancel_plan_quietly()
            else:
                self._signals.update(signals)  # those of threads the step left stopped
                self._running = plan.runs_all
                return record if record is None else self._collected([record])[0]
        self._plan = None
        if self._log:
            _LOG.debug("resume: cont_all, signals %s, syscall stops %s", signals, sorted(syscall))
        backend.cont_all(signals=signals, syscall=syscall)
        self._running = True
        return None
