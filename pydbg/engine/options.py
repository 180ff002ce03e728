"""Engine options (GetEngineOptions / SetEngineOptions, spec §2), and the one setting
they share with the event filters: DEBUG_ENGOPT_INITIAL_BREAK is the `ibp` filter seen
from the other side, so a change of either is mirrored to the other here.

It is the root of the engine's parts (see pydbg.engine.session): it needs nothing of the
session but its filters, its notifier and the options word.
"""

from __future__ import annotations

from pydbg.constants import (
    DEBUG_ANY_ID,
    DEBUG_CES_ENGINE_OPTIONS,
    DEBUG_CES_EVENT_FILTERS,
    EngineOptions,
    FilterStatus,
    SpecificFilter,
)
from pydbg.engine.notify import Notifier
from pydbg.errors import (
    EngineError,
)
from pydbg.filters import EventFilters


class Options:
    """The engine options word and its tie to the `ibp` filter."""

    _options: int
    _filters_version: int
    filters: EventFilters
    notifier: Notifier

    def _filters_changed(self, index: int) -> None:
        self._filters_version += 1
        self.notifier.engine_state(DEBUG_CES_EVENT_FILTERS, index)
        if index in (SpecificFilter.INITIAL_BREAKPOINT, DEBUG_ANY_ID):
            self.sync_initial_break_option()

    def get_engine_options(self) -> int:
        return self._options

    def set_engine_options(self, options: int) -> None:
        if options < 0 or options & ~0xFFFFFFFF:
            raise EngineError(f"engine options {options:#x} are not a DEBUG_ENGOPT_* word")
        old = self._options
        self._options = options
        # DEBUG_ENGOPT_INITIAL_BREAK and the `ibp` filter are one setting seen two ways.
        if (old ^ options) & EngineOptions.INITIAL_BREAK:
            wanted = (
                FilterStatus.BREAK if options & EngineOptions.INITIAL_BREAK else FilterStatus.IGNORE
            )
            self._set_ibp(wanted)
        if old != options:
            self.notifier.engine_state(DEBUG_CES_ENGINE_OPTIONS, options)

    def _set_ibp(self, execution: FilterStatus) -> None:
        index = SpecificFilter.INITIAL_BREAKPOINT
        current = self.filters.get_specific_filter_parameters(index, 1)[0]
        if current.execution_option != execution:
            from dataclasses import replace

            self.filters.set_specific_filter_parameters(
                index, [replace(current, execution_option=execution)]
            )

    def sync_initial_break_option(self) -> None:
        """The `ibp` filter changed (every change of it, or a reset of every filter, calls
        this): keep DEBUG_ENGOPT_INITIAL_BREAK in step."""
        ibp = self.filters.specific(SpecificFilter.INITIAL_BREAKPOINT)
        assert ibp is not None
        breaks = ibp.execution_option in (FilterStatus.BREAK, FilterStatus.SECOND_CHANCE_BREAK)
        if bool(self._options & EngineOptions.INITIAL_BREAK) != breaks:
            self._options ^= EngineOptions.INITIAL_BREAK
            self.notifier.engine_state(DEBUG_CES_ENGINE_OPTIONS, self._options)
