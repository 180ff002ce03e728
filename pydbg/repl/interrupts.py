"""Ctrl-C in the interactive debugger (cdb's meaning, and gdb's terminal handling).

* At the prompt the terminal is in prompt_toolkit's raw mode: Ctrl-C is a key, and it
  clears the line.
* While a launched program runs it owns the terminal (pydbg.repl.terminal), so Ctrl-C
  sends *it* SIGINT; the engine reports that as a Control-C exception, which breaks in
  (`sx cc`: break, handled: `g` goes on without delivering it, as gdb's `handle SIGINT
  stop nopass`).
* While an attached process runs the debugger keeps the terminal, and SIGINT reaches the
  debugger: the first one asks the engine to break in (control.set_interrupt); a second
  one before that break-in arrives ends the session the way pydbg.engine.teardown does
  (launched: killed, attached: detached with every breakpoint removed) and the debugger
  dies of SIGINT.
* While a command runs (outside a wait) Ctrl-C abandons it (KeyboardInterrupt).
* Ctrl-Z while a launched program runs sends it SIGTSTP.  Passed on, job control would
  stop the program with the terminal still its own, and nothing could wake it: so the
  interactive debugger breaks on SIGTSTP and goes on without delivering it, like Ctrl-C
  (`stop_on_terminal_stop`; `sxn e0000014` undoes it).

SIGTERM and SIGHUP stay pydbg.engine.teardown's, after the terminal's modes are restored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

from pydbg.constants import FilterHandling, FilterStatus
from pydbg.engine import teardown
from pydbg.filters import ExceptionFilterParameters

if TYPE_CHECKING:
    from pydbg.control import Control

__all__ = ["Interrupts", "stop_on_terminal_stop"]

# SIGTSTP's exception code: PYDBG_SIGNAL_FACILITY | SIGTSTP (pydbg.engine.signals).
_SIGTSTP_CODE = 0xE0000000 | signal.SIGTSTP


def stop_on_terminal_stop(control: Control) -> None:
    """Ctrl-Z (SIGTSTP) breaks in, and is not delivered when the program goes on."""
    control.set_exception_filter_parameters(
        [ExceptionFilterParameters(FilterStatus.BREAK, FilterHandling.GO_HANDLED, _SIGTSTP_CODE)]
    )


class Interrupts:
    """The SIGINT handler of the interactive debugger."""

    def __init__(self, break_in: Callable[[], None], before_death: Callable[[], None]) -> None:
        self._break_in = break_in
        self._before_death = before_death
        self._waiting = False
        self._pending = False
        self._installed = False

    def install(self) -> None:
        if self._installed:
            return
        self._installed = True
        teardown.install_handlers(sigint=False)
        signal.signal(signal.SIGINT, self._on_sigint)
        # SIGTERM and SIGHUP: the terminal gets the debugger's modes back (the prompt may
        # have it raw) before teardown's handler ends the session and the debugger dies.
        for signo in (signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(signo)
            if callable(previous):
                signal.signal(signo, self._restoring(previous))

    def _restoring(
        self, previous: Callable[[int, FrameType | None], Any]
    ) -> Callable[[int, FrameType | None], None]:
        def handler(signo: int, frame: FrameType | None) -> None:
            with contextlib.suppress(Exception):
                self._before_death()
            previous(signo, frame)

        return handler

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a wait_for_event: Ctrl-C breaks in."""
        self._waiting, self._pending = True, False
        try:
            yield
        finally:
            self._waiting, self._pending = False, False

    def _on_sigint(self, signo: int, frame: FrameType | None) -> None:
        if not self._waiting:
            raise KeyboardInterrupt
        if not self._pending:
            self._pending = True
            self._break_in()
            return
        # A second Ctrl-C and the break-in has not come: give up the session.
        teardown.end_all_sessions()
        with contextlib.suppress(Exception):
            self._before_death()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        os._exit(128 + signal.SIGINT)  # (not reached)
