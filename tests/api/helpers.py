"""Small helpers of the api tests: bounded waits, the target's output file, calls made
from another thread while the test thread waits, and cdb's number format."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

import pydbg

# A bound for waits that must end with an event: a missing event fails the test instead of
# hanging it.  Never a timing assertion.
WAIT_LIMIT = 20.0


def wait(client: pydbg.DebugClient, timeout: float = WAIT_LIMIT) -> bool:
    """wait_for_event with a bound (see WAIT_LIMIT)."""
    return client.control.wait_for_event(timeout=timeout)


def read_lines(path: str) -> list[str]:
    """The lines the events target wrote to its output file."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


@contextlib.contextmanager
def later(delay: float, function: Callable[..., object], *args: object) -> Iterator[None]:
    """Call function(*args) from another thread after `delay` seconds, while the body runs
    (typically a blocking wait); the thread is always joined before leaving."""
    timer = threading.Timer(delay, function, args)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()


def hex64(value: int) -> str:
    """cdb's 64-bit number format: 00005555`55554000."""
    text = f"{value:016x}"
    return f"{text[:8]}`{text[8:]}"
