# table.pyx - what the tracer knows about every traced thread and process.
#
# The kernel does not tell a tracer which of its threads are running, which have an
# interrupt in flight, or which stop is a late leftover of an earlier request; every
# correct ptrace loop keeps that bookkeeping itself (hazards §6.1 rules 2-5, §6.2, §7).

import enum


class ThreadState(enum.IntEnum):
    RUNNING = 0
    STOPPED = 1
    LISTENING = 2


class TraceReason(enum.IntEnum):
    """Why Tracer.trace / Tracer.run_until stopped."""

    COUNT = 0
    ADDRESS = 1
    BREAKPOINT = 2
    EVENT = 3


cdef tuple _STATES = tuple(ThreadState)
cdef tuple _REASONS = tuple(TraceReason)

cdef enum:
    ST_RUNNING = 0
    ST_STOPPED = 1
    ST_LISTENING = 2
    # Resumed after PTRACE_EVENT_EXIT: it will never stop again, only be reaped.  A leader
    # that called pthread_exit stays like this until the whole group is gone (§6.2).
    ST_ZOMBIE = 3

REQ_CONT = PTRACE_CONT
REQ_SINGLESTEP = PTRACE_SINGLESTEP
REQ_SYSCALL = PTRACE_SYSCALL
REQ_LISTEN = PTRACE_LISTEN


cdef class _Thread:
    cdef pid_t tid
    cdef pid_t pid
    cdef int state
    cdef int last_req
    cdef int last_sig
    # PTRACE_INTERRUPT sent and its EVENT_STOP not seen yet.
    cdef bint interrupt_pending
    # Incremented at every stop: tells a lazily decoded event whether its stop is current.
    cdef unsigned long stop_seq
    # A real stop overtook the interrupt: its EVENT_STOP will come after the next resume
    # and must be swallowed (the request is then re-issued).
    cdef bint interrupt_late
    # The interrupt was asked for by the user (Tracer.interrupt): report its stop.
    cdef bint interrupt_report
    cdef bint group_stopped
    cdef bint exiting
    cdef bint uses_dr
    cdef bint dr6_dirty
    # Breakpoint address the thread was reported stopped at (pc rewound there); resuming
    # from it must execute the original instruction first.
    cdef unsigned long long bp_hit
    # Signal of the current signal-delivery-stop, handed back on detach.
    cdef int stop_sig
    # A signal collected while the core was stepping this thread; when the caller resumes
    # with it, its original siginfo is restored first (PTRACE_SETSIGINFO).
    cdef int deferred_sig
    cdef object deferred_info
    # The current stop is inside a system call (a ptrace event or syscall stop): the
    # first single-step from it only finishes the call and traps at the same pc.
    cdef bint in_syscall

    def __cinit__(self, pid_t tid, pid_t pid, int state):
        self.tid = tid
        self.pid = pid
        self.state = state
        self.last_req = PTRACE_CONT


cdef class _Process:
    cdef pid_t pid
    cdef set tids
    cdef int mem_fd
    cdef int options
    cdef bint spawned
    cdef bint kill_on_exit
    # Seized, and a child of this Python process (subprocess.Popen, say): its final exit
    # status belongs to its owner, so the tracer reads it without reaping it.
    cdef bint adopted
    # Between PTRACE_EVENT_VFORK and VFORK_DONE the kernel keeps the parent suspended;
    # an interrupt is only reported after the child execs or exits (§6.1 rule 6).
    cdef bint vfork_parent
    cdef dict sites        # address -> original byte of inserted int3 breakpoints
    cdef dict site_refs    # address -> number of inserts
    cdef set removed       # addresses whose int3 was removed (late traps, §9.3)
    cdef dict blocks       # branch-step decode cache: start -> (branch address, length)

    def __cinit__(self, pid_t pid, int options):
        self.pid = pid
        self.tids = set()
        self.mem_fd = -1
        self.options = options
        self.sites = {}
        self.site_refs = {}
        self.removed = set()
        self.blocks = {}


# Threads and processes that exited are remembered (bounded) so that a later call names
# them as exited instead of unknown.
cdef int _GONE_MEMORY = 4096


cdef class _State:
    """All state of one Tracer; the functions of the core take it as first argument."""

    cdef pid_t owner_tid
    cdef bint closed
    cdef dict threads      # tid -> _Thread
    cdef dict procs        # pid -> _Process
    cdef list stash        # events collected by internal waits, returned by the next wait
    cdef dict unknown      # tid -> wait status of a new task seen before its creator's event
    cdef set reapable      # tids dropped from the table whose exit status is still due
    cdef dict gone         # tid -> True for exited threads/processes (bounded)
    cdef int in_stop_all
    cdef volatile int wake_flag
    cdef pid_t foreign     # a foreign zombie child hides tracees from waitid(P_ALL)
    cdef int wake_sig
    cdef bint timer_ok
    cdef timer_t timer
    cdef int singleblock   # -1 not probed, 0 degraded, 1 works
    cdef object disasm     # capstone Cs instance, created on first branch step

    def __cinit__(self):
        self.threads = {}
        self.procs = {}
        self.stash = []
        self.unknown = {}
        self.reapable = set()
        self.gone = {}
        self.singleblock = -1


cdef void _remember_gone(_State s, pid_t tid):
    s.gone[tid] = True
    if len(s.gone) > _GONE_MEMORY:
        del s.gone[next(iter(s.gone))]


cdef _Thread _lookup(_State s, pid_t tid, str request):
    cdef _Thread th = s.threads.get(tid)
    if th is None:
        raise_gone(request, tid, tid, tid in s.gone)
    return th


cdef _Thread _stopped(_State s, pid_t tid, str request):
    """The thread, which must be in a ptrace-stop."""
    cdef _Thread th = _lookup(s, tid, request)
    if th.state == ST_STOPPED:
        return th
    if th.state == ST_ZOMBIE:
        raise _ProcessExitedError(ESRCH, "thread is exiting", request=request, pid=th.pid,
                                  tid=tid)
    raise _NotStoppedError(tid, "listening (job-control stopped)" if th.state == ST_LISTENING
                           else "running", request)


cdef _Process _proc(_State s, pid_t pid, str request):
    cdef _Process p = s.procs.get(pid)
    if p is None:
        raise_gone(request, pid, pid, pid in s.gone)
    return p


cdef void _drop_thread(_State s, _Thread th):
    cdef _Process p
    s.threads.pop(th.tid, None)
    p = s.procs.get(th.pid)
    if p is not None:
        p.tids.discard(th.tid)
    _remember_gone(s, th.tid)


cdef void _drop_process(_State s, _Process p):
    cdef pid_t tid
    for tid in list(p.tids):
        th = s.threads.pop(tid, None)
        if th is not None and tid != p.pid:
            # Its exit status may still arrive; recognise it then.
            s.reapable.add(tid)
        _remember_gone(s, tid)
    p.tids.clear()
    if p.mem_fd >= 0:
        close(p.mem_fd)
        p.mem_fd = -1
    s.procs.pop(p.pid, None)
    _remember_gone(s, p.pid)
