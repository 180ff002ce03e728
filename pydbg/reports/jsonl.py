"""The JSON Lines form of a batch run (`pydbg run --json FILE`): one JSON object a line,
written as the run goes, each with a `type`.  Schema version 1:

    {"type": "start", "schema": 1, "pydbg": "0.1.0", "argv": [...], "pid": 1234,
     "timeout": 30.0 | null, "wall_time": "2026-12-06T01:02:03.456789+00:00"}
    {"type": "event", "time": 0.0123, "kind": KIND, "pid": 1234, "tid": 1234,
     "pc": 140737.. | null, "symbol": "libc_so!raise+0x12" | null, ...}
    {"type": "crash", ...}  or  {"type": "hang", ...}     (at most one report)
    {"type": "end", "time": 0.25, "status": 139, "reason": REASON,
     "exit_code": 139 | null, "signal": 11 | null, "core": "path" | null}

`time` is seconds since the launch; `core` is the core file written (--core), if
any.  Numbers (addresses, pcs, registers) are plain JSON
integers.  Event KINDs and their extra fields:

    create_process   image, base              exit_process   exit_code, signal (null: exited)
    create_thread                             exit_thread    exit_code
    load_module      module, path, base       unload_module  module, base
    breakpoint       id
    exception        code (the DbgEng exception code), description, first_chance,
                     signal, signal_name (null for exceptions no signal raised)

`pc` and `symbol` are the event thread's (null at exits).  The crash record
(pydbg.reports.crash.CrashReport.to_json):

    pid, tid, signal, signal_name, si_code (signed), si_code_text, description,
    address (the faulting address, null unless a processor fault),
    mapping: {base, end, mapped, usage, perms, path} | null   (the region of `address`),
    registers: {"rax": int, ..., "efl": int, "cs": int, ...},
    instructions: [{address, text, faulting}]  (the faulting one last, up to 5 before),
    threads: [THREAD, ...]  (the crashed one first, with "crashed": true),
    modules: [{name, path, base, end, build_id}]

The hang record (pydbg.reports.hang.HangReport.to_json): pid, reason, threads.  A THREAD
is {engine_id, tid, frames: [FRAME], truncated, error}; a FRAME is {number, pc,
return_address, stack_pointer, symbol ("module!function+0x1f"), module, function, offset,
file, line, inline}, innermost first, null where unknown; an inline frame (a function the
compiler inlined, `inline` true) has the pc, return address and stack pointer of the
frame holding it.

End REASONs: "exited" (exit_code: its status, whatever its value), "crashed" (a crash
record came first; exit_code 128+signal), "killed" (a signal killed it without a crash
record: one that gives no second chance, e.g. SIGKILL; exit_code 128+signal),
"timeout" (status 124, a hang record came first), "interrupted" (the user broke in; status
130), "error" (pydbg failed; status 1).
"""

from __future__ import annotations

import datetime
import json
from typing import IO, Any

__all__ = ["SCHEMA_VERSION", "JsonLines"]

SCHEMA_VERSION = 1


class JsonLines:
    """Writes records to a text file, one JSON object a line, flushed as they come (a run
    killed halfway leaves every line written so far)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.stream.flush()

    def start(self, argv: list[str], pid: int, version: str, timeout: float | None) -> None:
        self.write(
            {
                "type": "start",
                "schema": SCHEMA_VERSION,
                "pydbg": version,
                "argv": argv,
                "pid": pid,
                "timeout": timeout,
                "wall_time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }
        )
