"""Where the prompt's history lives: $XDG_STATE_HOME/pydbg/history (default
~/.local/state/pydbg/history), the XDG base directory for state that outlives a session
but is not worth a backup (XDG Base Directory Specification)."""

from __future__ import annotations

import os

__all__ = ["history_path"]


def history_path() -> str:
    """The history file's path; its directory is created (mode 0700) if missing."""
    state = os.environ.get("XDG_STATE_HOME") or ""
    if not os.path.isabs(state):  # the spec: a relative path is invalid, ignore it
        state = os.path.join(os.path.expanduser("~"), ".local", "state")
    directory = os.path.join(state, "pydbg")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    return os.path.join(directory, "history")
