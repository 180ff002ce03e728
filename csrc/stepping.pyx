# stepping.pyx - single step, step over a breakpoint, the native trace loop, branch step.
#
# Step-over (hazards §9.2): restore the original byte, single-step only this thread, put
# the int3 back.  Other threads are left exactly as they are; in pydbg's all-stop engine
# they are stopped, so none can run past the missing breakpoint.  A signal that preempts
# the step (§9.2 hazard 1) is reported later and redelivered with its own siginfo; ptrace
# events raised by the stepped instruction (clone, fork) are reported too.  A thread can
# hold only one such signal for its caller (one resume, one signal): further signals that
# preempt the same step-over go back into its queue once the instruction has run, and the
# kernel reports each again later.
#
# The trace loop single-steps in C.  One GETSIGINFO per step both classifies the trap and
# yields the new pc: for a step trap the kernel puts regs->ip in si_addr (x86
# send_sigtrap), so the loop makes the same three syscalls as a raw C loop that reads rip.
# It treats the two kinds of code breakpoint alike, as gdb's `stepi N` does: an int3 site
# (with stop_at_breakpoints) and an execute debug register both end the trace when the pc
# reaches them after the first step, before their instruction runs (reason BREAKPOINT,
# the breakpoint's event in the result); at the starting pc neither stops it.
#
# Branch step: PTRACE_SINGLEBLOCK where it works; otherwise decode forward with capstone
# to the next control-transfer instruction, run to it with a temporary int3, step it.
# What a control transfer is has one definition, transfer_kind below, which the
# disassembler of the engine (`u`, the th/tc/tt step plans) uses too.

from array import array as _array

cdef extern from "<stdlib.h>" nogil:
    void *bsearch(const void *key, const void *base, size_t nmemb, size_t size,
                  int (*compar)(const void *, const void *))
    void qsort(void *base, size_t nmemb, size_t size,
               int (*compar)(const void *, const void *))


cdef int _cmp_u64(const void *a, const void *b) noexcept nogil:
    cdef uint64_t x = (<const uint64_t *>a)[0]
    cdef uint64_t y = (<const uint64_t *>b)[0]
    return (x > y) - (x < y)


# Returned by _wait_step for a plain step completion, for which no Event is made.
cdef object _PLAIN_STEP = object()


cdef object _wait_step(_State s, _Thread th):
    """_wait_tid for a thread that was just single-stepped, except that a plain step
    completion returns _PLAIN_STEP without making an Event (the declined-trap path
    steps over an int3 on every hit)."""
    cdef int status = 0
    cdef pid_t tid = th.tid
    cdef siginfo_t si
    cdef long dr6
    while True:
        if not _reap(s, th, &status):
            return _vanished(s, th)
        if (WIFSTOPPED(status) and (status >> 16) == 0 and WSTOPSIG(status) == SIGTRAP
                and ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0
                and (si.si_code == TRAP_TRACE or si.si_code == TRAP_BRKPT)):
            dr6 = 0
            if th.uses_dr:
                # A step that executed a watched access reports TRAP_TRACE with Bn set:
                # that one is decoded into an event below.
                dr6 = ptrace(PTRACE_PEEKUSER, tid, <void *>PYDBG_DR_OFFSET(6), NULL)
                th.dr6_dirty = True
            if not dr6 & _DR6_SLOTS:
                th.state = ST_STOPPED
                th.stop_seq += 1
                th.in_syscall = False
                _real_stop_seen(th)
                return _PLAIN_STEP
        ev = _decode(s, tid, status)
        if ev is not None:
            return ev
        if th.state == ST_STOPPED or _find_thread(s, tid) is None:
            return None


cdef object _step_over(_State s, _Thread th, int sig, bint want_event):
    """Execute the instruction under the breakpoint `th` was reported at.

    Returns the STEP event when it ran (None instead when not want_event), or the event
    that stopped the thread instead (exit, exec, a fault, a watchpoint); the thread is
    STOPPED in it.
    """
    cdef _Process p = th.proc
    cdef unsigned long long addr = th.bp_hit
    cdef object ev
    cdef int orig = _site_orig(p, addr)
    cdef int deferred_sig
    cdef object deferred_info
    cdef list requeue = None
    if orig >= 0:
        _poke_byte(p, addr, <unsigned char>orig)
    try:
        while True:
            # A signal deferred by an earlier round must survive this internal resume.
            deferred_sig, deferred_info = th.deferred_sig, th.deferred_info
            th.deferred_sig = 0
            _resume(s, th, PTRACE_SINGLESTEP, sig)
            if deferred_sig:
                th.deferred_sig, th.deferred_info = deferred_sig, deferred_info
            sig = 0
            if want_event:
                ev = _wait_tid(s, th)
            else:
                ev = _wait_step(s, th)
                if ev is _PLAIN_STEP:
                    return None
            if ev is None:
                continue
            kind = (<Event>ev)._kind
            if kind == K_STEP:
                if (<Event>ev).dr6 & _DR6_SLOTS:
                    (<Event>ev)._kind = K_HW_BREAKPOINT
                return ev
            if kind == K_SIGNAL and ev.si_code != SI_KERNEL:
                if th.deferred_sig:
                    # One is already held for the caller: this one goes back to the
                    # kernel after the step (below), unreported for now.
                    if requeue is None:
                        requeue = []
                    requeue.append(((<Event>ev).signal, ev.siginfo))
                    th.stop_sig = 0
                    continue
                # The signal came first; the instruction did not run.  Report it later
                # and deliver it, with its siginfo, when the caller resumes with it.
                th.deferred_sig = (<Event>ev).signal
                th.deferred_info = ev.siginfo
                th.stop_sig = 0
                s.stash.append(ev)
                continue
            if kind in (K_CLONE, K_FORK, K_VFORK, K_VFORK_DONE, K_INTERRUPT, K_SYSCALL):
                # Stops inside the instruction (a clone syscall): report, keep stepping.
                s.stash.append(ev)
                continue
            return ev
    finally:
        # Put the int3 back unless the site went away meanwhile (an exec, a detach); the
        # other threads still need it even if this one died in the step.
        if orig >= 0 and p.mem_fd >= 0 and _site_orig(p, addr) >= 0:
            _poke_byte(p, addr, _INT3)
        if requeue:
            for sig, info in requeue:
                if info is None:
                    pydbg_tgkill(th.pid, th.tid, sig)
                else:
                    pydbg_requeue_signal(th.pid, th.tid, sig, PyBytes_AS_STRING(info))


cdef object _step(_State s, _Thread th, int sig):
    cdef bint from_syscall = th.in_syscall
    cdef unsigned long long pc = 0
    if th.bp_hit:
        return _step_over(s, th, sig, True)
    if from_syscall:
        pc = _peek_user(th, PYDBG_RIP_OFFSET, "peekuser(rip)")
    while True:
        _resume(s, th, PTRACE_SINGLESTEP, sig)
        ev = _wait_tid(s, th)
        if ev is None:
            sig = 0
            if th.bp_hit:
                # Its instruction was an int3 whose condition declined the trap: the
                # step is the original instruction's.
                return _step_over(s, th, 0, True)
            continue
        if from_syscall and (<Event>ev)._kind == K_STEP and (<Event>ev)._address == pc:
            # Stopped inside a system call (an exec or clone event, a syscall stop): that
            # step only finished the call, at the same pc; the instruction there has not
            # run yet, so step once more.
            from_syscall = False
            sig = 0
            continue
        return ev


cdef bint _off_breakpoint(_State s, _Thread th) except -1:
    """Step a thread off the breakpoint it was reported at; True if it may now run.

    False when the step-over ended in another event (stashed: it is the next thing to
    report) or when a signal arrived meanwhile and waits in the stash: the thread stays
    stopped so that the caller can deliver it.
    """
    cdef object ev
    if not th.bp_hit:
        return True
    ev = _step_over(s, th, 0, False)
    if ev is not None and (<Event>ev)._kind != K_STEP:
        s.stash.append(ev)
        return False
    return not th.deferred_sig


cdef int _cont(_State s, _Thread th, int req, int sig) except -1:
    """Resume with `req`, stepping over the breakpoint the thread sits on first."""
    if _off_breakpoint(s, th):
        _resume(s, th, req, sig)
    return 0


cdef int _cont_all(_State s, object pid, object signals, object syscall) except -1:
    """Resume every STOPPED thread (of pid, or of all processes) with PTRACE_CONT, or
    with PTRACE_SYSCALL for the tids in `syscall` (a container, or None).

    Every thread sitting on a breakpoint is stepped off it first, while all others are
    still stopped; only then does any thread run.  Resuming threads one by one with
    cont() would let the first one run past a breakpoint whose byte the second one's
    step-over has removed.
    """
    cdef _Thread th
    cdef list ready = []
    for th in list(s.threads.values()):
        if th.state != ST_STOPPED or (pid is not None and th.pid != pid):
            continue
        if _off_breakpoint(s, th):
            ready.append(th)
    for th in ready:
        if th.state == ST_STOPPED and _find_thread(s, th.tid) is th:
            # quiet: a thread killed while stopped (a group exit, SIGKILL) cannot be
            # resumed, and must not keep the others stopped; its exit report is on the
            # way (hazards §6.1 rule 4, §7).
            _resume(s, th, PTRACE_SYSCALL if syscall and th.tid in syscall else PTRACE_CONT,
                    signals.get(th.tid, 0) if signals else 0, True)
    return 0


cdef class TraceResult:
    """Outcome of Tracer.trace / Tracer.run_until."""

    cdef object _pcs
    cdef object _values
    cdef readonly unsigned long long steps
    cdef int _reason
    cdef readonly object event

    @property
    def pcs(self):
        return memoryview(self._pcs)

    @property
    def values(self):
        return memoryview(self._values)

    @property
    def reason(self):
        return _REASONS[self._reason]

    def __repr__(self):
        return (f"<TraceResult steps={self.steps} reason={_REASONS[self._reason].name}"
                f"{'' if self.event is None else ' event=' + repr(self.event)}>")


cdef enum:
    R_COUNT = 0
    R_ADDRESS = 1
    R_BREAKPOINT = 2
    R_EVENT = 3
    R_RETURNED = 4


cdef struct _Loop:
    # What the C trace loop needs, so that it can run without the GIL between stops.
    pid_t pid
    pid_t tid
    int mem_fd
    _Bp *bps                 # the process's breakpoint table (sites and conditions)
    Py_ssize_t nbps
    uint64_t *buf            # recorded pcs
    uint64_t *vals           # recorded register values
    unsigned long long cap   # capacity of buf and vals
    bint record
    int reg                  # index of the recorded register in REGISTER_NAMES, or -1
    bint stop_at_bps
    uint64_t *stops          # with stop_at_bps: the only sites to stop at (sorted), or
    Py_ssize_t nstops        # NULL for every site
    bint has_until
    bint has_return
    bint uses_dr
    bint group               # the thread has siblings: wait as _reap_in_group does
    bint lifted              # L_OTHER: a breakpoint byte is lifted for the step in flight
    unsigned long long until
    unsigned long long ret_address
    unsigned long long ret_slot
    unsigned long long max_steps
    unsigned long long steps
    unsigned long long pc
    int status
    int err


cdef enum:
    L_COUNT = 0
    L_ADDRESS = 1
    L_BREAKPOINT = 2
    L_GROW = 3       # the recording buffers are full
    L_SIGNAL = 4     # waitpid was interrupted (Ctrl-C?) with no breakpoint byte lifted
    L_DECODE = 5     # a stop that is not a plain step: status holds it
    L_ERROR = 6      # waitpid failed: err holds errno
    L_RETURNED = 7   # until_return: the function returned
    L_OTHER = 8      # another tracee has a status: the step in flight is Python's to wait for


cdef int _loop_run(_Loop *L) noexcept nogil:
    """Single-step until something needs Python; return an L_* code."""
    cdef _Bp *hit
    cdef pid_t r
    cdef siginfo_t si
    cdef char c
    cdef bint over
    cdef long word
    while True:
        if L.has_until and L.pc == L.until:
            return L_ADDRESS
        if L.has_return and L.pc == L.ret_address:
            # The return address alone is not enough: a deeper (recursive) frame returns
            # to it too, but with the stack pointer at or below the slot (see _trace).
            word = ptrace(PTRACE_PEEKUSER, L.tid, <void *>(<long>_RSP_INDEX * 8), NULL)
            if <unsigned long long>word > L.ret_slot:
                return L_RETURNED
        if L.steps >= L.max_steps:
            return L_COUNT
        if (L.record or L.reg >= 0) and L.steps >= L.cap:
            return L_GROW
        over = False
        if L.nbps:
            hit = <_Bp *>bsearch(&L.pc, L.bps, L.nbps, sizeof(_Bp), _cmp_u64)
            if hit != NULL and hit.orig >= 0:
                if L.stop_at_bps and L.steps > 0 and (
                        L.stops == NULL or bsearch(&L.pc, L.stops, L.nstops, sizeof(uint64_t),
                                                   _cmp_u64) != NULL) and (
                        not hit.has_cond or _cond_hit(hit, L.pid, L.tid, L.pc)):
                    return L_BREAKPOINT
                over = True
                c = <char>hit.orig
                pwrite(L.mem_fd, &c, 1, <off_t>L.pc)
        if L.record:
            L.buf[L.steps] = L.pc
        if L.reg >= 0:
            # The value at the recorded pc, before its instruction runs.
            if L.reg == _RIP_INDEX:
                L.vals[L.steps] = L.pc
            else:
                L.vals[L.steps] = <uint64_t>ptrace(PTRACE_PEEKUSER, L.tid,
                                                   <void *>(<long>L.reg * 8), NULL)
        ptrace(PTRACE_SINGLESTEP, L.tid, NULL, NULL)
        while True:
            if L.group:
                # Siblings may need the tracer before this step can end (an execve waits
                # for their exit stops, see _reap): any other status goes to Python.
                si.si_pid = 0
                r = waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL | __WNOTHREAD)
                if r == 0:
                    if si.si_pid != L.tid:
                        L.lifted = over
                        return L_OTHER
                    r = waitpid(L.tid, &L.status, __WALL | WNOHANG)
                    if r == 0:
                        L.lifted = over
                        return L_OTHER
            else:
                r = waitpid(L.tid, &L.status, __WALL)
            if r >= 0 or errno != EINTR:
                break
            if not over:
                # The step is in flight and nothing is lifted: let Python look at the
                # signal (Ctrl-C); the table says the thread is running a step.
                return L_SIGNAL
            # A breakpoint byte is lifted: finish the (short) step first.
        if over:
            c = <char>_INT3
            pwrite(L.mem_fd, &c, 1, <off_t>L.pc)
        if r != L.tid:
            L.err = errno
            return L_ERROR
        if WIFSTOPPED(L.status) and (L.status >> 16) == 0 and WSTOPSIG(L.status) == SIGTRAP \
                and ptrace(PTRACE_GETSIGINFO, L.tid, NULL, &si) == 0 \
                and (si.si_code == TRAP_TRACE or si.si_code == TRAP_BRKPT) \
                and not (L.uses_dr and _step_hit_a_slot(L.tid)):
            L.steps += 1
            L.pc = <unsigned long long>si.si_addr
            continue
        return L_DECODE


cdef inline bint _step_hit_a_slot(pid_t tid) noexcept nogil:
    """A step that executed a watched access still reports TRAP_TRACE; DR6 tells.  Only
    Bn bits matter: since 5.10 DR6 is reset at every #DB (§10), and on older kernels the
    BS bits that pile up here are ignored by every later decode."""
    return (ptrace(PTRACE_PEEKUSER, tid, <void *>PYDBG_DR_OFFSET(6), NULL) & _DR6_SLOTS) != 0


cdef int _grow(_Loop *L, unsigned long long max_steps) except -1:
    cdef uint64_t *buf
    cdef unsigned long long cap = 4096 if L.cap == 0 else L.cap * 2
    if cap > max_steps:
        cap = max_steps
    if L.record:
        buf = <uint64_t *>realloc(L.buf, cap * sizeof(uint64_t))
        if buf == NULL:
            raise MemoryError()
        L.buf = buf
    if L.reg >= 0:
        buf = <uint64_t *>realloc(L.vals, cap * sizeof(uint64_t))
        if buf == NULL:
            raise MemoryError()
        L.vals = buf
    L.cap = cap
    return 0


cdef object _u64_array(uint64_t *data, unsigned long long n):
    out = _array("Q")
    if n:
        out.frombytes((<char *>data)[:n * sizeof(uint64_t)])
    return out


cdef inline bint _exec_slot_hit(_Thread th, unsigned long long dr6,
                                 unsigned long long pc) noexcept:
    """Did an execute slot at pc fire (DR6 Bn; DR7 enabled with R/W 00)?"""
    cdef int slot
    for slot in range(4):
        if (dr6 & (1u << slot) and th.dr7 & (<unsigned long long>0b11 << (2 * slot))
                and not th.dr7 & (<unsigned long long>0b11 << (16 + 4 * slot))
                and th.dr[slot] == pc):
            return True
    return False


cdef Event _site_event(_Thread th, unsigned long long pc):
    """The BREAKPOINT event of a trace that stopped at an int3 site: the same record a
    trap on the int3 would have made (pc rewound to the site)."""
    cdef Event ev = _new_event(K_BREAKPOINT, th.tid, th.pid, (SIGTRAP << 8) | 0x7F)
    ev.signal = SIGTRAP
    ev._si_code = SI_KERNEL
    ev._address = pc
    return ev


cdef TraceResult _trace(_State s, _Thread th, unsigned long long max_steps, bint has_until,
                        unsigned long long until, bint record, object stop_at,
                        int reg=-1, object until_return=None):
    """The native trace loop: single steps in C, without the GIL between plain steps.

    stop_at: False, True (stop at every int3 site) or a collection of addresses (stop at
    the sites among them; step over the others).

    until_return (see Tracer.trace): None, True (the thread is at a function's first
    instruction: the return address is at [rsp], which is its slot), or a pair
    (return address, address of its stack slot).  The function has returned at the first
    pc equal to the return address with rsp above the slot: `ret` pops the slot, while a
    deeper recursive call returning to the same address leaves rsp at or below it.
    """
    cdef _Process p = th.proc
    cdef TraceResult res = TraceResult.__new__(TraceResult)
    cdef _Loop L
    cdef int code
    cdef object ev = None
    cdef int reason = R_COUNT
    cdef unsigned long long slot
    memset(&L, 0, sizeof(L))
    L.pid = th.pid
    L.tid = th.tid
    L.mem_fd = p.mem_fd
    L.record = record
    L.reg = reg
    L.stop_at_bps = stop_at is not False
    L.has_until = has_until
    L.until = until
    L.max_steps = max_steps
    L.uses_dr = th.uses_dr
    if until_return is True:
        slot = _peek_user(th, _RSP_INDEX * 8, "peekuser(rsp)")
        L.has_return = True
        L.ret_slot = slot
        L.ret_address = int.from_bytes(_read(p, slot, 8, False), "little")
    elif until_return is not None and until_return is not False:
        L.has_return = True
        L.ret_address, L.ret_slot = until_return
    try:
        if stop_at is not True and stop_at is not False:
            stops = sorted({a & _MASK64 for a in stop_at})
            L.nstops = len(stops)
            L.stops = <uint64_t *>malloc((L.nstops + 1) * sizeof(uint64_t))
            if L.stops == NULL:
                raise MemoryError()
            for i, a in enumerate(stops):
                L.stops[i] = a
        L.pc = th.bp_hit if th.bp_hit else _peek_user(th, PYDBG_RIP_OFFSET, "peekuser(rip)")
        if th.dr6_dirty:
            ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(6), NULL)
            th.dr6_dirty = False
        # The loop issues raw requests; keep the table's view of the thread current.
        th.deferred_sig = 0
        th.deferred_info = None
        th.last_req = PTRACE_SINGLESTEP
        th.bp_hit = 0
        th.stop_sig = 0
        while True:
            # The table may change between rounds (a decoded event); the loop reads it
            # only while the GIL is released, when nothing else can change it.
            L.bps = p.bps.items
            L.nbps = p.bps.n
            th.state = ST_RUNNING
            L.group = len(p.tids) > 1
            with nogil:
                code = _loop_run(&L)
            if code != L_SIGNAL and code != L_OTHER:
                th.state = ST_STOPPED
            if code == L_COUNT:
                reason = R_COUNT
                break
            if code == L_ADDRESS:
                reason = R_ADDRESS
                break
            if code == L_RETURNED:
                reason = R_RETURNED
                break
            if code == L_BREAKPOINT:
                th.bp_hit = L.pc  # a later resume runs the instruction, not the int3
                ev = _site_event(th, L.pc)
                reason = R_BREAKPOINT
                break
            if code == L_GROW:
                _grow(&L, max_steps)
                continue
            if code == L_SIGNAL:
                PyErr_CheckSignals()
                # Nothing to raise: wait for the step that is in flight.
                ev = _wait_tid(s, th)
            elif code == L_OTHER:
                try:
                    ev = _wait_tid(s, th)
                finally:
                    if L.lifted:
                        # Back in, unless the site went meanwhile (an exec, §6.2).
                        L.lifted = False
                        if p.mem_fd >= 0 and _site_orig(p, L.pc) >= 0:
                            _poke_byte(p, L.pc, _INT3)
            elif code == L_ERROR:
                if L.err == ECHILD:
                    ev = _vanished(s, th)
                    reason = R_EVENT
                    break
                raise_errno(L.err, "waitpid", th.pid, th.tid)
            else:
                ev = _decode(s, th.tid, L.status)
                if ev is None and th.state != ST_STOPPED:
                    # A late interrupt was swallowed and the step re-issued: wait for it.
                    ev = _wait_tid(s, th)
            if ev is None:
                # Came to rest without an event (a debug-register trap its condition
                # declined): the instruction at L.pc has not run yet; step it.
                th.bp_hit = 0
                continue
            if (<Event>ev)._kind == K_STEP:
                L.steps += 1
                L.pc = (<Event>ev)._address
                if (<Event>ev).dr6 & _DR6_SLOTS:
                    (<Event>ev)._kind = K_HW_BREAKPOINT
                    reason = R_EVENT
                    break
                ev = None
                continue
            if (<Event>ev)._kind == K_HW_BREAKPOINT and _exec_slot_hit(
                    th, (<Event>ev).dr6, (<Event>ev)._address):
                if L.steps == 0:
                    # An execute slot at the starting pc: not a stop, as an int3 there is
                    # not (the kernel set RF for the trap, so the instruction runs now).
                    ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(6), NULL)
                    th.dr6_dirty = False
                    ev = None
                    continue
                reason = R_BREAKPOINT
                break
            reason = R_EVENT
            break
        if L.uses_dr:
            th.dr6_dirty = True
        res.steps = L.steps
        res._reason = reason
        res.event = _exec_last(s, ev)
        res._pcs = _u64_array(L.buf, L.steps if record else 0)
        res._values = _u64_array(L.vals, L.steps if reg >= 0 else 0)
        return res
    finally:
        free(L.buf)
        free(L.vals)
        free(L.stops)


# -- branch step ---------------------------------------------------------------------------------

cdef int _probe_singleblock() except -1:
    """1 if PTRACE_SINGLEBLOCK stops only at taken branches, 0 if it degrades (KVM)."""
    cdef int go[2]
    cdef pid_t pid, parent = getpid()
    cdef int status = 0, stops = 0
    cdef char c
    cdef unsigned long long target = <unsigned long long>pydbg_probe_target
    cdef unsigned long long pc
    cdef _Thread th
    if pipe2(go, O_CLOEXEC) < 0:
        raise_errno(errno, "pipe")
    with nogil:
        pid = fork()
        if pid == 0:
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
            close(go[1])
            if getppid() == parent:
                while read(go[0], &c, 1) < 0 and errno == EINTR:
                    pass
                pydbg_probe_block()
            _exit(0)
    close(go[0])
    if pid < 0:
        close(go[1])
        raise_errno(errno, "fork")
    try:
        if ptrace(PTRACE_SEIZE, pid, NULL, <void *><long>PTRACE_O_EXITKILL) < 0:
            raise_errno(errno, "seize", pid, pid)
        close(go[1])
        go[1] = -1
        waitpid(pid, &status, __WALL)        # the int3 at pydbg_probe_start
        th = _Thread(pid, _Process(pid, 0), ST_STOPPED)
        while stops < 20:
            if ptrace(PTRACE_SINGLEBLOCK, pid, NULL, NULL) < 0:
                return 0
            waitpid(pid, &status, __WALL)
            if not WIFSTOPPED(status):
                return 0
            stops += 1
            pc = _peek_user(th, PYDBG_RIP_OFFSET, "peekuser(rip)")
            if pc == target:
                break
        return 1 if stops == 1 else 0
    finally:
        if go[1] >= 0:
            close(go[1])
        kill(pid, SIGKILL)
        while waitpid(pid, &status, __WALL) == pid:
            if WIFEXITED(status) or WIFSIGNALED(status):
                break


# -- what a control transfer is ---------------------------------------------------------------
#
# From capstone's instruction groups, as cdb documents tb ("calls, returns, jumps, counted
# loops, and while loops") and th ("conditional or unconditional branches, calls, returns,
# and system calls"):
#   CALL    the CALL group;
#   RETURN  RET and IRET (ret, iretq, sysret);
#   JUMP    JUMP or BRANCH_RELATIVE: jmp, jcc, jrcxz, xbegin, and loop/loope/loopne, which
#           capstone 5 puts only in BRANCH_RELATIVE;
#   SYSTEM  INT: syscall, sysenter, int n, int3, int1 (control goes to the kernel).
# A JUMP is conditional unless it is jmp or ljmp (whatever its prefixes: `notrack jmp`,
# `bnd jmp`).  Anything else (ud2, hlt, an undecodable byte) is NONE: it may fault, but
# that is an exception, not a branch.

TRANSFER_NONE = 0
TRANSFER_JUMP = 1
TRANSFER_CALL = 2
TRANSFER_RETURN = 3
TRANSFER_SYSTEM = 4

cdef tuple _groups = None      # (CALL, RET, IRET, JUMP, BRANCH_RELATIVE, INT), from capstone
cdef tuple _jmp_ids = None     # (X86_INS_JMP, X86_INS_LJMP): ids change between versions


cdef int _load_capstone_ids() except -1:
    global _groups, _jmp_ids
    import capstone
    from capstone import x86
    _groups = (capstone.CS_GRP_CALL, capstone.CS_GRP_RET, capstone.CS_GRP_IRET,
               capstone.CS_GRP_JUMP, capstone.CS_GRP_BRANCH_RELATIVE, capstone.CS_GRP_INT)
    _jmp_ids = (x86.X86_INS_JMP, x86.X86_INS_LJMP)
    return 0


def transfer_kind(insn):
    """TRANSFER_* of a capstone instruction decoded with detail (see above)."""
    if _groups is None:
        _load_capstone_ids()
    groups = insn.groups
    call, ret, iret, jump, relative, interrupt = _groups
    if call in groups:
        return TRANSFER_CALL
    if ret in groups or iret in groups:
        return TRANSFER_RETURN
    if jump in groups or relative in groups:
        return TRANSFER_JUMP
    if interrupt in groups:
        return TRANSFER_SYSTEM
    return TRANSFER_NONE


def transfer_is_conditional(insn):
    """A JUMP that may fall through (every one but jmp and ljmp)."""
    return transfer_kind(insn) == TRANSFER_JUMP and insn.id not in _jmp_ids


cdef object _capstone(_State s):
    if s.disasm is None:
        import capstone
        md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        md.detail = True
        s.disasm = md
    return s.disasm


cdef tuple _find_branch(_State s, _Process p, unsigned long long pc):
    """(address, length, conditional) of the first control transfer at or after pc.

    Cached per start address; memory writes through the tracer invalidate entries.
    When nothing decodable is found within 4 KiB the last decoded (or first
    undecodable) instruction stands in: stepping it is always safe.
    """
    cached = p.blocks.get(pc)
    if cached is not None:
        return cached
    md = _capstone(s)
    cdef unsigned long long addr = pc
    cdef unsigned long long limit = pc + 4096
    result = None
    while addr < limit and result is None:
        code = _read(p, addr, 256, True)
        if not code:
            result = (addr, 1, False)
            break
        last_end = addr
        for insn in md.disasm(code, addr):
            last_end = insn.address + insn.size
            if transfer_kind(insn) != TRANSFER_NONE:
                result = (insn.address, insn.size, transfer_is_conditional(insn))
                break
        else:
            if last_end == addr:
                result = (addr, 1, False)   # undecodable: single-step it
            elif last_end + 16 > addr + len(code) and len(code) == 256:
                addr = last_end    # the chunk ended mid-instruction: decode on from there
                continue
            else:
                addr = last_end
                if addr >= limit:
                    break
    if result is None:
        result = (addr, 1, False)
    p.blocks[pc] = result
    return result


cdef object _run_to_branch(_State s, _Thread th, unsigned long long branch):
    """Continue th until it stops at branch (None: it sits there) or with an event.

    On the way it may stop quietly at an int3 or debug-register trap whose condition
    declined it (breakpoints.pyx): step over and go on.  A site of the user's at branch
    whose condition declines stops it there too, like the temporary one would have.
    """
    cdef object ev
    while True:
        _resume(s, th, PTRACE_CONT, 0)
        ev = _wait_tid(s, th)
        if ev is not None:
            return ev
        if _find_thread(s, th.tid) is not th or th.bp_hit == branch:
            return None
        if th.bp_hit:
            ev = _step_over(s, th, 0, True)
            if (<Event>ev)._kind != K_STEP:
                return ev
            if (<Event>ev)._address == branch:
                return None


cdef object _branch_step(_State s, _Thread th):
    cdef _Process p
    cdef unsigned long long pc, branch, length
    cdef bint temp
    cdef object ev
    if s.singleblock < 0:
        s.singleblock = _probe_singleblock()
    if s.singleblock == 1 and not th.bp_hit:
        while True:
            _resume(s, th, PTRACE_SINGLEBLOCK, 0)
            ev = _wait_tid(s, th)
            if ev is not None:
                return ev
            if th.bp_hit:
                break    # at an int3 whose condition declined the trap: decode from there
    while True:
        p = th.proc
        pc = th.bp_hit if th.bp_hit else _peek_user(th, PYDBG_RIP_OFFSET, "peekuser(rip)")
        branch, length, conditional = _find_branch(s, p, pc)
        if branch != pc:
            temp = _site_orig(p, branch) < 0
            if temp:
                _insert_bp(p, branch)
            try:
                if th.bp_hit:
                    ev = _step_over(s, th, 0, True)
                    if (<Event>ev)._kind != K_STEP:
                        return ev
                    if (<Event>ev)._address == branch:
                        ev = None
                if th.bp_hit == 0 and _peek_user(th, PYDBG_RIP_OFFSET, "rip") != branch:
                    ev = _run_to_branch(s, th, branch)
                else:
                    ev = None
            finally:
                if temp and p.mem_fd >= 0 and _site_orig(p, branch) >= 0:
                    _remove_bp(p, branch, True)
            if ev is not None:
                if not ((<Event>ev)._kind == K_BREAKPOINT and (<Event>ev)._address == branch
                        and temp):
                    return ev
                th.bp_hit = 0    # our own temporary breakpoint: consumed, pc rewound
        ev = _step(s, th, 0)
        if (<Event>ev)._kind != K_STEP:
            return ev
        if not conditional or (<Event>ev)._address != branch + length:
            return ev
        # A conditional branch that was not taken: on to the next one.
