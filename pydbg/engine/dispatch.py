"""How one event is decided: the vote of its filter, its filter command, and every
interested callback of every client, combined by precedence (spec §4.6).

    votes = [filter command's vote, filter's own vote, callback votes of each client...]
    decision = pydbg.status.combine(votes)

The filter's own vote is BREAK when its break status says so (SECOND_CHANCE_BREAK: only for
second-chance exceptions and for non-exception events); otherwise it has no opinion, and
OUTPUT prints a notice first (see pydbg.filters for why it does not vote GO).  What the
decision then does to execution (NO_CHANGE, a plain GO on an exception and the continue
option) is the session's business.

A callback that raises, or returns something that is not an instructing DEBUG_STATUS_*,
is reported through the output callbacks and counts as BREAK: the user sees the problem
with the target stopped and nothing lost.

These rules live here once: `Dispatcher.vote` (one callback's vote) and
`Dispatcher.breakpoint` (a breakpoint's votes, combined, and the "Breakpoint N hit" notice)
serve the general wait and the engine's fast GO loop alike; a fast path may skip work,
never a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydbg.addresses import hex64
from pydbg.constants import (
    DEBUG_BREAKPOINT_ADDER_ONLY,
    DEBUG_STATUS_BREAK,
    DebugStatus,
    FilterStatus,
    OutputMask,
)
from pydbg.engine.events import (
    BreakpointHit,
    Event,
    ExceptionEvent,
    LoadModule,
    StepComplete,
    SyscallEvent,
    UnloadModule,
)
from pydbg.engine.notify import Notifier
from pydbg.engine.syscalls import describe_syscall
from pydbg.errors import InvalidStatusError
from pydbg.filters import EventFilters
from pydbg.log import ENGINE as _LOG
from pydbg.status import PLAIN_VOTES, combine

# Enum members read at every event, as constants (an enum class attribute costs a call of
# EnumType's __getattr__ hook).
_SECOND_CHANCE_BREAK, _IGNORE, _OUTPUT = (
    FilterStatus.SECOND_CHANCE_BREAK,
    FilterStatus.IGNORE,
    FilterStatus.OUTPUT,
)
_NORMAL = OutputMask.NORMAL
# The first-chance break statuses under which an exception's filter only prints its line.
_PRINTS_ONLY_FIRST = frozenset({_OUTPUT, _SECOND_CHANCE_BREAK})

# Runs a filter command inside the wait; returns the vote of its execution command, if any.
CommandRunner = Callable[[str], int | None]

_BREAKPOINT_EVENT = BreakpointHit.mask
_EXCEPTION_BIT, _EXCEPTION_METHOD = ExceptionEvent.mask, ExceptionEvent.method
_GO = int(DebugStatus.GO)
_GO_STATUS = DebugStatus.GO
_BREAK_STATUS = DebugStatus.BREAK


def describe(event: Event) -> str:
    """The one-line notice cdb prints for an event that breaks or is set to output."""
    pid = event.process.pid
    tid = event.thread.tid if event.thread else 0
    where = f"({pid:x}.{tid:x}): "
    if isinstance(event, LoadModule):
        end = event.base_offset + event.module_size
        return f"ModLoad: {hex64(event.base_offset)} {hex64(end)}   {event.image_name}"
    if isinstance(event, UnloadModule):
        return f"Unload module {event.image_base_name} at {hex64(event.base_offset)}"
    if isinstance(event, BreakpointHit):
        bp: Any = event.breakpoint
        return f"{where}Hit breakpoint {bp.get_id()}"
    if isinstance(event, SyscallEvent):
        return where + describe_syscall(event)
    if isinstance(event, ExceptionEvent) and event.record is not None:
        record = event.record
        if event.initial:
            return f"{where}Initial breakpoint - code {record.exception_code:08x}"
        chance = "first chance" if event.first_chance else "!!! second chance !!!"
        return f"{where}{record.describe()} - code {record.exception_code:08x} ({chance})"
    name = type(event).__name__
    detail = ", ".join(str(a) for a in event.args() if isinstance(a, str) and a)
    return f"{where}{name}" + (f" {detail}" if detail else "")


class Dispatcher:
    """Decides events for one engine."""

    def __init__(self, filters: EventFilters, notifier: Notifier, run_command: CommandRunner):
        self.filters = filters
        self.notifier = notifier
        self.run_command = run_command
        # Whether the pydbg.engine channel logs votes: set by the engine once per wait.
        self.log = False

    def decide(self, event: Event) -> DebugStatus:
        notifier = self.notifier
        if isinstance(event, ExceptionEvent) and not event.initial:
            # An exception, the common case: its filter as _filter_of reads it, and a
            # line that would only be printed (_filter_vote) costs no call when nobody
            # takes the output.  (Inline: this is the signal loop's path.)
            record = event.record
            assert record is not None  # (every exception but the initial break has one)
            params = self.filters.exception(record.exception_code)[1]
            execution: FilterStatus | None = params.execution_option
            if event.first_chance:
                command = params.command
                prints_only = execution in _PRINTS_ONLY_FIRST
            else:
                command = params.second_command
                prints_only = execution == _OUTPUT
            quiet = execution == _IGNORE or (prints_only and not notifier.takes_output(_NORMAL))
            bit, method = _EXCEPTION_BIT, _EXCEPTION_METHOD
        else:
            if isinstance(event, StepComplete):
                return _BREAK_STATUS
            if isinstance(event, BreakpointHit):
                return self.breakpoint(event)
            execution, command = self._filter_of(event)
            quiet = execution is None or execution == _IGNORE
            bit, method = event.mask, event.method
        votes: list[int | None] = []
        if command:
            votes.append(self.run_command(command))
        if not quiet:
            assert execution is not None
            filter_vote = self._filter_vote(event, execution)
            if filter_vote is not None:
                votes.append(filter_vote)
        # (A plain loop, no comprehension.)
        args: tuple[object, ...] | None = None
        for slot in notifier.clients:
            callbacks = slot.event_callbacks
            if callbacks is not None and slot.interest_mask & bit:
                if args is None:
                    args = event.args()
                votes.append(self.vote(callbacks, method, args))
        log = self.log
        if len(votes) == 1 and not log:
            # One vote, as vote() or a command left it: combine() of it alone is its plain
            # status when it is one (True or 1.0 never get here from vote()).
            vote = votes[0]
            if vote.__class__ is int or vote.__class__ is DebugStatus:
                status = PLAIN_VOTES.get(vote)
                if status is not None:
                    return status
        decision = combine(votes)
        if log:
            _LOG.debug("vote %s: %s -> %s", method, _names(votes), decision.name)
        return decision

    def breakpoint(self, event: BreakpointHit) -> DebugStatus:
        """A breakpoint triggered: its command votes first (BREAK unless it resumes), then
        the callbacks (only the adder's for a private breakpoint).  With no vote at all the
        engine breaks: a breakpoint exists to stop.  A callback returning GO goes on (as
        DbgEng hit counters rely on); it cannot outvote a command that did not resume.

        The engine's fast GO loop calls this for every hit it serves: the one callback
        voting GO is the common case, and is answered before anything is combined."""
        bp: Any = event.breakpoint
        only = bp.adder if bp.flags & DEBUG_BREAKPOINT_ADDER_ONLY else None
        votes: list[int | None] = []
        if only is None and not bp.command:
            # (A plain loop, no comprehension or enum lookup: this is the fast loop's path.)
            args = (bp,)
            for slot in self.notifier.clients:
                callbacks = slot.event_callbacks
                if callbacks is not None and slot.interest_mask & _BREAKPOINT_EVENT:
                    votes.append(self.vote(callbacks, "breakpoint", args))
            if len(votes) == 1 and votes[0] == _GO and not self.log:
                return _GO_STATUS  # (vote() let only ints, statuses and None through)
        else:
            # Also while stepping (cdb's documentation says only under g): `gc` exists to
            # let a step that meets a breakpoint go on, which needs the command to run.
            if bp.command:
                votes.append(self.run_command(bp.command) or DEBUG_STATUS_BREAK)
            votes.extend(self._callback_votes(event, only))
        decision = combine(votes)
        if decision in (DebugStatus.NO_CHANGE, DebugStatus.BREAK):
            decision = DebugStatus.BREAK
            # Announced only when it stops: a breakpoint that counts or logs and goes on
            # (a callback returning GO, a command ending in gc) stays quiet.
            self.notifier.output(OutputMask.NORMAL, f"Breakpoint {bp.get_id()} hit\n", only)
        if self.log:
            _LOG.debug("vote breakpoint %d: %s -> %s", bp.get_id(), _names(votes), decision.name)
        return decision

    def vote(self, callbacks: Any, method: str, args: tuple[object, ...]) -> int | None:
        """One client's callback for an event, called, and its vote checked: one that
        raised is reported with its traceback, one that is not an instructing status is
        reported; both count as BREAK.  Returns None, an int or a DebugStatus, nothing
        else (a bool or a float never passes for GO)."""
        try:
            vote = getattr(callbacks, method)(*args)
        except Exception:  # noqa: BLE001 - reported, counted as BREAK (module docstring)
            self.notifier.report_callback_error(f"the {method} callback")
            return DEBUG_STATUS_BREAK
        kind = vote.__class__
        if (kind is int or kind is DebugStatus or vote is None) and vote in PLAIN_VOTES:
            return vote  # type: ignore[no-any-return]
        try:
            combine([vote])
        except (InvalidStatusError, TypeError) as exc:
            self.notifier.output(
                OutputMask.ERROR,
                f"pydbg: the {method} callback returned {vote!r}, which is not an "
                f"execution status ({exc}); counted as DEBUG_STATUS_BREAK\n",
            )
            return DEBUG_STATUS_BREAK
        return int(vote)  # an int subclass (an IntEnum of the user's): its plain value

    def _filter_of(self, event: Event) -> tuple[FilterStatus | None, str]:
        """The break status and command that apply to the event."""
        if isinstance(event, ExceptionEvent):
            if event.initial:
                ibp = self.filters.specific(event.specific_filter_index())
                assert ibp is not None
                return ibp.execution_option, ibp.command
            assert event.record is not None
            _, params = self.filters.exception(event.record.exception_code)
            command = params.command if event.first_chance else params.second_command
            return params.execution_option, command
        if isinstance(event, SyscallEvent):
            row = self.filters.syscall(event.number)
            return row.execution_option, row.command
        if event.specific_filter is None:
            return None, ""
        specific = self.filters.specific(event.specific_filter, event.filter_name())
        if specific is None:  # its argument names another process or module
            return None, ""
        return specific.execution_option, specific.command

    def _filter_vote(self, event: Event, execution: FilterStatus) -> int | None:
        if execution == _IGNORE:
            return None
        # BREAK, OUTPUT, and the first chance of a SECOND_CHANCE_BREAK exception print the
        # event's line; only the breaking ones vote.
        if self.notifier.takes_output(_NORMAL):  # (formatting is not free)
            self.notifier.output(_NORMAL, describe(event) + "\n")
        if execution == _OUTPUT:
            return None
        if (
            execution == _SECOND_CHANCE_BREAK
            and isinstance(event, ExceptionEvent)
            and event.first_chance
            and not event.initial
        ):
            return None
        return DEBUG_STATUS_BREAK

    def _callback_votes(self, event: Event, only: Any = None) -> list[int | None]:
        args = event.args()
        method = event.method
        bit = event.mask
        return [
            self.vote(callbacks, method, args)
            for slot in (self.notifier.clients if only is None else [only])
            if (callbacks := slot.wants(bit)) is not None
        ]


def _names(votes: list[int | None]) -> str:
    """Votes for the log: [GO, BREAK, None]."""
    return "[" + ", ".join(_name(vote) for vote in votes) + "]"


def _name(vote: int | None) -> str:
    if vote is None:
        return "None"
    try:
        return DebugStatus(vote & 0x1F).name
    except ValueError:
        return repr(vote)
