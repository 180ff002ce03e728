"""Debug log channels: what the engine does with each stop, for whoever chases a ptrace race
(LLDB's `log enable lldb process`, gdb's `set debug linux-nat 1`).

Four stdlib loggers, each a channel, all at DEBUG level:

* ``pydbg.native``: every native record as it leaves ``backend.wait`` (or a synchronous
  step), before the engine looks at it: ``record <Event BREAKPOINT tid=... addr=...>``.
* ``pydbg.engine``: the path of a stop through the engine: ``take`` (a record and the
  events it turned into), ``event`` (the event being decided, as cdb describes it),
  ``vote`` (each callback's vote, and the decision they combine into), ``resume`` (how the
  targets run on: cont_all with the signals delivered, a step plan, one thread's cont on the
  fast paths), ``break`` (the wait returns).
* ``pydbg.commands``: the commands that filters and breakpoints run inside a wait, and the
  vote each one gave.
* ``pydbg.hostengine``: the host-engine server (pydbg.hostengine): connections, requests,
  votes asked of remote clients.  Refused passwords and dropped frames are logged there
  at WARNING level whether the channel is on or not.
* ``pydbg.gdbremote``: `pydbg gdbserver`'s packets (``<-`` received, ``->`` sent) and
  the ones it dropped or refused, and why.

Turning a channel on: the environment variable ``PYDBG_LOG``, a comma list of channel names
(``engine``, ``native``, ``commands``, ``gdbremote``, or ``all``), read when this module is
first imported (with the engine); it sends those channels to stderr.  Or from Python,
``pydbg.log.enable``, or plain ``logging`` configuration
(``logging.getLogger("pydbg.engine").setLevel(DEBUG)``).

Zero cost when off: the engine asks ``logger.isEnabledFor(DEBUG)`` once per
``wait_for_event`` and keeps the answer in a flag; the hot loops test a local copy of that
flag, and build no message unless it is set.  A level changed in the middle of a wait takes
effect at the next wait.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

__all__ = [
    "CHANNELS",
    "COMMANDS",
    "ENGINE",
    "HOSTENGINE",
    "GDBREMOTE",
    "NATIVE",
    "configure_from_environment",
    "disable",
    "enable",
]

ENGINE = logging.getLogger("pydbg.engine")
NATIVE = logging.getLogger("pydbg.native")
COMMANDS = logging.getLogger("pydbg.commands")
HOSTENGINE = logging.getLogger("pydbg.hostengine")
GDBREMOTE = logging.getLogger("pydbg.gdbremote")
CHANNELS: dict[str, logging.Logger] = {
    "engine": ENGINE,
    "native": NATIVE,
    "commands": COMMANDS,
    "hostengine": HOSTENGINE,
    "gdbremote": GDBREMOTE,
}

DEBUG = logging.DEBUG
FORMAT = "%(asctime)s.%(msecs)03d %(name)s: %(message)s"

# The handler each channel got from enable(), so that enabling twice does not print twice.
_handlers: dict[str, logging.Handler] = {}


def _names(spec: str) -> list[str]:
    names = [part.strip().lower() for part in spec.split(",") if part.strip()]
    if "all" in names:
        return list(CHANNELS)
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ValueError(
            f"unknown pydbg log channel(s) {', '.join(unknown)}: "
            f"choose from {', '.join(CHANNELS)} or all"
        )
    return names


def enable(spec: str = "all", stream: TextIO | None = None) -> list[str]:
    """Turn on the channels in `spec` (a comma list, or "all"), writing to `stream`
    (stderr by default); return their names.  A channel so enabled does not propagate to
    the root logger, so an application's own handlers do not print its lines twice."""
    names = _names(spec)
    for name in names:
        logger = CHANNELS[name]
        logger.setLevel(DEBUG)
        old = _handlers.pop(name, None)
        if old is not None:
            logger.removeHandler(old)
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
        _handlers[name] = handler
    return names


def disable(spec: str = "all") -> None:
    """Turn the channels in `spec` off again (undoes enable)."""
    for name in _names(spec):
        logger = CHANNELS[name]
        handler = _handlers.pop(name, None)
        if handler is not None:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def configure_from_environment(value: str | None = None) -> list[str]:
    """Apply PYDBG_LOG (or `value`); an unknown channel name is reported on stderr and
    ignored rather than failing the import of pydbg."""
    spec = os.environ.get("PYDBG_LOG", "") if value is None else value
    if not spec.strip():
        return []
    try:
        return enable(spec)
    except ValueError as exc:
        print(f"pydbg: PYDBG_LOG={spec!r}: {exc}", file=sys.stderr)
        known = [n for n in (p.strip().lower() for p in spec.split(",")) if n in CHANNELS]
        return enable(",".join(known)) if known else []


configure_from_environment()
