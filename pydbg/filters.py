"""Event filters: for each kind of event, whether the engine breaks, and for exceptions,
whether the exception counts as handled when execution goes on (spec §5).

The table has three parts, indexed together as in DbgEng (§5.1):

1. specific event filters, one per non-exception event (indices 0..9, `DEBUG_FILTER_*`);
2. specific exception filters for the built-in codes; the first is the *default* exception
   filter (`*`), used for every code without a filter of its own;
3. arbitrary exception filters, added by code with `set_exception_filter_parameters`
   (removing one renumbers the ones after it);
4. syscall filters, a pydbg extension: `sys`, for every system call without a row of its
   own (ignore by default), then one row per system call named by `sxe sys:openat` or
   `sxe sys:257` (`sys:openat` either way: names come from pydbg.syscall_table), added on
   first use in that order.  They come last so that DbgEng's indices stay DbgEng's (an
   arbitrary exception filter added later renumbers them); `get_number_event_filters`
   counts the DbgEng parts only, `get_number_syscall_filters` these.  Syscall rows take
   the break statuses of specific filters; the continue option means nothing for them.

Defaults are cdb's (§5.4): exceptions nobody anticipated break on the second chance and are
not handled; breakpoints, single steps and Ctrl+C break and are handled; create/exit events
are ignored; module loads print a line; the initial breakpoint breaks.

A filter that does not break gives no vote of its own ([pydbg rec], deviating from the
spec's reference `default_vote`, which votes GO): a thread created in the middle of a `p`
then lets the step go on instead of turning it into a `g`.  The continue option is applied
when the decision ends as plain GO (or nobody voted), as in DbgEng.

The filter's commands run whenever the event happens, whether or not it breaks (§10.9).
Every change reports ChangeEngineState(DEBUG_CES_EVENT_FILTERS, index or DEBUG_ANY_ID).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

from pydbg.constants import (
    DBG_COMMAND_EXCEPTION,
    DBG_CONTROL_C,
    DEBUG_ANY_ID,
    STATUS_ACCESS_VIOLATION,
    STATUS_ASSERTION_FAILURE,
    STATUS_BREAKPOINT,
    STATUS_DATATYPE_MISALIGNMENT,
    STATUS_FLOAT_DIVIDE_BY_ZERO,
    STATUS_GUARD_PAGE_VIOLATION,
    STATUS_ILLEGAL_INSTRUCTION,
    STATUS_IN_PAGE_ERROR,
    STATUS_INTEGER_DIVIDE_BY_ZERO,
    STATUS_INTEGER_OVERFLOW,
    STATUS_INVALID_HANDLE,
    STATUS_SINGLE_STEP,
    STATUS_STACK_OVERFLOW,
    FilterHandling,
    FilterStatus,
    SpecificFilter,
)
from pydbg.errors import PydbgError
from pydbg.syscall_table import NUMBERS as _SYSCALL_NUMBERS
from pydbg.syscall_table import SYSCALLS as _SYSCALLS

__all__ = [
    "EventFilters",
    "ExceptionFilterParameters",
    "FilterError",
    "SpecificFilterParameters",
    "syscall_name",
]

BREAK, SECOND, OUTPUT, IGNORE = (
    FilterStatus.BREAK,
    FilterStatus.SECOND_CHANCE_BREAK,
    FilterStatus.OUTPUT,
    FilterStatus.IGNORE,
)
HANDLED, NOT_HANDLED = FilterHandling.GO_HANDLED, FilterHandling.GO_NOT_HANDLED


class FilterError(PydbgError, ValueError):
    """An event filter index, code, or option that does not exist."""


@dataclass(frozen=True)
class SpecificFilterParameters:
    """DEBUG_SPECIFIC_FILTER_PARAMETERS (text, command and argument included)."""

    execution_option: FilterStatus
    continue_option: FilterHandling
    text: str = ""
    command: str = ""
    argument: str | None = None  # None: this filter takes no argument


@dataclass(frozen=True)
class ExceptionFilterParameters:
    """DEBUG_EXCEPTION_FILTER_PARAMETERS (text and both commands included)."""

    execution_option: FilterStatus
    continue_option: FilterHandling
    exception_code: int
    text: str = ""
    command: str = ""
    second_command: str = ""


@dataclass(frozen=True)
class _Specific:
    name: str  # the sx code
    params: SpecificFilterParameters


@dataclass(frozen=True)
class _Exception:
    name: str  # the sx code, or the code in hex for arbitrary filters
    params: ExceptionFilterParameters


# §5.2: index order is DEBUG_FILTER_* order.  SYSTEM_ERROR and INITIAL_MODULE_LOAD never
# trigger on Linux (§9.4) but keep their places so indices match DbgEng's.
_SPECIFIC_DEFAULTS: tuple[tuple[SpecificFilter, str, str, FilterStatus, bool], ...] = (
    (SpecificFilter.CREATE_THREAD, "ct", "Create thread", IGNORE, False),
    (SpecificFilter.EXIT_THREAD, "et", "Exit thread", IGNORE, False),
    (SpecificFilter.CREATE_PROCESS, "cpr", "Create process", IGNORE, True),
    (SpecificFilter.EXIT_PROCESS, "epr", "Exit process", IGNORE, True),
    (SpecificFilter.LOAD_MODULE, "ld", "Load module", OUTPUT, True),
    (SpecificFilter.UNLOAD_MODULE, "ud", "Unload module", OUTPUT, True),
    (SpecificFilter.SYSTEM_ERROR, "ser", "System error", IGNORE, False),
    (SpecificFilter.INITIAL_BREAKPOINT, "ibp", "Initial breakpoint", BREAK, False),
    (SpecificFilter.INITIAL_MODULE_LOAD, "iml", "Initial module load", IGNORE, False),
    (SpecificFilter.DEBUGGEE_OUTPUT, "out", "Debuggee output", IGNORE, True),
)

# §5.4.  The first entry is the default filter for codes without their own.
_EXCEPTION_DEFAULTS: tuple[tuple[str, int, str, FilterStatus, FilterHandling], ...] = (
    ("*", 0, "Unknown exception", SECOND, NOT_HANDLED),
    ("av", STATUS_ACCESS_VIOLATION, "Access violation", BREAK, NOT_HANDLED),
    ("asrt", STATUS_ASSERTION_FAILURE, "Assertion failure", BREAK, NOT_HANDLED),
    ("dm", STATUS_DATATYPE_MISALIGNMENT, "Data misaligned", BREAK, NOT_HANDLED),
    ("dz", STATUS_INTEGER_DIVIDE_BY_ZERO, "Integer divide-by-zero", BREAK, NOT_HANDLED),
    ("c000008e", STATUS_FLOAT_DIVIDE_BY_ZERO, "Float divide-by-zero", BREAK, NOT_HANDLED),
    ("gp", STATUS_GUARD_PAGE_VIOLATION, "Guard page violation", BREAK, NOT_HANDLED),
    ("ii", STATUS_ILLEGAL_INSTRUCTION, "Illegal instruction", SECOND, NOT_HANDLED),
    ("iov", STATUS_INTEGER_OVERFLOW, "Integer overflow", BREAK, NOT_HANDLED),
    ("ip", STATUS_IN_PAGE_ERROR, "In-page I/O error", BREAK, NOT_HANDLED),
    ("sov", STATUS_STACK_OVERFLOW, "Stack overflow", BREAK, NOT_HANDLED),
    ("ch", STATUS_INVALID_HANDLE, "Invalid handle", BREAK, NOT_HANDLED),
    ("bpe", STATUS_BREAKPOINT, "Break instruction exception", BREAK, HANDLED),
    ("sse", STATUS_SINGLE_STEP, "Single step exception", BREAK, HANDLED),
    ("cce", DBG_CONTROL_C, "Control-C exception", BREAK, HANDLED),
    ("dbce", DBG_COMMAND_EXCEPTION, "Debugger command exception", IGNORE, HANDLED),
)

# sx aliases that name the handling of a filter (§5.5: `sxe cc` sets cce's handling).
_ALIASES = {"cc": "cce", "bpec": "bpe", "ssec": "sse", "hc": "ch"}


_SYSCALL_ALL = "sys"


def syscall_name(number: int) -> str:
    """The name of a system call number (`syscall_N` when the table does not know it)."""
    known = _SYSCALLS.get(number)
    return known[0] if known is not None else f"syscall_{number}"


def _syscall_defaults() -> list[_Specific]:
    return [
        _Specific(
            _SYSCALL_ALL, SpecificFilterParameters(IGNORE, NOT_HANDLED, "System call", "", None)
        )
    ]


def _syscall_row_name(number: int) -> str:
    """`sys:openat`, or `sys:999` for a number the table does not know."""
    known = _SYSCALLS.get(number)
    return f"{_SYSCALL_ALL}:{known[0] if known is not None else number}"


def _syscall_row_number(name: str) -> int:
    """The number a `sys:NAME` / `sys:NUMBER` filter name designates."""
    what = name.partition(":")[2].strip()
    number = _SYSCALL_NUMBERS.get(what)
    if number is not None:
        return number
    try:
        number = int(what, 0)
    except ValueError:
        raise FilterError(f"{what!r} is not an x86_64 system call name or number") from None
    if not 0 <= number < 1 << 31:
        raise FilterError(f"system call number {number} out of range")
    return number


def _specific_defaults() -> list[_Specific]:
    return [
        _Specific(
            name,
            SpecificFilterParameters(
                execution,
                HANDLED if index == SpecificFilter.INITIAL_BREAKPOINT else NOT_HANDLED,
                text,
                "",
                "" if takes_argument else None,
            ),
        )
        for index, name, text, execution, takes_argument in _SPECIFIC_DEFAULTS
    ]


def _exception_defaults() -> list[_Exception]:
    return [
        _Exception(name, ExceptionFilterParameters(execution, handling, code, text))
        for name, code, text, execution, handling in _EXCEPTION_DEFAULTS
    ]


class EventFilters:
    """The filter table of one engine.  `on_change(index)` is told of every change."""

    def __init__(self, on_change: Callable[[int], None] | None = None) -> None:
        self._notify = on_change or (lambda index: None)
        # code -> (index, parameters) of exception(): asked at every signal, cleared at
        # every change (all of which go through _on_change).
        self._by_code: dict[int, tuple[int, ExceptionFilterParameters]] = {}
        self._specific = _specific_defaults()
        self._exceptions = _exception_defaults()
        self._arbitrary: list[_Exception] = []
        self._syscalls = _syscall_defaults()
        # syscall number -> the parameters of its row (or `sys`'s); cleared at every change.
        self._by_syscall: dict[int, SpecificFilterParameters] = {}
        self._syscalls_wanted: bool | None = None

    def _on_change(self, index: int) -> None:
        self._by_code.clear()
        self._by_syscall.clear()
        self._syscalls_wanted = None
        self._notify(index)

    # -- counts and indices -------------------------------------------------------------------

    def get_number_event_filters(self) -> tuple[int, int, int]:
        """(specific events, specific exceptions, arbitrary exceptions)."""
        return len(self._specific), len(self._exceptions), len(self._arbitrary)

    def get_number_syscall_filters(self) -> int:
        """The syscall rows (pydbg extension), `sys` included; they follow the others."""
        return len(self._syscalls)

    def _dbgeng_count(self) -> int:
        return len(self._specific) + len(self._exceptions) + len(self._arbitrary)

    def __len__(self) -> int:
        return self._dbgeng_count() + len(self._syscalls)

    def _exception_entries(self) -> list[_Exception]:
        return self._exceptions + self._arbitrary

    def index_of_name(self, name: str) -> int:
        """The index of the filter an sx code names (`av`, `ld`, `*`, or a code in hex)."""
        name = _ALIASES.get(name.lower(), name.lower())
        if name == _SYSCALL_ALL or name.startswith(_SYSCALL_ALL + ":"):
            return self._syscall_index(name)
        for index, specific in enumerate(self._specific):
            if specific.name == name:
                return index
        for index, entry in enumerate(self._exception_entries()):
            if entry.name == name:
                return len(self._specific) + index
        try:
            code = int(name, 16)
        except ValueError:
            raise FilterError(f"no event filter is named {name!r}") from None
        return self.index_of_code(code, add=True)

    def index_of_code(self, code: int, *, add: bool = False) -> int:
        """The index of the exception filter for `code`; with add=True an arbitrary filter
        is created (with the default filter's settings) when the code has none."""
        entries = self._exception_entries()
        for index, entry in enumerate(entries[1:], start=1):
            if entry.params.exception_code == code:
                return len(self._specific) + index
        if not add:
            return len(self._specific)  # the default filter
        self.set_exception_filter_parameters([replace(entries[0].params, exception_code=code)])
        return self._dbgeng_count() - 1

    def _syscall_index(self, name: str) -> int:
        """The index of the `sys` or `sys:NAME` row, added (with `sys`'s settings) when
        missing."""
        base = self._dbgeng_count()
        if name == _SYSCALL_ALL:
            return base
        number = _syscall_row_number(name)
        row = _syscall_row_name(number)
        for index, entry in enumerate(self._syscalls):
            if entry.name == row:
                return base + index
        params = replace(self._syscalls[0].params, text=f"System call {syscall_name(number)}")
        self._syscalls.append(_Specific(row, params))
        self._on_change(len(self) - 1)
        return len(self) - 1

    def name_of(self, index: int) -> str:
        return self._entry(index).name

    def _entry(self, index: int) -> _Specific | _Exception:
        if not 0 <= index < len(self):
            raise FilterError(f"event filter index {index} out of range (0..{len(self) - 1})")
        if index < len(self._specific):
            return self._specific[index]
        if index >= self._dbgeng_count():
            return self._syscalls[index - self._dbgeng_count()]
        return self._exception_entries()[index - len(self._specific)]

    # -- DbgEng getters and setters ------------------------------------------------------------

    def get_event_filter_text(self, index: int) -> str:
        return self._entry(index).params.text

    def get_event_filter_command(self, index: int) -> str:
        return self._entry(index).params.command

    def set_event_filter_command(self, index: int, command: str) -> None:
        self._replace(index, command=command)

    def get_specific_filter_parameters(
        self, start: int, count: int
    ) -> list[SpecificFilterParameters]:
        if start < 0 or count < 0 or start + count > len(self._specific):
            raise FilterError(
                f"specific filters {start}..{start + count - 1} out of range "
                f"(0..{len(self._specific) - 1})"
            )
        return [entry.params for entry in self._specific[start : start + count]]

    def set_specific_filter_parameters(
        self, start: int, params: list[SpecificFilterParameters]
    ) -> None:
        self.get_specific_filter_parameters(start, len(params))  # range check
        for offset, new in enumerate(params):
            self._replace(
                start + offset,
                execution_option=_status(new.execution_option),
                continue_option=_handling(new.continue_option),
            )

    def get_specific_filter_argument(self, index: int) -> str:
        entry = self._entry(index)
        if not isinstance(entry, _Specific) or entry.params.argument is None:
            raise FilterError(f"event filter {index} ({entry.name}) takes no argument")
        return entry.params.argument

    def set_specific_filter_argument(self, index: int, argument: str) -> None:
        self.get_specific_filter_argument(index)
        self._replace(index, argument=argument)

    def get_exception_filter_parameters(
        self, codes: list[int] | None = None, start: int = 0, count: int | None = None
    ) -> list[ExceptionFilterParameters]:
        """By codes (each code's filter; the default filter's settings for codes without
        one) or by index range into the exception filters."""
        entries = self._exception_entries()
        if codes is not None:
            return [
                replace(self._exception_params(self.index_of_code(c)), exception_code=c)
                for c in codes
            ]
        first = start - len(self._specific)
        count = len(entries) - first if count is None else count
        if first < 0 or count < 0 or first + count > len(entries):
            raise FilterError(f"exception filters from index {start} ({count}) out of range")
        return [entry.params for entry in entries[first : first + count]]

    def set_exception_filter_parameters(self, params: list[ExceptionFilterParameters]) -> None:
        """Set each code's filter; an unknown code adds an arbitrary filter, and
        DEBUG_FILTER_REMOVE deletes an arbitrary one (specific ones cannot be removed)."""
        for new in params:
            code = new.exception_code
            index = self.index_of_code(code)
            is_default = index == len(self._specific)
            if new.execution_option == FilterStatus.REMOVE:
                arbitrary = [e for e in self._arbitrary if e.params.exception_code == code]
                if not arbitrary or (is_default and code != 0):
                    raise FilterError(f"exception {code:#x} has no arbitrary filter to remove")
                self._arbitrary.remove(arbitrary[0])
                self._on_change(DEBUG_ANY_ID)
                continue
            execution, handling = _status(new.execution_option), _handling(new.continue_option)
            if is_default and code != 0 and code != self._exceptions[0].params.exception_code:
                entry = _Exception(
                    f"{code:x}",
                    ExceptionFilterParameters(execution, handling, code, f"Exception {code:#x}"),
                )
                self._arbitrary.append(entry)
                self._on_change(self._dbgeng_count() - 1)
                continue
            self._replace(index, execution_option=execution, continue_option=handling)

    def get_syscall_filter_parameters(self, index: int) -> SpecificFilterParameters:
        """The parameters of the syscall row at `index` (pydbg extension)."""
        if not self._dbgeng_count() <= index < len(self):
            raise FilterError(f"event filter {index} is not a syscall filter")
        return self._syscalls[index - self._dbgeng_count()].params

    def set_syscall_filter_parameters(self, index: int, params: SpecificFilterParameters) -> None:
        """Set the break status of the syscall row at `index` (pydbg extension)."""
        self.get_syscall_filter_parameters(index)  # range check
        self._replace(
            index,
            execution_option=_status(params.execution_option),
            continue_option=_handling(params.continue_option),
        )

    def get_exception_filter_second_command(self, index: int) -> str:
        entry = self._entry(index)
        if not isinstance(entry, _Exception):
            raise FilterError(f"event filter {index} ({entry.name}) is not an exception filter")
        return entry.params.second_command

    def set_exception_filter_second_command(self, index: int, command: str) -> None:
        self.get_exception_filter_second_command(index)
        self._replace(index, second_command=command)

    def reset(self) -> None:
        """sxr: every filter and command back to the defaults; arbitrary filters go."""
        self._specific = _specific_defaults()
        self._exceptions = _exception_defaults()
        self._arbitrary = []
        self._syscalls = _syscall_defaults()
        self._on_change(DEBUG_ANY_ID)

    def _replace(self, index: int, **changes: object) -> None:
        entry = self._entry(index)
        if isinstance(entry, _Specific) and index >= self._dbgeng_count():
            syscall = _Specific(entry.name, replace(entry.params, **changes))  # type: ignore[arg-type]
            self._syscalls[index - self._dbgeng_count()] = syscall
        elif isinstance(entry, _Specific):
            self._specific[index] = _Specific(entry.name, replace(entry.params, **changes))  # type: ignore[arg-type]
        else:
            new = _Exception(entry.name, replace(entry.params, **changes))  # type: ignore[arg-type]
            position = index - len(self._specific)
            if position < len(self._exceptions):
                self._exceptions[position] = new
            else:
                self._arbitrary[position - len(self._exceptions)] = new
        self._on_change(index)

    # -- what the dispatcher asks --------------------------------------------------------------

    def specific(self, index: int, name: str | None = None) -> SpecificFilterParameters | None:
        """The specific filter for an event, or None if its argument does not match `name`
        (a process or module name; unknown names always match, §5.2)."""
        params = self._specific[index].params
        if params.argument and name is not None:
            pattern = params.argument.lower()
            candidate = os.path.basename(name).lower()
            if not fnmatch.fnmatchcase(candidate, pattern):
                return None
        return params

    def exception(self, code: int) -> tuple[int, ExceptionFilterParameters]:
        """The index and parameters of the filter that governs exception `code`."""
        found = self._by_code.get(code)
        if found is None:
            index = self.index_of_code(code)
            found = self._by_code[code] = (index, self._exception_params(index))
        return found

    def syscall(self, number: int) -> SpecificFilterParameters:
        """The syscall row that governs system call `number`: its own, else `sys`."""
        found = self._by_syscall.get(number)
        if found is None:
            row = _syscall_row_name(number)
            entry = next((e for e in self._syscalls if e.name == row), self._syscalls[0])
            found = self._by_syscall[number] = entry.params
        return found

    def syscalls_wanted(self) -> bool:
        """Does any syscall row break, print or run a command?  (Then syscalls must be
        traced for the filters' sake.)"""
        wanted = self._syscalls_wanted
        if wanted is None:
            wanted = self._syscalls_wanted = any(
                e.params.execution_option != IGNORE or e.params.command for e in self._syscalls
            )
        return wanted

    def syscall_rows_wanted(self) -> frozenset[int] | None:
        """The numbers whose own row breaks, prints or runs a command; None when the `sys`
        row does (then every system call matters)."""
        rows = self._syscalls
        if rows[0].params.execution_option != IGNORE or rows[0].params.command:
            return None
        return frozenset(
            _syscall_row_number(e.name)
            for e in rows[1:]
            if e.params.execution_option != IGNORE or e.params.command
        )

    def _exception_params(self, index: int) -> ExceptionFilterParameters:
        entry = self._entry(index)
        assert isinstance(entry, _Exception), index
        return entry.params

    def rows(self) -> list[tuple[int, str, SpecificFilterParameters | ExceptionFilterParameters]]:
        """(index, sx code, parameters) for every filter, in index order (for `sx`)."""
        return [(i, self._entry(i).name, self._entry(i).params) for i in range(len(self))]


def _status(value: int) -> FilterStatus:
    try:
        status = FilterStatus(value)
    except ValueError:
        raise FilterError(f"{value} is not a DEBUG_FILTER_* break status") from None
    return status


def _handling(value: int) -> FilterHandling:
    try:
        return FilterHandling(value)
    except ValueError:
        raise FilterError(f"{value} is not a DEBUG_FILTER_GO_* handling status") from None
