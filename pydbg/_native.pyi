"""The native contract: everything pydbg asks of the kernel, and nothing more.

`pydbg._native` is a Cython extension built from csrc/.  It is the only code in pydbg that
calls ptrace, waitpid, tgkill, process_vm_readv/writev or opens /proc/PID/mem.  This stub is
the written contract between that core and the pure-Python engine above it.

Threading
---------
A ptrace relationship belongs to the kernel *thread* that made it.  A `Tracer` records the
thread that constructed it (its owner) and every method except `Tracer.wake` refuses other
threads with `pydbg.errors.WrongThreadError`.  `waitpid(-1)` anywhere else in the process
steals events: code in a pydbg process must not call `os.wait()` / `os.waitpid(-1, ...)`.

Thread states kept by the tracer
--------------------------------
Every traced thread is RUNNING, STOPPED (in a ptrace-stop: registers and resumes allowed) or
LISTENING (restarted with PTRACE_LISTEN: job-control stopped, not inspectable until
interrupted).  A thread leaves the table when its exit status is reaped.  Methods that need a
stopped thread raise `pydbg.errors.NotStoppedError` otherwise, without calling the kernel.

Events
------
`Tracer.wait` returns `Event` records.  Stops that the core causes and consumes itself are
never reported: interrupt stops requested by `stop_all`, interrupt stops that arrive late
(after a real event overtook them; hazards §6.1), the initial stop of an auto-attached thread
or child (it is collected before its CLONE/FORK/VFORK event is returned, so the new task is
STOPPED when the caller sees that event), int3 traps of breakpoints that were removed
while a thread was already executing them, and traps that a native breakpoint condition
declines (below).  Everything else is reported exactly once.
Operations that wait for one particular thread (`step`, `trace`, `branch_step`, `stop_all`,
`kill`, `detach`, breakpoint step-over) stash the unrelated events they collect; the next
`wait` returns them first, in arrival order.

Native breakpoint conditions
----------------------------
`Tracer.set_breakpoint_condition` attaches a condition to an address of a process.  It
applies to every trap at that address: the int3 of a breakpoint inserted there, and a
debug-register trap (execute, or data: after the access) of a slot that holds that address,
set with `set_process_hw_breakpoint` or `set_hw_breakpoint`.  At each such trap the core,
before making any Event, counts a hit, tests the thread (`tid`), one register and one
memory value, counts a match if all pass, and reports the trap (BREAKPOINT or
HW_BREAKPOINT, as without a condition) only when it matched and the matches now exceed
`skip`.  A trap it does not report is *declined*:

- in `wait`, the thread is resumed as it was running (PTRACE_CONT, or PTRACE_SYSCALL
  after `Tracer.syscall`); nothing is returned for it, and `wait` goes on waiting (its
  timeout and `wake` still apply).  From an int3 the original
  instruction is executed first (step-over) while no other thread of the process can
  pass the lifted byte: the threads of the process that are RUNNING are stopped first
  (the stop-all machinery: events they report meanwhile are stashed, and those threads
  stay stopped), then exactly the threads stopped for it are resumed, each with its own
  request.  A signal that arrives during the step-over is reported as a SIGNAL event
  (with the original instruction already executed and the thread stopped after it) and
  delivered once when the caller resumes with it; when several arrive, the others go
  back to the thread's queue (their siginfo kept where the kernel allows, else as from
  tgkill) and are reported one by one afterwards.  This holds for every step off a
  breakpoint (`cont`, `cont_all`, `step`).  For a single-threaded process, and
  for any debug-register trap (an execute breakpoint is reported with EFLAGS.RF set, so
  the resumed instruction does not trap again; a data breakpoint traps after the
  access), the declined round creates no Python object.  A thread that was
  single-stepped (`singlestep`) into a declined int3 gets its step: the original
  instruction runs and a STEP is reported.
- everywhere else (`stop_all`, the stopping of the other threads for a step-over,
  `step`, `trace`, `branch_step`, or a thread with a `Tracer.interrupt` pending), the
  thread is left STOPPED at the trap as if stopped there, pc at the breakpoint address;
  nothing is reported (for `interrupt`, an INTERRUPT event is: the thread did stop), and
  the next resume of any kind executes the instruction.

Conditions are independent of breakpoint insertion (they may come first and outlive a
removal), are copied to fork children with the int3 sites (with their counts started
afresh), and are dropped with the sites at exec.
"""

from collections.abc import Container, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Final, Protocol, TypeAlias

Buffer: TypeAlias = bytes | bytearray | memoryview

class EventKind(IntEnum):
    """What a wait status, decoded, means (hazards §4)."""

    EXITED = 0  # WIFEXITED: the thread is gone; for the leader, the process is (exit_code)
    KILLED = 1  # WIFSIGNALED: gone by `signal`; core_dumped tells whether it dumped
    SIGNAL = 2  # signal-delivery-stop of a signal the core does not classify further
    BREAKPOINT = 3  # int3 at an inserted breakpoint site; pc already rewound to `address`
    STEP = 4  # a single-step requested by the core's caller completed (TRAP_TRACE, or
    #           TRAP_BRKPT after stepping a `syscall` instruction)
    HW_BREAKPOINT = 5  # debug-register trap (TRAP_HWBKPT); `dr6` says which slot fired
    GROUP_STOP = 6  # job-control stop (PTRACE_EVENT_STOP with SIGSTOP/TSTP/TTIN/TTOU)
    INTERRUPT = 7  # stop caused by `Tracer.interrupt` (PTRACE_EVENT_STOP with SIGTRAP)
    CLONE = 8  # new thread; `message` = its tid (already STOPPED and in the table)
    FORK = 9  # new process; `message` = its pid (already STOPPED and in the table)
    VFORK = 10  # like FORK; the parent is suspended by the kernel until VFORK_DONE
    VFORK_DONE = 11
    EXEC = 12  # `message` = the tid that called execve (it now carries the pid)
    EXIT = 13  # PTRACE_EVENT_EXIT: about to exit; `message` = the raw wait status
    SYSCALL = 14  # syscall-stop (after `Tracer.syscall`); see `Event.syscall_op`
    SECCOMP = 15
    CONTINUED = 16  # a LISTENING thread was woken by SIGCONT (group-stop ended)

class ThreadState(IntEnum):
    RUNNING = 0
    STOPPED = 1
    LISTENING = 2

class SupportsFileno(Protocol):
    def fileno(self) -> int: ...

class TraceReason(IntEnum):
    """Why `Tracer.trace` / `Tracer.run_until` stopped."""

    COUNT = 0  # max_steps instructions were executed
    ADDRESS = 1  # the pc reached `until`
    BREAKPOINT = 2  # the pc reached a code breakpoint: an inserted int3 site
    #                 (stop_at_breakpoints) whose native condition, if any, reported it,
    #                 or an execute debug-register slot; `event` is its record
    EVENT = 3  # something else stopped the thread: a signal, exit, hw trap; see `event`
    RETURNED = 4  # until_return: the function returned; the pc is its return address

# Resume requests, as recorded per thread (Tracer.last_request).
REQ_CONT: Final[int]
REQ_SINGLESTEP: Final[int]
REQ_SYSCALL: Final[int]
REQ_LISTEN: Final[int]

# si_code values that matter for SIGTRAP classification (hazards §4.1).
SI_KERNEL: Final[int]
TRAP_BRKPT: Final[int]
TRAP_TRACE: Final[int]
TRAP_HWBKPT: Final[int]

# Debug-register access types for `Tracer.set_hw_breakpoint` / `set_process_hw_breakpoint`.
HW_EXECUTE: Final[int]  # 0b00 in DR7; size must be 1
HW_WRITE: Final[int]  # 0b01
HW_READWRITE: Final[int]  # 0b11

# Names accepted by get_reg/set_reg (struct user_regs_struct, in kernel order).
REGISTER_NAMES: Final[tuple[str, ...]]

class Event:
    """One decoded wait status.  A value: it never changes after it is returned."""

    @property
    def kind(self) -> EventKind: ...
    @property
    def tid(self) -> int: ...
    @property
    def pid(self) -> int:
        """Thread-group id of the thread the event is about."""
    @property
    def status(self) -> int:
        """The raw waitpid status."""
    @property
    def signal(self) -> int:
        """Stop signal, terminating signal, or 0."""
    @property
    def message(self) -> int:
        """PTRACE_GETEVENTMSG for ptrace events, else 0."""
    @property
    def exit_code(self) -> int:
        """EXITED: the exit status; EXIT: WEXITSTATUS or 128+signal of `message`; else -1."""
    @property
    def core_dumped(self) -> bool: ...
    @property
    def address(self) -> int:
        """BREAKPOINT: the breakpoint address (= pc); STEP: the pc after the step;
        SIGNAL: si_addr (faults); SYSCALL: the pc; else 0."""
    @property
    def si_code(self) -> int:
        """siginfo si_code of signal-delivery-stops, else 0.

        For signals other than SIGTRAP the siginfo is fetched on first access of
        si_code / siginfo / sender_pid / address, and only while the thread still sits
        in that stop (GETSIGINFO costs a syscall most loops do not need).  Read them
        before resuming the thread; afterwards they are 0 / None.
        """
    @property
    def siginfo(self) -> bytes | None:
        """The 128-byte siginfo_t of a signal-delivery-stop, else None (see si_code)."""
    @property
    def sender_pid(self) -> int:
        """si_pid for signals sent by kill/tgkill/sigqueue (SI_USER, SI_TKILL, SI_QUEUE), else 0."""
    @property
    def dr6(self) -> int:
        """DR6 read at STEP / HW_BREAKPOINT stops of threads that use debug registers."""
    @property
    def syscall_op(self) -> int:
        """SYSCALL: PTRACE_SYSCALL_INFO_ENTRY (1) or _EXIT (2); else 0."""
    @property
    def syscall_nr(self) -> int:
        """SYSCALL entry: the syscall number; else -1."""
    @property
    def syscall_ret(self) -> int:
        """SYSCALL exit: the return value (negative errno on failure); else 0."""

class Regs:
    """A copy of struct user_regs_struct.  Mutable; write it back with `Tracer.set_regs`."""

    r15: int
    r14: int
    r13: int
    r12: int
    rbp: int
    rbx: int
    r11: int
    r10: int
    r9: int
    r8: int
    rax: int
    rcx: int
    rdx: int
    rsi: int
    rdi: int
    orig_rax: int
    rip: int
    cs: int
    eflags: int
    rsp: int
    ss: int
    fs_base: int
    gs_base: int
    ds: int
    es: int
    fs: int
    gs: int
    def __getitem__(self, name: str) -> int: ...
    def __setitem__(self, name: str, value: int) -> None: ...
    def as_dict(self) -> dict[str, int]: ...
    def copy(self) -> Regs: ...

class FPRegs:
    """The XSAVE area (PTRACE_GETREGSET, NT_X86_XSTATE), with the x87/SSE/AVX parts decoded.

    Setters mark the matching XSTATE_BV component present so the kernel restores it.
    """

    @staticmethod
    def from_raw(data: bytes) -> FPRegs:
        """An XSAVE area recorded elsewhere (a core file's NT_X86_XSTATE, or the 512-byte
        FXSAVE image of NT_FPREGSET: then has_avx is False)."""
    @property
    def raw(self) -> bytes: ...
    fcw: int
    fsw: int
    ftw: int  # abridged tag word, as stored by FXSAVE
    fop: int
    fip: int
    fdp: int
    mxcsr: int
    @property
    def has_avx(self) -> bool: ...
    def st(self, i: int) -> bytes:
        """x87 register ST(i) (physical slot i), 10 bytes."""
    def set_st(self, i: int, value: bytes) -> None: ...
    def xmm(self, i: int) -> int:
        """xmm0..xmm15 as an unsigned 128-bit integer."""
    def set_xmm(self, i: int, value: int) -> None: ...
    def ymm(self, i: int) -> int:
        """ymm0..ymm15 as an unsigned 256-bit integer (needs AVX)."""
    def set_ymm(self, i: int, value: int) -> None: ...

class TraceResult:
    """Outcome of `Tracer.trace` / `Tracer.run_until`."""

    @property
    def pcs(self) -> memoryview:
        """Recorded pcs (format 'Q'): the address of each executed instruction, in order."""
    @property
    def values(self) -> memoryview:
        """With `trace(register=...)` (format 'Q'): the register's value before each
        executed instruction, i.e. at values[i] the thread was at pcs[i], about to run it.
        Empty when no register was asked for."""
    @property
    def steps(self) -> int:
        """Number of instructions executed (= len(pcs) when recording, = len(values) with
        a register)."""
    @property
    def reason(self) -> TraceReason: ...
    @property
    def event(self) -> Event | None:
        """For reasons EVENT and BREAKPOINT: the stop that ended the trace (the thread
        sits in it)."""

class Tracer:
    """The ptrace owner: every traced process and thread of this Python process.

    Create it on the thread that will own the trace (the engine thread) and use it only
    there; only `wake` is free-threaded.  `close()` (or leaving a `with` block) kills the
    processes it spawned with kill_on_exit and detaches the rest.

    colocate (default True): on the first spawn, pin the owner thread to the CPU it is on,
    so that spawned programs (which inherit the mask) and the tracer share one CPU; every
    ptrace stop is then 3-6x cheaper on small virtual machines (bench/RESULTS.md).  The
    owner's affinity is restored by close(); a spawned program keeps running on that one
    CPU.  Seized processes are never re-pinned.  Pass colocate=False when the program's
    own parallelism matters more than stepping speed.
    """

    def __init__(self, *, colocate: bool = True) -> None: ...
    def __enter__(self) -> Tracer: ...
    def __exit__(self, *exc: object) -> None: ...
    def close(self) -> None: ...
    @property
    def owner_tid(self) -> int: ...
    @property
    def closed(self) -> bool: ...

    # -- acquiring and releasing processes ------------------------------------------------
    def spawn(
        self,
        argv: Sequence[str | bytes],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        disable_aslr: bool = False,
        stdin: int | SupportsFileno | None = None,
        stdout: int | SupportsFileno | None = None,
        stderr: int | SupportsFileno | None = None,
        pass_fds: Iterable[int] = (),
        trace_fork: bool = False,
        new_process_group: bool = False,
        kill_on_exit: bool = True,
    ) -> int:
        """Start argv[0] (searched in PATH when it has no '/') and return its pid.

        fork and execve happen in C with only async-signal-safe calls in the child.  The
        child is seized with TRACECLONE|TRACEEXEC|TRACEEXIT|TRACESYSGOOD (+FORK|VFORK with
        trace_fork, +EXITKILL with kill_on_exit) before it execs; spawn returns once it sits
        in its exec stop, STOPPED before its first instruction.  env=None inherits os.environ.

        stdin/stdout/stderr: an fd or an object with fileno(), dup2'ed onto 0/1/2 (None:
        inherit the caller's; subprocess.DEVNULL, and subprocess.STDOUT for stderr, as
        in subprocess).  The child closes every other fd but the pass_fds (their
        close-on-exec flag cleared) before execve: close_range(2), else the list of
        /proc/self/fd, else every fd below RLIMIT_NOFILE.  Every fd is checked before the
        fork: BadFileDescriptorError (closed, negative) or TypeError (a str, say), nothing
        spawned.  Raises ProgramNotFoundError / ProgramNotExecutableError / ExecError.
        """
    def seize(self, pid: int, *, trace_fork: bool = False, kill_on_exit: bool = False) -> list[int]:
        """Attach to a running process and every thread of it; return the tids, all STOPPED.

        PTRACE_SEIZE each tid of /proc/PID/task, re-listing until no new tid appears, and
        interrupt each.  A job-control-stopped process stays stopped after detach.
        Raises NoSuchProcessError, ZombieProcessError, AlreadyTracedError,
        SelfAttachError, PtracePermissionError (with ptrace_scope / CAP_SYS_PTRACE advice).
        """
    def detach(self, pid: int, *, leave_stopped: bool = False) -> None:
        """Release a process: stop it, remove every breakpoint byte and debug register,
        hand pending signals back, PTRACE_DETACH non-leaders then the leader.  With
        leave_stopped it stays job-control stopped (SIGSTOP) for the next debugger."""
    def kill(self, pid: int) -> int:
        """SIGKILL the process and reap it; return its raw final wait status."""

    # -- waiting --------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> list[Event]:
        """Events that happened, blocking until there is at least one.

        Returns stashed events first, then everything waitpid(-1, __WALL|WNOHANG) drains.
        Blocks with the GIL released and without spinning; returns [] when `timeout`
        seconds pass, when another thread calls `wake()`, or at once when no traced
        thread can produce an event (nothing running).  Ctrl-C raises KeyboardInterrupt.
        """
    def wake(self) -> None:
        """Make a blocked (or the next) `wait` return []. Callable from any thread."""
    def has_pending(self) -> bool:
        """True when stashed events wait to be returned by `wait`."""

    # -- execution control ----------------------------------------------------------------
    def interrupt(self, tid: int) -> None:
        """PTRACE_INTERRUPT one thread; its stop is reported as an INTERRUPT event."""
    def stop_all(self, pid: int | None = None) -> None:
        """Stop every RUNNING or LISTENING thread (of `pid`, or of every process) and wait
        until each is STOPPED or gone.  Interrupt stops are consumed; real events seen
        meanwhile are stashed for `wait`; new threads created meanwhile stay stopped.
        Threads of a process suspended in vfork are not waited for (hazards §6.1)."""
    def cont(self, tid: int, sig: int = 0) -> None:
        """PTRACE_CONT.  A thread stopped by BREAKPOINT first steps over it (see step),
        with the other threads left as they are: to resume several stopped threads use
        `cont_all`, or a running thread may pass the breakpoint during the step-over."""
    def cont_wait(
        self, tid: int, sig: int = 0, timeout: float | None = None, simple: int = 0
    ) -> list[Event] | tuple[int, int, int, int, int]:
        """`cont(tid, sig)`, then `wait(timeout)`, in one call: the round trip of a loop
        that decides one thread's signals.  When the wait yields exactly one signal-delivery-
        stop of that thread whose signal is in `simple` (a mask: bit signo-1; SIGTRAP never
        qualifies), returns (signo, si_code, address, pc, sender_pid), read while the thread
        sits in that stop (address and sender_pid as Event gives them); otherwise, or when
        the thread vanished meanwhile, the list `wait` returns."""
    def cont_all(
        self,
        pid: int | None = None,
        signals: Mapping[int, int] | None = None,
        syscall: Container[int] | None = None,
    ) -> None:
        """Resume every STOPPED thread (of `pid`, or of every process) with PTRACE_CONT,
        or with PTRACE_SYSCALL for the tids in `syscall` (their next syscall entry or exit
        is a SYSCALL event; TRACESYSGOOD is always set, so it is never taken for a SIGTRAP).

        First every thread sitting on a breakpoint is stepped off it while all the others
        are still stopped, then all of them run.  `signals` maps tid -> signal to deliver.
        A thread whose step-over ends in another event stays stopped; that event is
        stashed for `wait`."""
    def singlestep(self, tid: int, sig: int = 0) -> None:
        """PTRACE_SINGLESTEP without waiting (the STEP event comes from `wait`)."""
    def syscall(self, tid: int, sig: int = 0) -> None:
        """PTRACE_SYSCALL: run to the next syscall entry or exit (SYSCALL event)."""
    def listen(self, tid: int) -> None:
        """PTRACE_LISTEN from a GROUP_STOP: let the job-control stop take effect."""
    def step(self, tid: int, sig: int = 0) -> Event:
        """Single-step one thread and wait for its next stop; return that event.

        If the thread sits on an inserted breakpoint the original instruction is executed
        (byte restored, stepped, re-inserted) with every other thread left as it is.  If a
        signal arrives first, the SIGNAL event is returned and the instruction has not run.
        """
    def trace(
        self,
        tid: int,
        max_steps: int,
        *,
        until: int | None = None,
        record: bool = True,
        stop_at_breakpoints: bool | Iterable[int] = False,
        register: str | None = None,
        until_return: bool | tuple[int, int] = False,
    ) -> TraceResult:
        """Single-step in C up to max_steps times, recording each executed pc.

        Stops early when the pc reaches `until`, when the function returns (until_return),
        at a code breakpoint, or at any stop that is not a plain step (signal, exit, exec,
        a data watchpoint): that event is returned in the result, never lost.

        Code breakpoints, as gdb's `stepi N`: the trace stops at an inserted int3 site
        (with stop_at_breakpoints: True for every site, or a collection of addresses for
        those sites only; the others are stepped over transparently) and at an execute
        debug-register slot (always: it is a kernel trap) when the pc reaches it after
        the first step, before its instruction runs.  Reason BREAKPOINT; `event` is the
        BREAKPOINT record an int3 trap there would have made, or the HW_BREAKPOINT trap.
        At the starting pc neither stops the trace.  A breakpoint the last of max_steps
        reaches does not stop it: that is reason COUNT (gdb would report it as hit).

        `until` and until_return are checked before every step, the first included.

        register: a REGISTER_NAMES name (InvalidRegisterError otherwise) recorded into
        `TraceResult.values` before each step, at the instruction whose pc is recorded
        (one PTRACE_PEEKUSER a step; none for "rip").  Recorded with or without `record`.

        until_return: stop when the function returns, with the thread at the return
        address, its `ret` executed and the instruction there not yet.  The rule: the pc
        equals the return address and rsp is above the stack slot that held it (a `ret`
        pops that slot; a deeper, recursive call returning to the same address leaves rsp
        at or below it, and does not stop the trace).  True: the thread is at the first
        instruction of the function (before it pushes anything, e.g. stopped at a
        breakpoint on its entry): the slot is rsp and the return address is read there.
        Anywhere else pass (return_address, slot), where slot is rsp at the function's
        entry (its CFA - 8).  A longjmp or exception that unwinds past the frame without
        reaching the return address does not stop the trace.

        stop_at_breakpoints with a native condition at a site: the site counts a hit each
        time the trace reaches it (the starting pc excepted) and stops the trace only when
        the condition reports it; otherwise it is stepped over.  Without
        stop_at_breakpoints sites are not counted.
        """
    def run_until(self, tid: int, address: int, max_steps: int = 2**63 - 1) -> TraceResult:
        """Single-step only this thread until its pc equals address (no recording)."""
    def branch_step(self, tid: int) -> Event:
        """Run one thread to its next taken branch; return the stop at the branch target.

        Uses PTRACE_SINGLEBLOCK where the probe shows it works; otherwise decodes with
        capstone, runs to the next control-transfer instruction with a temporary
        breakpoint, and single-steps it (two stops per branch, cached per block).  Any
        other event on the way is returned instead.
        """
    def singleblock_works(self) -> bool:
        """Probe (once) whether PTRACE_SINGLEBLOCK really traps only on taken branches."""

    # -- thread table ---------------------------------------------------------------------
    def processes(self) -> list[int]: ...
    def threads(self, pid: int) -> list[int]: ...
    def thread_state(self, tid: int) -> ThreadState: ...
    def last_request(self, tid: int) -> int: ...
    def pid_of(self, tid: int) -> int: ...

    # -- registers ------------------------------------------------------------------------
    def get_regs(self, tid: int) -> Regs: ...
    def set_regs(self, tid: int, regs: Regs) -> None: ...
    def get_reg(self, tid: int, name: str) -> int:
        """One register of REGISTER_NAMES; InvalidRegisterError for other names."""
    def set_reg(self, tid: int, name: str, value: int) -> None: ...
    def get_pc(self, tid: int) -> int: ...
    def set_pc(self, tid: int, pc: int) -> None:
        """Set rip and orig_rax = -1 so an interrupted syscall is not restarted at the
        new pc (hazards §11)."""
    def get_fpregs(self, tid: int) -> FPRegs: ...
    def set_fpregs(self, tid: int, fpregs: FPRegs) -> None: ...

    # -- debug registers ------------------------------------------------------------------
    def get_debugreg(self, tid: int, index: int) -> int:
        """DR0..DR3, DR6 or DR7."""
    def set_debugreg(self, tid: int, index: int, value: int) -> None: ...
    def set_hw_breakpoint(self, tid: int, slot: int, address: int, access: int, size: int) -> None:
        """Program slot 0..3 of one thread: access HW_EXECUTE (size 1), HW_WRITE or
        HW_READWRITE (size 1, 2, 4 or 8, address aligned to size).  DR7 is cleared for the
        slot, the address written, then DR7 enabled (hazards §10)."""
    def clear_hw_breakpoint(self, tid: int, slot: int) -> None: ...
    def set_process_hw_breakpoint(
        self, pid: int, slot: int, address: int, access: int, size: int
    ) -> None:
        """Program slot 0..3 in every thread of the process, and in every thread it
        creates later (written when the new thread's first stop is collected, before its
        CLONE event is returned: debug registers are not inherited, hazards §7).

        Arguments and errors as `set_hw_breakpoint`, checked before anything is written.
        The slot number then belongs to the process: it replaces a per-thread breakpoint
        in that slot.  Threads that are RUNNING or LISTENING are stopped for the writing
        and resumed after it (stop-all rules: events they report meanwhile are stashed and
        those threads stay stopped); a thread the kernel holds in a vfork gets the slot
        at VFORK_DONE.  Fork children do not get it (their caller decides, with this call
        on the child).  Exec clears it (the kernel clears debug registers); detach
        clears it from every thread.  Traps are HW_BREAKPOINT events, subject to a native
        condition at `address` (see the module docstring)."""
    def clear_process_hw_breakpoint(self, pid: int, slot: int) -> None:
        """Disable slot 0..3 in every thread of the process (stopping running ones as
        set_process_hw_breakpoint does), whether or not it was set; new threads no longer
        get it."""

    # -- memory ---------------------------------------------------------------------------
    def read_memory(self, pid: int, address: int, size: int, *, partial: bool = False) -> bytes:
        """Read with process_vm_readv, falling back to /proc/PID/mem for pages it refuses
        that still grant some access (execute-only code); PROT_NONE pages and unmapped
        addresses are not readable.

        Inserted breakpoints read as their original bytes.  If fewer than `size` bytes are
        readable: with partial=True return the readable prefix; otherwise raise
        MemoryAccessError whose `.transferred` is the prefix length and `.data` the prefix.
        """
    def read_memory_into(self, pid: int, address: int, buffer: Buffer) -> int:
        """Read len(buffer) bytes into a writable buffer; return how many were readable."""
    def write_memory(self, pid: int, address: int, data: Buffer) -> None:
        """Write with process_vm_writev, falling back to /proc/PID/mem for read-only and
        code pages (never PROT_NONE ones).
        Bytes under an inserted breakpoint update its saved original byte and keep the
        int3.  Raises MemoryAccessError (with `.transferred`) if not all was written."""

    # -- software breakpoints -------------------------------------------------------------
    def insert_breakpoint(self, pid: int, address: int) -> None:
        """Write int3 at address (reference-counted: inserting twice needs two removes)."""
    def remove_breakpoint(self, pid: int, address: int) -> None: ...
    def breakpoints(self, pid: int) -> dict[int, int]:
        """Inserted sites: address -> original byte."""

    # -- native conditions (module docstring) ---------------------------------------------
    def set_breakpoint_condition(
        self,
        pid: int,
        address: int,
        *,
        tid: int = 0,
        skip: int = 0,
        register: str | None = None,
        reg_op: str | None = None,
        reg_value: int = 0,
        mem_address: int = 0,
        mem_size: int = 0,
        mem_op: str | None = None,
        mem_value: int = 0,
    ) -> None:
        """Decide the traps at `address` in the core; replaces the condition there, if
        any, and starts its counts at (0, 0).  Everything is checked before anything
        changes.

        A trap matches when all given tests pass:
          tid: 0 any thread, else only that one (a tid not in the process never matches).
          register, reg_op, reg_value: a REGISTER_NAMES name (InvalidRegisterError
            otherwise) compared with reg_value; "rip" is the breakpoint address.
          mem_address, mem_size, mem_op, mem_value: mem_size (1, 2, 4 or 8) bytes at
            mem_address, read with process_vm_readv at the trap, little-endian and
            zero-extended, compared with mem_value.
        Operators "==", "!=", "<", "<=", ">", ">=" compare unsigned 64-bit values;
        reg_value and mem_value are taken modulo 2**64 (-1 is 2**64 - 1), and a mem_value
        sign-extended from mem_size bytes (-1 for a 4-byte value) means its low mem_size
        bytes.  A register or memory value that cannot be read counts as a pass, so such a
        trap is reported.  With no test at all every trap matches: a counting condition.
        The trap is reported when it matches and the matches now exceed `skip` (>= 0).
        ValueError for an unknown operator, reg_op without register (or the reverse),
        mem_* without mem_op, a bad mem_size, a negative skip.
        """
    def clear_breakpoint_condition(self, pid: int, address: int) -> None:
        """Drop the condition at address (nothing happens where there is none); traps
        there are reported again.  The breakpoint itself stays."""
    def set_pass_signals(self, signals: Mapping[int, bool]) -> None:
        """Signals that wait() passes on without reporting them, like gdb's `handle SIG
        nostop noprint pass`: signal -> deliver (True: resumed with the signal, False:
        resumed without it).  Only signal-delivery-stops of threads let run with cont
        (not stop-all, steps or traces), and not at a pc where a breakpoint sits.
        Replaces the previous set; {} reports every signal.  SIGKILL, SIGSTOP and SIGTRAP
        raise ValueError."""
    def set_syscall_pass(self, report: Iterable[int] | None = None) -> None:
        """Syscall stops that wait() resumes without reporting them, as set_pass_signals
        does for signals.  None (the default): every syscall stop is reported.  Otherwise
        only those of the numbers in `report` (and of numbers >= 1024) are; the others are
        resumed with PTRACE_SYSCALL, and their entries counted (`syscall_counts`).  Only
        stops of threads the caller let run with PTRACE_SYSCALL (cont_all's `syscall`), in
        wait (not stop-all, steps or traces), with no interrupt pending.  An exit stop goes
        by the number of the entry the thread stopped at last; an exit whose entry the core
        did not see (tracing began inside the call) is reported."""
    def syscall_counts(self, reset: bool = False) -> dict[int, int]:
        """number -> syscall entries `wait` passed on unreported (set_syscall_pass), in
        every thread of every process since the last reset."""
    def breakpoint_counts(self, pid: int, address: int) -> tuple[int, int]:
        """(hits, matches) since the condition at address was set: every trap there, and
        those that passed the tid, register and memory tests (reported or skipped).
        (0, 0) where no condition is set: nothing is counted there."""

def gettid() -> int:
    """The kernel thread id of the calling thread."""

def exec_in_progress(pid: int) -> bool:
    """Is a thread of process `pid` inside execve or execveat (read from
    /proc/PID/task/TID/syscall; False when the process is gone)?  While one is, the other
    threads' exits are the exec's doing (ptrace(2), "execve(2) under ptrace")."""

# What a control transfer is: one definition for branch_step and the engine's
# disassembler (csrc/stepping.pyx explains it).
TRANSFER_NONE: Final[int]
TRANSFER_JUMP: Final[int]
TRANSFER_CALL: Final[int]
TRANSFER_RETURN: Final[int]
TRANSFER_SYSTEM: Final[int]

def transfer_kind(insn: object) -> int:
    """TRANSFER_* of a capstone instruction decoded with detail: CALL (the CALL group),
    RETURN (RET, IRET), JUMP (JUMP or BRANCH_RELATIVE: jmp, jcc, jrcxz, loop*, xbegin),
    SYSTEM (INT: syscall, sysenter, int n, int3, int1), else NONE."""

def transfer_is_conditional(insn: object) -> bool:
    """A JUMP that may fall through: every one but jmp and ljmp, whatever the prefixes."""

def _set_spawn_fd_method(method: int) -> None:
    """Test hook: how spawned children close their fds (0 close_range, 1 /proc/self/fd,
    2 every fd below RLIMIT_NOFILE)."""
