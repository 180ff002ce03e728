"""The detach_busy target (tests/targets/detach_busy.c) as the detach and termination tests
use it: started untraced, asked for its progress counter, told to exit."""

from __future__ import annotations

import select
import subprocess
import time
from typing import Any

from tests.support import tracer_pid

# A bound for the target's answers: a missing answer fails instead of hanging.
ANSWER_LIMIT = 20.0
# How long a detached target is watched for progress (its own counter).
WATCH = 0.3
FUNCTIONS = ("busy_a", "busy_b", "busy_c", "busy_d", "busy_hw")


class Busy:
    """The detach_busy target, started untraced; `alive()` checks that it still makes
    progress; `finish()` makes it exit and returns its status."""

    def __init__(self, binary: Any) -> None:
        self.binary = binary
        self.proc = subprocess.Popen([binary.path], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None and self.proc.stdin is not None
        assert self.proc.stdout.readline() == b"ready\n"
        self.pid = self.proc.pid
        self.addr = {name: binary.addr(self.pid, name) for name in FUNCTIONS}

    def progress(self) -> int | None:
        """Its progress counter, or None if it is gone."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(b"p\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return None
        # Bounded: a target left stopped (or traced) never answers.
        ready, _, _ = select.select([self.proc.stdout], [], [], ANSWER_LIMIT)
        line = self.proc.stdout.readline() if ready else b""
        if not line.startswith(b"progress "):
            return None
        return int(line.split()[1])

    def alive(self) -> bool:
        """Alive, untraced, and still making progress over WATCH seconds."""
        first = self.progress()
        if first is None:
            return False
        time.sleep(WATCH)
        second = self.progress()
        return second is not None and second > first and tracer_pid(self.pid) == 0

    def finish(self) -> int:
        """Tell it to stop; its exit status (0: every call returned what it should)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(b"q\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(timeout=ANSWER_LIMIT)
        finally:
            self.close()

    def code_is_original(self) -> bool:
        """The first bytes of every breakpoint function are those of the file."""
        for name in FUNCTIONS:
            disk = self.binary.file_bytes(self.binary.sym(name), 8)
            with open(f"/proc/{self.pid}/mem", "rb", buffering=0) as f:
                f.seek(self.addr[name])
                if f.read(8) != disk:
                    return False
        return True

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
