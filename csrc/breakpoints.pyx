# breakpoints.pyx - the breakpoint addresses of a process, native conditions, and what the
# core does at a trap before anybody hears of it.
#
# Every process keeps one table (_BpTable, sorted by address) of the addresses the core
# knows: int3 sites (original byte, insert count; the bytes themselves are written by
# memory.pyx) and native conditions (a thread, a register test, a memory test, a skip
# count, and the hit counters).  A condition applies to every trap at its address: an int3
# at a site there, or a debug-register trap whose slot holds that address.
#
# At such a trap the condition is decided in C, before any Event exists.  A trap it
# declines is never reported:
#   - in Tracer.wait (s.in_wait), the thread is resumed with its last request.  From an
#     int3 the original instruction runs first (step-over) while no other thread of the
#     process can pass the lifted byte: threads that were running are stopped with the
#     stop-all machinery, and exactly those are resumed afterwards.  A single-threaded
#     process, and any debug-register trap (the kernel sets RF for an execute breakpoint,
#     hazards §10; a data breakpoint traps after the access), needs none of that, and
#     the whole round runs without creating a Python object.
#   - anywhere else (stop-all, step, trace, branch step), the thread is left stopped at
#     the trap, pc rewound, as if it had been stopped there by the operation: the next
#     resume executes the instruction.  Nobody is told.
# A signal that arrives while the instruction is stepped over is reported as usual and
# delivered once when the caller resumes with it (the deferred_sig machinery of _step_over;
# more than one go back to the thread's queue and are reported one by one afterwards).

cdef enum:
    OP_NONE = 0
    OP_EQ = 1
    OP_NE = 2
    OP_LT = 3
    OP_LE = 4
    OP_GT = 5
    OP_GE = 6

cdef dict _OPS = {"==": OP_EQ, "!=": OP_NE, "<": OP_LT, "<=": OP_LE, ">": OP_GT, ">=": OP_GE}
cdef int _RSP_INDEX = 19


# -- the table -------------------------------------------------------------------------------

cdef inline _Bp *_bp_find(_BpTable *t, uint64_t address) noexcept nogil:
    if t.n == 0:
        return NULL
    return <_Bp *>bsearch(&address, t.items, t.n, sizeof(_Bp), _cmp_u64)


cdef inline int _site_orig(_Process p, uint64_t address) noexcept nogil:
    """The original byte under the int3 at address, or -1 when none is inserted."""
    cdef _Bp *b = _bp_find(&p.bps, address)
    return -1 if b == NULL else b.orig


cdef _Bp *_bp_add(_BpTable *t, uint64_t address) except NULL:
    """The entry for address, created (no site, no condition) if there is none."""
    cdef Py_ssize_t lo = 0, hi = t.n, mid
    cdef _Bp *items
    while lo < hi:
        mid = (lo + hi) // 2
        if t.items[mid].address < address:
            lo = mid + 1
        else:
            hi = mid
    if lo < t.n and t.items[lo].address == address:
        return &t.items[lo]
    if t.n == t.cap:
        items = <_Bp *>realloc(t.items, (t.cap * 2 + 8) * sizeof(_Bp))
        if items == NULL:
            raise MemoryError()
        t.items = items
        t.cap = t.cap * 2 + 8
    memmove(&t.items[lo + 1], &t.items[lo], (t.n - lo) * sizeof(_Bp))
    t.n += 1
    memset(&t.items[lo], 0, sizeof(_Bp))
    t.items[lo].address = address
    t.items[lo].orig = -1
    t.items[lo].reg = -1
    return &t.items[lo]


cdef void _bp_prune(_BpTable *t, _Bp *b) noexcept:
    """Drop an entry that holds neither a site nor a condition."""
    cdef Py_ssize_t i = b - t.items
    if b.orig >= 0 or b.has_cond:
        return
    memmove(&t.items[i], &t.items[i + 1], (t.n - i - 1) * sizeof(_Bp))
    t.n -= 1


cdef void _bp_clear(_BpTable *t) noexcept:
    t.n = 0
    t.nreg = 0


cdef int _bp_copy(_BpTable *dst, _BpTable *src) except -1:
    """A fork child's table: the parent's sites (its memory is a copy) and conditions,
    with the counters started afresh."""
    cdef Py_ssize_t i
    if src.n == 0:
        return 0
    dst.items = <_Bp *>malloc(src.n * sizeof(_Bp))
    if dst.items == NULL:
        raise MemoryError()
    memcpy(dst.items, src.items, src.n * sizeof(_Bp))
    dst.n = dst.cap = src.n
    dst.nreg = src.nreg
    for i in range(dst.n):
        dst.items[i].hits = 0
        dst.items[i].matches = 0
    return 0


cdef dict _sites_dict(_Process p):
    cdef Py_ssize_t i
    cdef dict out = {}
    for i in range(p.bps.n):
        if p.bps.items[i].orig >= 0:
            out[p.bps.items[i].address] = p.bps.items[i].orig
    return out


# -- conditions ------------------------------------------------------------------------------

cdef int _parse_op(object op, str what) except -1:
    cdef object code = _OPS.get(op)
    if code is None:
        raise ValueError(f"{what} must be one of {', '.join(_OPS)}, not {op!r}")
    return code


cdef int _set_condition(_Process p, unsigned long long address, object tid, object skip,
                        object register, object reg_op, object reg_value, object mem_address,
                        object mem_size, object mem_op, object mem_value) except -1:
    """Validate everything first, then replace the condition at address (counts reset)."""
    cdef int reg = -1, rop = OP_NONE, mop = OP_NONE, size = 0
    cdef uint64_t rval = 0, maddr = 0, mval = 0, mask
    if skip < 0:
        raise ValueError(f"skip must be >= 0, not {skip}")
    if (register is None) != (reg_op is None):
        raise ValueError("register and reg_op go together")
    if register is not None:
        reg = _reg_index(register)
        rop = _parse_op(reg_op, "reg_op")
        rval = reg_value & _MASK64
    if mem_op is not None:
        mop = _parse_op(mem_op, "mem_op")
        if mem_size not in (1, 2, 4, 8):
            raise ValueError(f"mem_size must be 1, 2, 4 or 8, not {mem_size}")
        size = mem_size
        maddr = mem_address & _MASK64
        mval = mem_value & _MASK64
        if size < 8:
            # A negative value, sign-extended to 64 bits, means its low mem_size bytes.
            mask = (<uint64_t>1 << (8 * size)) - 1
            if mval | mask == _MASK64 and mval & (mask ^ (mask >> 1)):
                mval &= mask
    elif mem_size or mem_address or mem_value:
        raise ValueError("mem_address, mem_size and mem_value need mem_op")
    cdef _Bp *b = _bp_add(&p.bps, address)
    if b.has_cond and b.reg_op != OP_NONE:
        p.bps.nreg -= 1
    if rop != OP_NONE:
        p.bps.nreg += 1
    b.has_cond = True
    b.tid = tid
    b.skip = skip
    b.reg = reg
    b.reg_op = rop
    b.reg_value = rval
    b.mem_op = mop
    b.mem_size = size
    b.mem_address = maddr
    b.mem_value = mval
    b.hits = 0
    b.matches = 0
    return 0


cdef void _clear_condition(_Process p, unsigned long long address):
    cdef _Bp *b = _bp_find(&p.bps, address)
    if b != NULL and b.has_cond:
        if b.reg_op != OP_NONE:
            p.bps.nreg -= 1
        b.has_cond = False
        b.reg_op = OP_NONE
        _bp_prune(&p.bps, b)


cdef inline bint _compare(uint64_t value, int op, uint64_t operand) noexcept nogil:
    if op == OP_EQ:
        return value == operand
    if op == OP_NE:
        return value != operand
    if op == OP_LT:
        return value < operand
    if op == OP_LE:
        return value <= operand
    if op == OP_GT:
        return value > operand
    return value >= operand


cdef bint _cond_test(_Bp *b, pid_t pid, pid_t tid, uint64_t pc,
                     const user_regs_struct *regs) noexcept nogil:
    """Whether a trap of thread tid at b passes the tid, register and memory tests.

    regs: the thread's registers if the caller has them already, else NULL.

    A register or memory value that cannot be read counts as a pass: the trap is then
    reported, and the user sees a condition that cannot be evaluated rather than a
    breakpoint that silently never fires.  Memory is read with process_vm_readv only
    (unmapped, PROT_NONE and execute-only addresses fail), little-endian, zero-extended.
    """
    cdef uint64_t value = 0
    cdef long word
    cdef iovec local, remote
    if b.tid != 0 and b.tid != tid:
        return False
    if b.reg_op != OP_NONE:
        if b.reg == _RIP_INDEX:
            value = pc    # the trap's pc, as reported: an int3's is already rewound
        elif regs != NULL:
            value = (<const uint64_t *>regs)[b.reg]
        else:
            errno = 0
            word = ptrace(PTRACE_PEEKUSER, tid, <void *>(<long>b.reg * 8), NULL)
            if word == -1 and errno != 0:
                return True
            value = <uint64_t>word
        if not _compare(value, b.reg_op, b.reg_value):
            return False
    if b.mem_op != OP_NONE:
        value = 0
        local.iov_base = &value
        local.iov_len = b.mem_size
        remote.iov_base = <void *>b.mem_address
        remote.iov_len = b.mem_size
        if process_vm_readv(pid, &local, 1, &remote, 1, 0) != b.mem_size:
            return True
        if not _compare(value, b.mem_op, b.mem_value):
            return False
    return True


cdef bint _cond_hit(_Bp *b, pid_t pid, pid_t tid, uint64_t pc,
                    const user_regs_struct *regs=NULL) noexcept nogil:
    """Count one trap at b; True if it is to be reported (it matches, beyond skip)."""
    b.hits += 1
    if not _cond_test(b, pid, tid, pc, regs):
        return False
    b.matches += 1
    return b.matches > b.skip


# -- decisions at a trap ---------------------------------------------------------------------

cdef object _int3_trap(_State s, _Thread th, int status, siginfo_t *si):
    """A SIGTRAP with SI_KERNEL: the thread executed an int3.  The event, or None."""
    cdef _Process p = th.proc
    cdef user_regs_struct regs
    cdef const user_regs_struct *have = NULL
    cdef unsigned long long addr
    cdef _Bp *b
    cdef Event ev
    if p.bps.nreg:
        # All registers at once: the pc, and whatever a register condition tests.
        if ptrace(PTRACE_GETREGS, th.tid, NULL, &regs) < 0:
            raise_errno(errno, "getregs", th.pid, th.tid)
        addr = regs.rip - 1
        have = &regs
    else:
        addr = _peek_user(th, PYDBG_RIP_OFFSET, "peekuser(rip)") - 1
    b = _bp_find(&p.bps, addr)
    if b != NULL and b.orig >= 0:
        _poke_user(th, PYDBG_RIP_OFFSET, addr, "pokeuser(rip)")
        th.bp_hit = addr
        if b.has_cond and not _cond_hit(b, th.pid, th.tid, addr, have):
            return _declined(s, th, status)
        ev = _trap_event(K_BREAKPOINT, th, status, si)
        ev._address = addr
        return ev
    if addr in p.removed and _original_is_not_int3(p, addr):
        # Executed just before the breakpoint was removed (§9.3): rewind and go on as if
        # nothing happened; forwarding the SIGTRAP would kill the program.  The original
        # byte is back, so there is nothing to step over.
        _poke_user(th, PYDBG_RIP_OFFSET, addr, "pokeuser(rip)")
        return _declined(s, th, status)
    th.stop_sig = SIGTRAP
    return _trap_event(K_SIGNAL, th, status, si)


cdef object _hw_trap(_State s, _Thread th, int status, siginfo_t *si):
    """A SIGTRAP with TRAP_HWBKPT: a debug-register slot fired.  The event, or None."""
    cdef unsigned long long dr6
    cdef unsigned fired = 0
    cdef Event ev
    if th.proc.bps.n:
        # When every slot the thread has is an execute slot, the one that fired is the
        # one at the pc (an instruction breakpoint is a fault, §10): no DR6 read.
        fired = _exec_slots_at(th, <unsigned long long>si.si_addr)
        if fired and not _hw_reports(th, fired):
            th.dr6_dirty = True    # Bn is set: cleared before the resume where DR6 piles up
            return _declined(s, th, status)
    dr6 = _peek_user(th, PYDBG_DR_OFFSET(6), "peekuser(dr6)")
    th.dr6_dirty = True
    if th.proc.bps.n and not fired and dr6 & _DR6_SLOTS and not _hw_reports(th, dr6):
        return _declined(s, th, status)
    ev = _trap_event(K_HW_BREAKPOINT, th, status, si)
    ev.dr6 = dr6
    return ev


cdef object _NOT_A_SLOT = object()
cdef unsigned long long _DR7_ENABLED = 0xFF       # L0/G0 .. L3/G3
cdef unsigned long long _EFLAGS_RF = 1 << 16
cdef unsigned char _ICEBP = 0xF1


cdef object _lost_dr6_trap(_State s, _Thread th, int status, siginfo_t *si):
    """A debug-register trap whose DR6 arrived empty: the event, None, or _NOT_A_SLOT.

    Under KVM a #DB from an execute slot now and then reaches the guest kernel with DR6
    clear (seen here about once in 300,000 traps).  The kernel then takes it for an icebp:
    SIGTRAP with TRAP_BRKPT, the pc still at the slot's address (the fault came before the
    instruction), and RF not set.  Reported as a plain SIGTRAP, that trap would be
    delivered and kill the target.  It is the slot's hit: decided as one (condition, hit
    count), with RF set now, as the kernel would have, so that resuming runs the
    instruction instead of trapping on it again.  A real icebp (0xF1, a trap: the pc is
    past it) at the slot's address is told apart by the byte before the pc; a trap with
    only data slots enabled cannot be placed and stays a SIGTRAP.
    """
    cdef unsigned long long pc = <unsigned long long>si.si_addr
    cdef unsigned fired = 0
    cdef int slot
    cdef unsigned char before
    cdef Event ev
    for slot in range(4):
        if (th.dr7 & (<unsigned long long>0b11 << (2 * slot))
                and not th.dr7 & (<unsigned long long>0b11 << (16 + 4 * slot))
                and th.dr[slot] == pc):
            fired |= 1u << slot
    if not fired:
        return _NOT_A_SLOT
    if _vm_read(th.proc, pc - 1, <char *>&before, 1) == 1 and before == _ICEBP:
        return _NOT_A_SLOT
    _poke_user(th, PYDBG_EFLAGS_OFFSET,
               _peek_user(th, PYDBG_EFLAGS_OFFSET, "peekuser(eflags)") | _EFLAGS_RF,
               "pokeuser(eflags)")
    if th.proc.bps.n and not _hw_reports(th, fired):
        return _declined(s, th, status)
    ev = _trap_event(K_HW_BREAKPOINT, th, status, si)
    ev._si_code = TRAP_HWBKPT
    ev.dr6 = fired
    return ev


cdef unsigned _exec_slots_at(_Thread th, unsigned long long pc) noexcept:
    """The enabled slots whose address is pc, if every enabled slot is an execute slot;
    else 0."""
    cdef unsigned fired = 0
    cdef int slot
    for slot in range(4):
        if not th.dr7 & (<unsigned long long>0b11 << (2 * slot)):
            continue
        if th.dr7 & (<unsigned long long>0b11 << (16 + 4 * slot)):
            return 0    # a data slot: only DR6 can tell which one fired
        if th.dr[slot] == pc:
            fired |= 1u << slot
    return fired


cdef bint _hw_reports(_Thread th, unsigned long long fired) noexcept:
    """Count the trap at every fired slot's address (fired: DR6's B0-B3); False only when
    every fired slot has a condition and none of them reports it."""
    cdef _Bp *b
    cdef _Bp *seen[4]
    cdef int slot, k, nseen = 0
    cdef bint report = False, dup
    for slot in range(4):
        if not fired & (1 << slot):
            continue
        if not th.dr7 & (<unsigned long long>0b11 << (2 * slot)):
            return True    # not a slot the core programmed: nothing to decide with
        b = _bp_find(&th.proc.bps, th.dr[slot])
        if b == NULL or not b.has_cond:
            report = True
            continue
        dup = False
        for k in range(nseen):
            dup = dup or seen[k] == b
        if dup:
            continue    # two slots on one address: one trap
        seen[nseen] = b
        nseen += 1
        if _cond_hit(b, th.pid, th.tid, th.dr[slot]):
            report = True
    return report


cdef object _declined(_State s, _Thread th, int status):
    """A trap nobody is told about (see the top of this file).  Returns None, except for
    a stop that must be reported for another reason (then that event)."""
    cdef int req = th.last_req
    cdef Event ev
    if s.in_stop_all or not s.in_wait or (th.interrupt_pending and th.interrupt_report):
        if th.interrupt_pending and th.interrupt_report and not s.in_stop_all:
            # Tracer.interrupt asked for this thread to stop, and it has: say so.
            th.interrupt_report = False
            ev = _new_event(K_INTERRUPT, th.tid, th.pid, status)
            ev.signal = SIGTRAP
            return ev
        return None
    s.in_wait = False
    try:
        if not th.bp_hit:
            # A debug-register trap, or an int3 whose site is gone: nothing to step over.
            _resume(s, th, req, 0, True)
        elif req == PTRACE_SINGLESTEP or req == PTRACE_SINGLEBLOCK:
            # The caller's step: executing the original instruction is that step.
            return _step_over(s, th, 0, True)
        else:
            _pass_site(s, th, req)
    finally:
        s.in_wait = True
    return None


cdef int _pass_site(_State s, _Thread th, int req) except -1:
    """Run the instruction under the int3 th sits on, then resume th with req."""
    cdef list held
    if len(th.proc.tids) == 1:
        if _off_breakpoint(s, th):
            _resume(s, th, req, 0, True)
        return 0
    # Others run: stop them first.  Some may stop at a declined int3 themselves; every
    # thread is stepped off before any of them runs again, th included (cont_all's rule).
    held = [(th, req)]
    try:
        held.extend(_hold_process(s, th.proc, th, False))
    finally:
        _release_held(s, held)
    return 0


cdef list _hold_process(_State s, _Process p, _Thread exclude, bint listening):
    """Stop the running (and, with listening, the job-control stopped) threads of p;
    return [(thread, its last request)] for those that came to rest quietly.

    Built on stop-all (§6.1): interrupt stops are consumed, real events are stashed and
    their threads stay stopped for the caller of wait.  The thread the kernel holds in a
    vfork is not waited for (rule 6); it runs no code until the child lets it go.
    """
    cdef list targets = []
    cdef list held = []
    cdef _Thread th
    cdef object ev
    cdef bint quiet
    for tid in p.tids:
        th = _find_thread(s, tid)
        if th is None or th is exclude:
            continue
        if th.state != ST_RUNNING and not (listening and th.state == ST_LISTENING):
            continue
        if p.vfork_parent and th.tid == p.vfork_tid:
            continue
        if not th.interrupt_pending or th.interrupt_late:
            if ptrace(PTRACE_INTERRUPT, th.tid, NULL, NULL) < 0 and errno != ESRCH:
                raise_errno(errno, "interrupt", th.pid, th.tid)
            th.interrupt_pending = True
            th.interrupt_late = False
        targets.append((th, th.last_req))
    s.in_stop_all += 1
    try:
        for th, req in targets:
            while th.state != ST_STOPPED and _find_thread(s, th.tid) is th:
                ev = _wait_tid(s, th)
                if ev is not None:
                    s.stash.append(ev)
        for th, req in targets:
            # Quiet: no event of its own was stashed, by its wait or by a sibling's (a
            # wait takes the stops of the siblings being stopped with it, see _reap).
            quiet = True
            for ev in s.stash:
                if (<Event>ev).tid == th.tid:
                    quiet = False
                    break
            if quiet and th.state == ST_STOPPED and _find_thread(s, th.tid) is th:
                held.append((th, req))
    finally:
        s.in_stop_all -= 1
    return held


cdef int _release_held(_State s, list held) except -1:
    """Resume what _hold_process stopped, each with its request; threads that were
    stopped at a declined int3 are stepped off it first, while the others still wait."""
    cdef list ready = []
    cdef _Thread th
    cdef object ev
    for th, req in held:
        if th.state != ST_STOPPED or _find_thread(s, th.tid) is not th:
            continue
        if th.bp_hit and (req == PTRACE_SINGLESTEP or req == PTRACE_SINGLEBLOCK):
            ev = _step_over(s, th, 0, True)    # that is the step it was asked for
            s.stash.append(ev)
        elif _off_breakpoint(s, th):
            ready.append((th, req))
    for th, req in ready:
        if th.state == ST_STOPPED and _find_thread(s, th.tid) is th:
            _resume(s, th, req, 0, True)
    return 0
