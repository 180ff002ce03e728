"""Who hears what, in which order: the fan-out of callbacks, output and extension
notifications to every client of one engine.

Ordering rules it implements (spec §2.2, §4.7):

* SessionStatus(ACTIVE) reaches every interested callback, then every loaded extension hears
  DEBUG_NOTIFY_SESSION_ACTIVE, then ChangeDebuggeeState(DEBUG_CDS_ALL, 0) follows.
* Every other SessionStatus is preceded by ChangeEngineState(DEBUG_CES_EXECUTION_STATUS,
  new status) and followed by DEBUG_NOTIFY_SESSION_INACTIVE to the extensions.
* Only callbacks whose interest mask has the event's bit are called; clients are called in
  the order they were created.
* Output a client sends (its commands' output, DebugClient.output) goes where its current
  DEBUG_OUTCTL_* routing says (spec §6.6): THIS_CLIENT (the default), ALL_CLIENTS or
  ALL_OTHER_CLIENTS, each to the clients whose output mask takes it (OVERRIDE_MASK: to
  them whatever their mask); IGNORE and LOG_ONLY drop it (pydbg keeps no log file).  What
  the engine itself says (event banners, warnings) goes to every client.

Informational callbacks (session status and the three Change*State) cannot steer execution:
what they return is ignored, and an exception they raise is reported as output (it must not
unwind the engine halfway through a state change).

Every callback runs with every thread of every target stopped (pydbg.callbacks), so that
the facets work inside it.  Some notifications come while the targets run (a module loaded
by one thread of a process whose others run on, a breakpoint changed between waits): before
calling anyone, `halt` (the engine's stop-all) stops them; the next resume lets them go on.
The one exception is ChangeEngineState(EXECUTION_STATUS, ... | WAIT_TIMEOUT): it reports
that a wait timed out with the targets still running (spec §4.2), and they are left so.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from types import ModuleType

from pydbg.callbacks import EventCallbacks, OutputCallbacks
from pydbg.constants import (
    DEBUG_CDS_ALL,
    DEBUG_CES_EXECUTION_STATUS,
    DEBUG_OUTCTL_ALL_CLIENTS,
    DEBUG_OUTCTL_ALL_OTHER_CLIENTS,
    DEBUG_OUTCTL_OVERRIDE_MASK,
    DEBUG_OUTCTL_SEND_MASK,
    DEBUG_OUTCTL_THIS_CLIENT,
    DebugEvent,
    DebugNotify,
    DebugSession,
    DebugStatus,
    OutputMask,
)

# Interest bits as plain ints: IntFlag arithmetic costs microseconds, and these are tested
# for every client at every notification of every step.
_SESSION_STATUS = int(DebugEvent.SESSION_STATUS)
_CHANGE_DEBUGGEE_STATE = int(DebugEvent.CHANGE_DEBUGGEE_STATE)
_CHANGE_ENGINE_STATE = int(DebugEvent.CHANGE_ENGINE_STATE)
_CHANGE_SYMBOL_STATE = int(DebugEvent.CHANGE_SYMBOL_STATE)

# What a new client's output mask selects (everything but verbose and symbol chatter).
DEFAULT_OUTPUT_MASK = int(
    OutputMask.NORMAL
    | OutputMask.ERROR
    | OutputMask.WARNING
    | OutputMask.PROMPT
    | OutputMask.PROMPT_REGISTERS
    | OutputMask.EXTENSION_WARNING
    | OutputMask.DEBUGGEE
    | OutputMask.DEBUGGEE_PROMPT
)


class ClientSlot:
    """What the engine keeps per client: its callbacks and what it wants to hear."""

    def __init__(self) -> None:
        self.event_callbacks: EventCallbacks | None = None
        self.interest_mask = 0
        self.output_callbacks: OutputCallbacks | None = None
        self.output_mask = DEFAULT_OUTPUT_MASK
        # Where this client's own output goes (DEBUG_OUTCTL_*): Control.execute and
        # controlled_output change it for the duration of one call.
        self.output_control = DEBUG_OUTCTL_THIS_CLIENT

    def wants(self, bit: int) -> EventCallbacks | None:
        callbacks = self.event_callbacks
        return callbacks if callbacks is not None and self.interest_mask & bit else None


class Notifier:
    """Delivers notifications to the clients and extensions of one engine."""

    def __init__(self) -> None:
        self.clients: list[ClientSlot] = []
        self.extensions: list[ModuleType] = []
        # The OR of every client's interest mask; refresh() after a client changes its own.
        self.interests = 0
        # Stops every target thread (if any runs) before a callback hears a notification.
        self.halt: Callable[[], None] | None = None

    def refresh(self) -> None:
        self.interests = 0
        for slot in self.clients:
            if slot.event_callbacks is not None:
                self.interests |= slot.interest_mask

    # -- output ---------------------------------------------------------------------------------

    def output(self, mask: int, text: str, only: ClientSlot | None = None) -> None:
        """Send text of kind `mask` to every client whose mask takes it (or to `only`)."""
        for slot in self.clients if only is None else [only]:
            callbacks = slot.output_callbacks
            if callbacks is not None and slot.output_mask & mask:
                # Output must never unwind the engine, and there is nowhere left to report
                # a failing output callback.
                with contextlib.suppress(Exception):
                    callbacks.output(mask, text)

    def routed_output(self, sender: ClientSlot, mask: int, text: str) -> None:
        """Output `sender` produces, sent where its output_control says (module docstring)."""
        control = sender.output_control
        send = control & DEBUG_OUTCTL_SEND_MASK
        if send == DEBUG_OUTCTL_THIS_CLIENT:
            slots = [sender]
        elif send == DEBUG_OUTCTL_ALL_CLIENTS:
            slots = list(self.clients)
        elif send == DEBUG_OUTCTL_ALL_OTHER_CLIENTS:
            slots = [slot for slot in self.clients if slot is not sender]
        else:
            return  # IGNORE, LOG_ONLY
        override = bool(control & DEBUG_OUTCTL_OVERRIDE_MASK)
        for slot in slots:
            callbacks = slot.output_callbacks
            if callbacks is not None and (override or slot.output_mask & mask):
                with contextlib.suppress(Exception):  # as in output()
                    callbacks.output(mask, text)

    def takes_output(self, mask: int) -> bool:
        """Whether output of kind `mask` reaches anybody."""
        for slot in self.clients:
            if slot.output_callbacks is not None and slot.output_mask & mask:
                return True
        return False

    def report_callback_error(self, where: str) -> None:
        """Report the exception being handled, raised by a user callback in `where`."""
        self.output(
            OutputMask.ERROR,
            f"pydbg: {where} raised; counted as DEBUG_STATUS_BREAK\n{traceback.format_exc()}",
        )

    # -- informational callbacks ----------------------------------------------------------------

    def _inform(self, bit: int, method: str, *args: int, running: bool = False) -> None:
        if not self.interests & bit:
            return  # nobody listens: the common case on the stepping path
        if self.halt is not None and not running:
            self.halt()
        for slot in self.clients:
            callbacks = slot.wants(bit)
            if callbacks is None:
                continue
            try:
                getattr(callbacks, method)(*args)
            except Exception:  # noqa: BLE001 - see the module docstring
                self.output(
                    OutputMask.ERROR,
                    f"pydbg: {method} callback raised (ignored)\n{traceback.format_exc()}",
                )

    def engine_state(self, flags: int, argument: int, *, running: bool = False) -> None:
        """ChangeEngineState; `running`: the targets run on, by design (module docstring)."""
        self._inform(_CHANGE_ENGINE_STATE, "change_engine_state", flags, argument, running=running)

    def debuggee_state(self, flags: int, argument: int) -> None:
        self._inform(_CHANGE_DEBUGGEE_STATE, "change_debuggee_state", flags, argument)

    def symbol_state(self, flags: int, argument: int) -> None:
        self._inform(_CHANGE_SYMBOL_STATE, "change_symbol_state", flags, argument)

    def session_status(self, status: DebugSession) -> None:
        """SessionStatus with what must come before and after it (module docstring)."""
        if status == DebugSession.ACTIVE:
            self._inform(_SESSION_STATUS, "session_status", status)
            self.extensions_notify(DebugNotify.SESSION_ACTIVE)
            self.debuggee_state(DEBUG_CDS_ALL, 0)
        else:
            self.engine_state(DEBUG_CES_EXECUTION_STATUS, DebugStatus.NO_DEBUGGEE)
            self._inform(_SESSION_STATUS, "session_status", status)
            self.extensions_notify(DebugNotify.SESSION_INACTIVE)

    # -- extensions -----------------------------------------------------------------------------

    def extensions_notify(self, notify: DebugNotify, only: ModuleType | None = None) -> None:
        for module in self.extensions if only is None else [only]:
            hook: Callable[[int, int], object] | None = getattr(
                module, "debug_extension_notify", None
            )
            if hook is None:
                continue
            try:
                hook(int(notify), 0)
            except Exception:  # noqa: BLE001 - an extension must not break the session
                self.output(
                    OutputMask.ERROR,
                    f"pydbg: extension {module.__name__}.debug_extension_notify raised "
                    f"(ignored)\n{traceback.format_exc()}",
                )
