"""Sharing one terminal between the debugger and the program it launched, the way gdb does.

The program runs in a process group of its own (setpgid in the child before exec:
`create_process(new_process_group=True)`).  While it runs, that group is the terminal's
foreground group, so the program reads the terminal and Ctrl-C sends *it* SIGINT (which
the engine reports as a Control-C exception: the break-in).  When it stops, the debugger
takes the terminal back.  Each side has its own terminal modes: the program's are saved
when it stops and put back when it runs again, the debugger's are restored at every stop,
so a program that leaves the terminal raw does not break the prompt (termios(3)).

tcsetpgrp() and tcsetattr() from a background group raise SIGTTOU (tcsetpgrp(3)); the
debugger blocks it rather than ignoring it: an ignored signal stays ignored across exec in
the programs it launches, while the launch code empties the blocked mask before exec.
Blocked, it also lets the debugger print while the program has the terminal, even with
TOSTOP set.

Output: the debugger's text never starts in the middle of a line the program left
unfinished (`fresh_line`: zsh's PROMPT_SP trick, a full row of blanks that wraps only when
the cursor is not at column 0), and while the program's modes are in force (output
post-processing may be off) newlines are written as CR LF.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import termios
from collections.abc import Callable, Iterator
from typing import Any, TextIO

__all__ = ["Terminal"]

_Modes = list[Any]  # termios.tcgetattr: [iflag, oflag, cflag, lflag, ispeed, ospeed, cc]


class Terminal:
    """The controlling terminal on `fd` (the debugger's stdin), shared with a launched program."""

    def __init__(self, fd: int, out: TextIO | None = None) -> None:
        self.fd = fd
        self.out = out if out is not None else sys.stdout
        self.ours: _Modes = termios.tcgetattr(fd)
        self.our_group = os.getpgrp()
        self.program_modes: _Modes | None = None  # None: as the debugger's (a fresh program)
        self.program_has_it = False  # the program's group is in the foreground
        self.program_ran = False  # the program may have left the cursor mid-line
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})

    def new_program(self) -> None:
        """A new program starts with the debugger's modes (after .restart)."""
        self.program_modes = None

    @contextlib.contextmanager
    def given_to(self, group: int | None) -> Iterator[None]:
        """While the program runs: its modes, its group in the foreground (group None: an
        attached process, which is not in this terminal; only the line state is tracked)."""
        if group is None:
            try:
                yield
            finally:
                self.program_ran = True
            return
        self._give(group)
        try:
            yield
        finally:
            self.take_back()

    def _give(self, group: int) -> None:
        with contextlib.suppress(OSError):
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.program_modes or self.ours)
        try:
            os.tcsetpgrp(self.fd, group)
        except OSError:
            return  # the group is gone (the program exited): nothing to give
        self.program_has_it = True
        self.program_ran = True

    def take_back(self) -> None:
        """The program stopped (or ended): the debugger's group and modes again."""
        if not self.program_has_it:
            return
        with contextlib.suppress(OSError):
            os.tcsetpgrp(self.fd, self.our_group)
        with contextlib.suppress(OSError):
            self.program_modes = termios.tcgetattr(self.fd)
        with contextlib.suppress(OSError):
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.ours)
        self.program_has_it = False

    def restore(self) -> None:
        """The debugger's own modes (at exit)."""
        self.take_back()
        with contextlib.suppress(OSError):
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.ours)

    def fresh_line(self) -> None:
        """Go to column 0 of a new line if the program left the cursor mid-line."""
        if not self.program_ran:
            return
        self.program_ran = False
        if not self.out.isatty():
            return
        try:
            columns = os.get_terminal_size(self.out.fileno()).columns
        except (OSError, ValueError):
            return
        # At column 0 the blanks fill the row exactly (the cursor waits at its end) and CR
        # returns to its start; anywhere else they wrap, and CR goes to the next row's start.
        self.out.write(" " * columns + "\r\x1b[K")
        self.out.flush()

    def writer(self) -> Callable[[TextIO, str], None]:
        """A write(stream, text) for the debugger's output while a program may share the
        terminal."""

        def write(stream: TextIO, text: str) -> None:
            if self.program_has_it:
                # (Inside a wait: the program may have run and written since the last
                # event's output.)
                self.program_ran = True
                if stream.isatty():
                    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
            self.fresh_line()
            stream.write(text)
            stream.flush()

        return write
