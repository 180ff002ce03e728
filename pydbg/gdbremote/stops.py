"""DbgEng events as GDB stop replies, and Linux signal numbers as GDB's.

GDB numbers signals its own way (gdb/include/gdb/signals.def), equal to Linux's for the
classic ones but not for SIGBUS, SIGUSR1/2, SIGCHLD, SIGCONT/STOP/TSTP, SIGURG, SIGIO,
SIGPWR, SIGSYS and the real-time signals: the tables below translate both ways.

A stop reply (gdb manual, "Stop Reply Packets"):
    T05thread:p<pid>.<tid>;06:<rbp>;07:<rsp>;10:<rip>;swbreak:;   a stop, with its reason
    W<code>;process:<pid>                                          exited
    X<gdb signal>;process:<pid>                                    killed by a signal
The expedited registers (rbp, rsp, rip, as gdbserver sends) spare gdb a `g` per step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GDB_SIGINT",
    "GDB_SIGTRAP",
    "Stop",
    "from_gdb_signal",
    "thread_id",
    "to_gdb_signal",
]

GDB_SIGINT = 2
GDB_SIGTRAP = 5
_GDB_UNKNOWN = 143

# Linux number -> GDB number, where they differ or the signal is not one gdb knows by
# its Linux number.
_LINUX_TO_GDB_DIFF = {
    7: 10,  # SIGBUS
    10: 30,  # SIGUSR1
    12: 31,  # SIGUSR2
    16: _GDB_UNKNOWN,  # SIGSTKFLT: gdb has no such signal
    17: 20,  # SIGCHLD
    18: 19,  # SIGCONT
    19: 17,  # SIGSTOP
    20: 18,  # SIGTSTP
    23: 16,  # SIGURG
    29: 23,  # SIGIO
    30: 32,  # SIGPWR
    31: 12,  # SIGSYS
    32: 77,  # SIGRTMIN (GDB_SIGNAL_REALTIME_32)
}


def _linux_to_gdb(signo: int) -> int:
    if signo in _LINUX_TO_GDB_DIFF:
        return _LINUX_TO_GDB_DIFF[signo]
    if 1 <= signo <= 31:
        return signo
    if 33 <= signo <= 63:
        return signo + 12  # GDB_SIGNAL_REALTIME_33 is 45, ..., REALTIME_63 is 75
    if signo == 64:
        return 78  # GDB_SIGNAL_REALTIME_64
    return _GDB_UNKNOWN


LINUX_TO_GDB = {signo: _linux_to_gdb(signo) for signo in range(1, 65)}
GDB_TO_LINUX = {gdb: linux for linux, gdb in LINUX_TO_GDB.items() if gdb != _GDB_UNKNOWN}


def to_gdb_signal(signo: int) -> int:
    """GDB's number for Linux signal `signo` (GDB_SIGNAL_UNKNOWN, 143, for none)."""
    return LINUX_TO_GDB.get(signo, _GDB_UNKNOWN)


def from_gdb_signal(number: int) -> int | None:
    """The Linux signal for GDB's `number`, None when Linux has none."""
    return GDB_TO_LINUX.get(number)


def thread_id(pid: int, tid: int, multiprocess: bool) -> str:
    return f"p{pid:x}.{tid:x}" if multiprocess else f"{tid:x}"


@dataclass(frozen=True)
class Stop:
    """Why the targets stopped, in the protocol's terms.

    kind: "signal" (T), "exited" (W) or "killed" (X).  For "signal": `signal` is GDB's
    number, `reason` one of "", "swbreak", "hwbreak", "watch", "rwatch", "awatch" and
    `address` the watched address.  For "exited": `signal` is the exit code; for
    "killed" GDB's number of the killing signal."""

    kind: str
    signal: int
    pid: int
    tid: int = 0
    reason: str = ""
    address: int = 0

    def reply(self, multiprocess: bool, expedite: dict[int, bytes] | None = None) -> str:
        if self.kind == "exited":
            code = f"W{self.signal & 0xFF:02x}"
            return code + (f";process:{self.pid:x}" if multiprocess else "")
        if self.kind == "killed":
            code = f"X{self.signal:02x}"
            return code + (f";process:{self.pid:x}" if multiprocess else "")
        parts = [f"T{self.signal:02x}thread:{thread_id(self.pid, self.tid, multiprocess)};"]
        for number, data in (expedite or {}).items():
            parts.append(f"{number:02x}:{data.hex()};")
        if self.reason in ("watch", "rwatch", "awatch"):
            parts.append(f"{self.reason}:{self.address:x};")
        elif self.reason:
            parts.append(f"{self.reason}:;")
        return "".join(parts)
