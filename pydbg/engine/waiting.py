"""WaitForEvent (spec §4.2): the loop that drives the event path.

The path is one way; each step returns to the loop, none calls back into an earlier one::

    native record --translate--> events + actions --decide--> votes --apply--> resume
     (backend.wait)  (translate.py)   (_take)        (deciding.py,  (deciding)  (resuming.py)
                                                      dispatch.py)

1. `_wait_native` collects records from the backend; they queue in `_records`.
2. `_take(record)`: the trap ledger (traps.py) notes the stop; an active step plan
   (stepping.py) may claim the record; otherwise `translate.translate(record, backend,
   context, stepping)` returns a `Translation`: the events to decide and the actions for
   the session (restart a group stop with PTRACE_LISTEN, pass a shadow's signal on, let an
   unfollowed child go, discard a process).  Translation gets narrow collaborators (the
   target table, the trap ledger, the module registry, the breakpoint table), never the
   session.  `_carry_out` does the actions; the events queue in `_events`, every thread
   stopped first (all-stop).
3. `_decide(event)` (deciding.py): the event's thread becomes current and the dispatcher
   (dispatch.py) collects the votes of the filter, its command and the callbacks; votes
   cast by set_execution_status or commands are combined in, and the result is applied:
   a break ends the wait, anything else arms the next resume (arming.py, delivery.py).
4. `_resume()` (resuming.py) runs the targets in the armed mode, and the loop waits again.

The fast loops (`_fast_go`, `_fast_step`, fastpaths.signal_go) take the same steps inline
for one thread, and hand over to this loop for anything they do not serve.

Debug log (pydbg.log; PYDBG_LOG=engine,native,commands or all): the `pydbg.native` channel
logs each record as it leaves the backend's wait, `pydbg.engine` what `_take` made of it,
each event `_decide` decides, the votes and the decision, each resume and each break; the
fast loops log the same when the channel is on.  Whether a channel is on is looked up once
per wait_for_event.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence

from pydbg._native import EventKind
from pydbg.constants import (
    DEBUG_CES_CURRENT_THREAD,
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_STATUS_WAIT_TIMEOUT,
    DebugEvent,
    DebugNotify,
    DebugSession,
    DebugStatus,
)
from pydbg.engine import events as ev
from pydbg.engine import fastpaths, syscalls, translate
from pydbg.engine.backend import NativeEvent
from pydbg.engine.deciding import Deciding
from pydbg.engine.dispatch import describe
from pydbg.engine.stepping import Outcome, StepMode, StepPlan
from pydbg.engine.syscalls import tracing
from pydbg.errors import (
    DumpTargetReadOnlyError,
    EngineError,
    InsideWaitError,
    NoTargetError,
    PtraceError,
    PydbgError,
    SessionFailedError,
)
from pydbg.log import DEBUG as _DEBUG
from pydbg.log import ENGINE as _LOG
from pydbg.log import NATIVE as _NATIVE_LOG

_KIND_STEP = EventKind.STEP

_KIND_BREAKPOINT = EventKind.BREAKPOINT

_KIND_HW_BREAKPOINT = EventKind.HW_BREAKPOINT

_KIND_SYSCALL = EventKind.SYSCALL

_BREAKPOINT_EVENT = int(DebugEvent.BREAKPOINT)

_SYSCALL_EVENT = int(DebugEvent.SYSCALL)

_GO = int(DebugStatus.GO)
_S_BREAK = DebugStatus.BREAK  # (a module constant: enum attribute reads cost ~150 ns)

_CHANGE_ENGINE_STATE = int(DebugEvent.CHANGE_ENGINE_STATE)

_STATE_CHANGES = _CHANGE_ENGINE_STATE | int(DebugEvent.CHANGE_DEBUGGEE_STATE)

_MODE_BRANCH, _MODE_INTO = StepMode.BRANCH, StepMode.INTO


class Waiting(Deciding):
    """WaitForEvent, its fast loops, and taking native records."""

    def wait_for_event(self, timeout: float | None = None) -> bool:
        """WaitForEvent.  True: an event broke in, the session is accessible.  False: the
        timeout passed (targets still running), an exit interrupt was issued, or the
        session ended during the wait (get_execution_status() is then NO_DEBUGGEE)."""
        if threading.get_ident() != self.owner or self.ended_reentrant:
            self.check_thread("wait_for_event")
        if self.inside_wait:
            raise InsideWaitError(
                "wait_for_event called inside a wait: callbacks and the commands they run "
                "cannot wait; return a DEBUG_STATUS_* instead"
            )
        if timeout is not None and timeout < 0:
            raise EngineError(f"timeout must be >= 0 seconds or None, not {timeout}")
        if not self.targets.processes and not self._pending_announce:
            raise NoTargetError("wait_for_event: no target; create or attach a process first")
        if self._status == _S_BREAK and not self._queued():
            return True  # nothing armed: the session simply stays broken in (§4.2)
        if self.dump is not None:
            return self._wait_dump()
        deadline = None if timeout is None else time.monotonic() + timeout
        self._log = _LOG.isEnabledFor(_DEBUG)
        self._log_native = _NATIVE_LOG.isEnabledFor(_DEBUG)
        self.dispatcher.log = self._log
        self.inside_wait = True
        try:
            return self._wait(deadline)
        except PtraceError as exc:
            self._fail(exc)
            raise SessionFailedError(f"the engine lost control of its targets: {exc}") from exc
        finally:
            self.inside_wait = False
            if self.ended_reentrant:
                self.abandon()  # EndSession(REENTRANT) came during the wait (lifecycle)

    def _wait_dump(self) -> bool:
        """The wait of a dump target (open_dump_file): report what opening the core made
        (pydbg.engine.dump.dump_events) and break in, at once.  Each event goes to the
        filters and callbacks as a live one would, and becomes the last event; their
        votes cannot run anything (nothing in a core can move), so the wait always ends
        broken in, with the recorded signal as the last event."""
        self._start_session()
        self.inside_wait = True
        try:
            while self._events:
                event = self._events.popleft()
                thread = event.thread
                self.event_thread = thread
                if thread is not None and thread is not self.current:
                    self.current = thread
                    self.notifier.engine_state(DEBUG_CES_CURRENT_THREAD, thread.engine_id)
                self.last_event = event
                with contextlib.suppress(DumpTargetReadOnlyError):
                    self.dispatcher.decide(event)
        finally:
            self.inside_wait = False
            self._votes = []
            self._signals.clear()
            self._first_chance.clear()
        self._finish_break()
        return True

    def _queued(self) -> bool:
        return bool(
            self._events
            or self._records
            or self._pending_announce
            or (
                self._backend is not None
                and not self._backend.closed
                and self._backend.has_pending()
            )
        )

    def _wait(self, deadline: float | None) -> bool:
        if self._running:
            self._sync_native_pass()  # a filter may have changed since the targets ran
        if not self._queued() and not self._running:
            if self.notifier.extensions:
                self.notifier.extensions_notify(DebugNotify.SESSION_INACCESSIBLE)
            if self._plan is not None:
                if self._fast_step(self._plan):
                    return True
            elif self.breakpoints.sites and self._fast_go(deadline):
                return True
        while True:
            if self._events:
                event = self._events.popleft()
                if self._decide(event):
                    self._finish_break()
                    return True
                continue
            if self._pending_announce:
                process, initial_break = self._pending_announce.pop(0)
                if process.pid in self.targets.processes:
                    self._start_session()
                    self._events.extend(
                        translate.announce(
                            process, self.backend, self._context, initial_break=initial_break
                        )
                    )
                continue
            if self._discard:
                for process in self._discard:
                    self._discard_process(process)
                self._discard.clear()
                continue
            if not self.targets:
                self._end_session(DebugSession.END)
                return False
            if self._records or self.backend.has_pending():
                if not self._records:
                    self._records.extend(self._collected(self.backend.wait(0)))
                self._take(self._records.popleft())
                continue
            if not self._running:
                if self._second_chance_due():
                    continue
                if self._plan is None and self.breakpoints.sites:
                    # (Back to the tight loop after, say, a module load was decided.)
                    if self._fast_go(deadline):
                        return True
                elif self._plan is None and (
                    fastpaths.signal_go(self, deadline) or fastpaths.syscall_go(self, deadline)
                ):
                    return True
                if self._running or self._events:
                    continue  # a fast path resumed the targets and handed a record over
                direct = self._resume()
                if direct is not None:
                    self._take(direct)
                    continue
            records = self._wait_native(deadline)
            if records is None:
                return False
            self._records.extend(records)

    def _fast_step(self, plan: StepPlan) -> bool:
        """STEP_INTO / STEP_BRANCH with nothing else pending: step in a tight loop and
        break in when the plan is done.  True if it broke in; False hands over to the
        general loop (any other record, a signal to deliver, an interrupt).  It calls no
        event callback (a finished step is the engine's own break), and the engine never
        thinks a thread runs: only the stepping thread moves, inside step()."""
        thread = plan.thread
        if (
            not plan.single_thread
            or self._signals
            or self._listen
            or self._interrupt_active
            or self._interrupt_exit
            or self.targets.thread(thread.tid) is not thread
        ):
            return False
        backend = self._backend  # (a plan has a live thread: the backend is open)
        assert backend is not None
        tid = thread.tid
        pid = thread.process.pid
        sites = self.breakpoints.sites
        hw_sites = self.breakpoints.hw_sites
        if sites or hw_sites:
            self._note_site(tid, pid, backend.get_pc(tid))
        branch = plan.mode is _MODE_BRANCH
        step = backend.branch_step if branch else backend.step
        # tc / tt / th / ta: only the steps that reach what the plan runs to count.
        counts_all = branch or plan.mode is _MODE_INTO
        log_native = self._log_native  # (looked up once per wait: the loop tests a local)
        if self._log:
            _LOG.debug("resume: %r (fast step loop)", plan)
        while True:
            record = step(tid)
            if log_native:
                self._collected([record])
            if record.kind != _KIND_STEP or record.tid != tid:
                self._records.append(record)
                return False
            if (sites or hw_sites) and (
                (pid, record.address) in sites or (pid, record.address) in hw_sites
            ):
                self.resumed_on_site[tid] = record.address
            if not counts_all and not plan.arrived(backend, record.address):
                if self._interrupt_active or self._interrupt_exit:
                    return False
                continue
            plan.remaining -= 1
            if plan.remaining <= 0:
                # An engine-internal break: no event callback, and the last event stays
                # the last real one (what DbgEng reports here is undocumented, §10).
                self._plan = None
                self._finish_break()
                return True
            if self._interrupt_active or self._interrupt_exit:
                return False

    def _fast_go(self, deadline: float | None) -> bool:
        """GO in one single-threaded process whose breakpoints only its callbacks decide: a
        tight loop of resume, one int3 hit, callbacks, resume.  True if it broke in; False
        hands over to the general loop (any other record, any vote but GO, an interrupt,
        a breakpoint with a command, condition or flags, anyone listening to state changes).
        What it skips is work the general path would do for nothing here: stopping other
        threads (there are none), filters (breakpoints have none) and notifications
        (nobody listens).  It skips no rule: each hit is decided by the dispatcher's own
        `breakpoint`, and any decision but a plain GO goes through `_conclude` as in a
        general wait.  While the callbacks run the one thread sits at its int3, and the
        engine knows it: every facet works inside them."""
        if (
            self._status != DebugStatus.GO
            or self._signals
            or self._listen
            or self._first_chance
            or self._interrupt_active
            or self._interrupt_exit
            or self.notifier.interests & _STATE_CHANGES
            or len(self.targets.processes) != 1
            or tracing(self)  # (it resumes with PTRACE_CONT only)
        ):
            return False
        process = next(iter(self.targets.processes.values()))
        if len(process.threads) != 1 or not self.notifier.interests & _BREAKPOINT_EVENT:
            return False  # (with nobody to vote every hit breaks)
        backend = self.backend
        collect, cont = backend.wait, backend.cont  # (bound once: this loop is hot)
        decide = self.dispatcher.breakpoint
        sites = self.breakpoints.sites
        threads = process.threads
        log = self._log  # (looked up once per wait: the loop tests a local)
        log_native = self._log_native
        # What callbacks ask for by other means than their vote (set_execution_status, a
        # command run from a callback): _conclude combines it with the vote.
        asked = self._votes = []
        self._step_mode = None
        filters_version = self._filters_version
        self._resume()
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                records = collect(remaining)
            except KeyboardInterrupt:
                self._interrupt_active = True
                return False
            if log_native:
                self._collected(records)
            if len(records) != 1 or self._interrupt_active or self._interrupt_exit:
                self._records.extend(records)
                return False
            record = records[0]
            site = sites.get((record.pid, record.address))
            thread = threads.get(record.tid)
            if (
                site is None
                or record.kind != _KIND_BREAKPOINT
                or len(site) != 1
                or thread is None
                or self.resumed_on_site
                or not site[0].simple
            ):
                self._records.append(record)
                return False
            # The one thread of the one process sits at its int3: everything is stopped.
            self._running = False
            bp = site[0]
            bp.hits += 1
            bp.passes += 1
            event = ev.BreakpointHit(process, thread, bp)
            self.current = self.event_thread = thread
            self.last_event = event
            if log:
                _LOG.debug("take %r -> BreakpointHit (fast GO loop)", record)
                _LOG.debug("event %s [tid %d]", describe(event), record.tid)
            try:
                decision = decide(event)
            except BaseException:
                # (Ctrl-C in a callback: the wait ends with the thread trapped here.)
                self._trapped[record.tid] = record.address
                raise
            if (
                decision == _GO
                and not asked
                # (A callback that turned syscall tracing on needs the general resume.)
                and not self.notifier.interests & _SYSCALL_EVENT
                and not self.syscall_counting
                and self._filters_version == filters_version
            ):
                if log:
                    _LOG.debug("resume: cont thread %d (fast GO loop)", record.tid)
                self._running = True
                cont(record.tid)  # steps over the int3 first
                continue
            # Someone wants something else: the general rules from here on.
            self._trapped[record.tid] = record.address
            if self._conclude(event, decision):
                self._finish_break()
                return True
            return False

    def _wait_native(self, deadline: float | None) -> Sequence[NativeEvent] | None:
        """Block for native records.  None: the wait is over without an event."""
        while True:
            if self._interrupt_exit:
                self._interrupt_exit = False
                return None
            if self._interrupt_active:
                self._interrupt_active = False
                self._break_in()
                return []
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                records = self.backend.wait(remaining)
            except KeyboardInterrupt:
                # Ctrl-C in a blocked wait breaks into the targets (cdb's Ctrl+C).
                self._interrupt_active = True
                continue
            if records:
                return self._collected(records)
            if self._interrupt_exit or self._interrupt_active:
                continue
            if deadline is not None and time.monotonic() >= deadline:
                # Not INSIDE_WAIT: this change ends the wait (§1.2, §4.2).  The targets
                # keep running: the one notification that does not stop them (notify).
                if self._log:
                    _LOG.debug("timeout: the targets run on")
                self.notifier.engine_state(
                    DEBUG_CES_EXECUTION_STATUS,
                    int(self._status) | DEBUG_STATUS_WAIT_TIMEOUT,
                    running=True,
                )
                return None
            if not self._any_running():
                raise EngineError("internal error: waiting while no target thread can run")

    def _any_running(self) -> bool:
        from pydbg._native import ThreadState

        backend = self.backend
        return any(
            backend.thread_state(t.tid) != ThreadState.STOPPED
            for t in self.targets.threads()
            if t.tid in set(backend.threads(t.process.pid))
        )

    def _take(self, record: NativeEvent) -> None:
        """Turn one native record into queued events, or resume past it."""
        self.traps.took(record)
        if record.kind == _KIND_SYSCALL:
            syscalls.count_reported(self, record)
        plan = self._plan
        if plan is not None:
            outcome = plan.on_record(record, self.backend)
            if self._log:
                _LOG.debug("take %r -> step plan: %s", record, outcome.name)
            if outcome == Outcome.COMPLETE:
                self._plan = None
                self._stop_all()
                thread = self.targets.thread(record.tid)
                if thread is not None:
                    self._events.append(ev.StepComplete(thread.process, thread))
                return
            if outcome in (Outcome.AGAIN, Outcome.RUNNING):
                if self._running:
                    # Let the thread go on past our return address with the others.
                    self._stop_all()
                return
        meaning = translate.translate(record, self.backend, self._context, plan is not None)
        if meaning.actions:
            self._carry_out(meaning.actions)
        events = meaning.events
        if self._log:
            _LOG.debug("take %r -> %s", record, [type(e).__name__ for e in events] or "nothing")
        if events:
            self._stop_all()
            self._events.extend(events)
        elif self._running and record.kind.name not in ("EXITED", "KILLED"):
            # Nothing to decide: let that thread go on with the others (cont_all steps it
            # off any breakpoint with the rest stopped).
            self._stop_all()

    def _carry_out(self, actions: Sequence[translate.Action]) -> None:
        """What translation asked of the session for a record besides its events."""
        for action in actions:
            if isinstance(action, translate.Listen):
                self._listen.add(action.tid)
            elif isinstance(action, translate.Deliver):
                self._signals[action.tid] = action.signo
            elif isinstance(action, translate.Discard):
                self._discard.append(action.process)
            elif isinstance(action, translate.Shadow):
                self.shadows.add(action.pid)
            elif isinstance(action, translate.Unshadow):
                self.shadows.discard(action.pid)
            elif isinstance(action, translate.LetGo):
                self.shadows.discard(action.pid)
                with contextlib.suppress(PydbgError):
                    self.backend.detach(action.pid)
