"""Event filters: for each kind of event, whether the engine breaks, and for exceptions,
whether the exception counts as handled when execution goes on (spec §5).

The table has three parts, indexed together as in DbgEng (§5.1):

1. specific event filters, one per non-exception event (indices 0..9, `DEBUG_FILTER_*`);
2. specific exception filters for the built-in codes; the first is the *default* exception
   filter (`*`), used for every code without a filter of its own;
3. arbitrary exception filters, added by code with `set_exception_filter_parameters`
   (removing one renumbers the ones after it).

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

__all__ = [
    "EventFilters",
    "ExceptionFilterParameters",
    "FilterError",
    "SpecificFilterParameters",
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

    def _on_change(self, index: int) -> None:
        self._by_code.clear()
        self._notify(index)

    # -- counts and indices -------------------------------------------------------------------

    def get_number_event_filters(self) -> tuple[int, int, int]:
        """(specific events, specific exceptions, arbitrary exceptions)."""
        return len(self._specific), len(self._exceptions), len(self._arbitrary)

    def __len__(self) -> int:
        return len(self._specific) + len(self._exceptions) + len(self._arbitrary)

    def _exception_entries(self) -> list[_Exception]:
        return self._exceptions + self._arbitrary

    def index_of_name(self, name: str) -> int:
        """The index of the filter an sx code names (`av`, `ld`, `*`, or a code in hex)."""
        name = _ALIASES.get(name.lower(), name.lower())
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
        return len(self) - 1

    def name_of(self, index: int) -> str:
        return self._entry(index).name

    def _entry(self, index: int) -> _Specific | _Exception:
        if not 0 <= index < len(self):
            raise FilterError(f"event filter index {index} out of range (0..{len(self) - 1})")
        if index < len(self._specific):
            return self._specific[index]
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
                self._on_change(len(self) - 1)
                continue
            self._replace(index, execution_option=execution, continue_option=handling)

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
        self._on_change(DEBUG_ANY_ID)

    def _replace(self, index: int, **changes: object) -> None:
        entry = self._entry(index)
        if isinstance(entry, _Specific):
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
