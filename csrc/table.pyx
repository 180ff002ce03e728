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
    RETURNED = 4


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

# System call numbers the syscall pass knows (x86_64 numbers are below 512; larger ones,
# x32's included, are always reported).
cdef enum:
    SC_NUMBERS = 1024


cdef class _Thread:
    cdef pid_t tid
    cdef pid_t pid
    cdef _Process proc
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
    # What the core last wrote to DR0-DR3 and DR7 (debugregs.pyx): a debug-register trap
    # is matched to its slot's address without asking the kernel.
    cdef unsigned long long dr[4]
    cdef unsigned long long dr7
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
    # The number of the system call entered at the last syscall-enter stop (-1: none
    # seen): exit stops do not carry it (wait.pyx, _pass_syscall).
    cdef long sc_nr

    def __cinit__(self, pid_t tid, _Process proc, int state):
        self.tid = tid
        self.pid = proc.pid
        self.proc = proc
        self.state = state
        self.last_req = PTRACE_CONT
        self.sc_nr = -1


# One breakpoint address of a process: an inserted int3 site, a native condition, or both
# (breakpoints.pyx).  A condition also applies to debug-register traps whose slot holds
# its address.  Kept in C so that a trap is decided without Python objects.
cdef struct _Bp:
    uint64_t address        # first member: the table is searched with _cmp_u64
    int orig                # original byte under the int3, -1 when no int3 is inserted
    int refs                # inserts not yet matched by a remove
    bint has_cond
    pid_t tid               # condition: only this thread (0: any)
    int reg                 # index in REGISTER_NAMES, or -1
    int reg_op              # OP_* (OP_NONE: no register test)
    int mem_op
    int mem_size
    uint64_t reg_value
    uint64_t mem_address
    uint64_t mem_value
    uint64_t skip
    uint64_t hits           # traps at this address since the condition was set
    uint64_t matches        # those that passed the tid, register and memory tests


cdef struct _BpTable:
    _Bp *items              # sorted by address
    Py_ssize_t n
    Py_ssize_t cap
    Py_ssize_t nreg         # conditions with a register test (an int3 then reads all)


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
    cdef pid_t vfork_tid   # the thread the kernel holds in vfork
    cdef _BpTable bps      # int3 sites and native conditions (breakpoints.pyx)
    cdef set removed       # addresses whose int3 was removed (late traps, §9.3)
    cdef dict blocks       # branch-step decode cache: start -> (branch address, length)
    # Process-wide debug-register slots (debugregs.pyx): the address and the DR7 bits of
    # each slot (0: not used), programmed into every thread, present and future.
    cdef unsigned long long hw_addr[4]
    cdef unsigned long long hw_bits[4]

    def __cinit__(self, pid_t pid, int options):
        self.pid = pid
        self.tids = set()
        self.mem_fd = -1
        self.options = options
        self.removed = set()
        self.blocks = {}

    def __dealloc__(self):
        free(self.bps.items)


# Threads and processes that exited are remembered (bounded) so that a later call names
# them as exited instead of unknown.
cdef int _GONE_MEMORY = 4096


# tid -> _Thread without Python objects: the trap path (breakpoints.pyx) looks threads up
# on every hit.  Open addressing with linear probing; the values are borrowed references
# (_State.threads owns the records), so both are changed together (_add_thread,
# _forget_thread).
cdef struct _TidSlot:
    pid_t tid              # 0: empty
    PyObject *thread


cdef struct _TidMap:
    _TidSlot *slots
    size_t mask            # capacity - 1, capacity a power of two
    size_t used


cdef inline size_t _tid_home(pid_t tid, size_t mask) noexcept nogil:
    return <size_t>((<uint64_t><uint32_t>tid * <uint64_t>0x9E3779B97F4A7C15) >> 32) & mask


cdef PyObject *_tm_get(_TidMap *m, pid_t tid) noexcept nogil:
    cdef size_t i
    if m.slots == NULL:
        return NULL
    i = _tid_home(tid, m.mask)
    while m.slots[i].tid != 0:
        if m.slots[i].tid == tid:
            return m.slots[i].thread
        i = (i + 1) & m.mask
    return NULL


cdef int _tm_grow(_TidMap *m) except -1:
    cdef size_t cap = 16 if m.slots == NULL else (m.mask + 1) * 2
    cdef _TidSlot *old = m.slots
    cdef size_t old_cap = 0 if old == NULL else m.mask + 1
    cdef size_t k, i
    m.slots = <_TidSlot *>calloc(cap, sizeof(_TidSlot))
    if m.slots == NULL:
        m.slots = old
        raise MemoryError()
    m.mask = cap - 1
    for k in range(old_cap):
        if old[k].tid != 0:
            i = _tid_home(old[k].tid, m.mask)
            while m.slots[i].tid != 0:
                i = (i + 1) & m.mask
            m.slots[i] = old[k]
    free(old)
    return 0


cdef int _tm_put(_TidMap *m, pid_t tid, PyObject *thread) except -1:
    cdef size_t i
    if m.slots == NULL or (m.used + 1) * 2 > m.mask + 1:
        _tm_grow(m)
    i = _tid_home(tid, m.mask)
    while m.slots[i].tid != 0 and m.slots[i].tid != tid:
        i = (i + 1) & m.mask
    if m.slots[i].tid == 0:
        m.used += 1
    m.slots[i].tid = tid
    m.slots[i].thread = thread
    return 0


cdef void _tm_del(_TidMap *m, pid_t tid) noexcept nogil:
    """Remove tid, shifting later members of its probe run back (no tombstones)."""
    cdef size_t i, j, home
    if m.slots == NULL:
        return
    i = _tid_home(tid, m.mask)
    while m.slots[i].tid != tid:
        if m.slots[i].tid == 0:
            return
        i = (i + 1) & m.mask
    j = i
    while True:
        j = (j + 1) & m.mask
        if m.slots[j].tid == 0:
            break
        home = _tid_home(m.slots[j].tid, m.mask)
        # The member at j may move to the hole at i only if its home is not in (i, j].
        if (home > i and home <= j) if i <= j else (home > i or home <= j):
            continue
        m.slots[i] = m.slots[j]
        i = j
    m.slots[i].tid = 0
    m.slots[i].thread = NULL
    m.used -= 1


cdef class _State:
    """All state of one Tracer; the functions of the core take it as first argument."""

    cdef pid_t owner_tid
    cdef bint closed
    cdef dict threads      # tid -> _Thread
    cdef _TidMap tmap      # the same, for lookups that must not make Python objects
    cdef dict procs        # pid -> _Process
    cdef list stash        # events collected by internal waits, returned by the next wait
    cdef dict unknown      # tid -> wait status of a new task seen before its creator's event
    cdef set reapable      # tids dropped from the table whose exit status is still due
    cdef dict gone         # tid -> True for exited threads/processes (bounded)
    cdef int in_stop_all
    # Statuses are being decoded for Tracer.wait: a trap that a native condition declines
    # may be resumed here (breakpoints.pyx).  Everywhere else it is left stopped.
    cdef bint in_wait
    cdef volatile int wake_flag
    cdef pid_t foreign     # a foreign zombie child hides tracees from waitid(P_ALL)
    cdef int wake_sig
    cdef bint timer_ok
    cdef timer_t timer
    cdef int singleblock   # -1 not probed, 0 degraded, 1 works
    cdef object disasm     # capstone Cs instance, created on first branch step
    # Signals Tracer.wait passes on without reporting them (bit sig-1), and of those the
    # ones it delivers (the others are suppressed); see _pass_on in wait.pyx.
    cdef unsigned long long pass_mask
    cdef unsigned long long pass_deliver
    # Syscall stops Tracer.wait resumes without reporting them (Tracer.set_syscall_pass):
    # when sc_pass is set, every number below SC_NUMBERS whose sc_report byte is 0; the
    # entries so passed are counted per number in sc_counts.
    cdef bint sc_pass
    cdef unsigned char sc_report[SC_NUMBERS]
    cdef unsigned long long sc_counts[SC_NUMBERS]

    def __cinit__(self):
        self.threads = {}
        self.procs = {}
        self.stash = []
        self.unknown = {}
        self.reapable = set()
        self.gone = {}
        self.singleblock = -1

    def __dealloc__(self):
        free(self.tmap.slots)


cdef int _add_thread(_State s, _Thread th) except -1:
    """Enter a thread in the table (and its process's tid set)."""
    _tm_put(&s.tmap, th.tid, <PyObject *>th)
    s.threads[th.tid] = th
    th.proc.tids.add(th.tid)
    return 0


cdef void _forget_thread(_State s, pid_t tid):
    _tm_del(&s.tmap, tid)
    s.threads.pop(tid, None)


cdef inline _Thread _find_thread(_State s, pid_t tid):
    """The thread's record, or None; makes no Python object."""
    cdef PyObject *o = _tm_get(&s.tmap, tid)
    if o == NULL:
        return None
    return <_Thread>o


cdef void _remember_gone(_State s, pid_t tid):
    s.gone[tid] = True
    if len(s.gone) > _GONE_MEMORY:
        del s.gone[next(iter(s.gone))]


cdef _Thread _lookup(_State s, pid_t tid, str request):
    cdef _Thread th = _find_thread(s, tid)
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
    if _find_thread(s, th.tid) is th:
        _forget_thread(s, th.tid)
    th.proc.tids.discard(th.tid)
    _remember_gone(s, th.tid)


cdef void _drop_process(_State s, _Process p):
    cdef pid_t tid
    for tid in list(p.tids):
        th = _find_thread(s, tid)
        _forget_thread(s, tid)
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
