# debugregs.pyx - x86 debug registers DR0-DR7 of one thread (hazards §10).
#
# Four address slots (DR0-DR3), the status register DR6 and the control register DR7.
# The kernel validates what it is given (kernel addresses, LEN not matching alignment,
# RW=10 I/O, execute with LEN != 1 -> EINVAL); we check the same things first so that the
# error names the mistake instead of a bare EINVAL.

HW_EXECUTE = 0b00
HW_WRITE = 0b01
HW_READWRITE = 0b11

# DR7 LEN field encoding for 1, 2, 4, 8-byte watchpoints.
cdef dict _LEN_BITS = {1: 0b00, 2: 0b01, 4: 0b11, 8: 0b10}
cdef unsigned long long _DR6_SLOTS = 0xF
cdef unsigned long long _USER_TOP = 0x0000800000000000


cdef int _check_dr_index(int index) except -1:
    if index not in (0, 1, 2, 3, 6, 7):
        raise ValueError(f"debug register index must be 0-3, 6 or 7, not {index}")
    return 0


cdef unsigned long long _get_dr(_Thread th, int index) except? 0xFFFFFFFFFFFFFFFF:
    return _peek_user(th, PYDBG_DR_OFFSET(index), "peekuser(dr)")


cdef int _set_dr(_Thread th, int index, unsigned long long value) except -1:
    _poke_user(th, PYDBG_DR_OFFSET(index), value, "pokeuser(dr)")
    if index == 7:
        th.uses_dr = value != 0
        th.dr7 = value
    elif index < 4:
        th.dr[index] = value
    return 0


cdef unsigned long long _slot_mask(int slot):
    # Local+global enable bits, and the RW/LEN nibble of the slot.
    return (<unsigned long long>0b11 << (2 * slot)) | (<unsigned long long>0xF << (16 + 4 * slot))


cdef unsigned long long _hw_bits(int slot, unsigned long long address, int access, int size,
                                 pid_t pid, pid_t tid, str request) except 0:
    """Check a slot's settings; return its DR7 bits (local enable, RW, LEN)."""
    if not 0 <= slot <= 3:
        raise ValueError(f"hardware breakpoint slot must be 0-3, not {slot}")
    if access not in (HW_EXECUTE, HW_WRITE, HW_READWRITE):
        raise ValueError("access must be HW_EXECUTE, HW_WRITE or HW_READWRITE")
    if size not in _LEN_BITS:
        raise ValueError(f"size must be 1, 2, 4 or 8, not {size}")
    if access == HW_EXECUTE and size != 1:
        raise ValueError("an execute breakpoint has size 1")
    if address % size:
        raise _InvalidArgumentError(EINVAL, f"address not aligned to its size {size}",
                                    request=request, pid=pid, tid=tid, address=address)
    if address >= _USER_TOP:
        raise _InvalidArgumentError(EINVAL, "address outside user space",
                                    request=request, pid=pid, tid=tid, address=address)
    return ((<unsigned long long>1 << (2 * slot))
            | (<unsigned long long>access << (16 + 4 * slot))
            | (<unsigned long long>_LEN_BITS[size] << (18 + 4 * slot)))


cdef int _program_slot(_Thread th, int slot, unsigned long long address,
                       unsigned long long bits) except -1:
    cdef unsigned long long dr7 = _get_dr(th, 7) & ~_slot_mask(slot)
    # Disable the slot, write the address, then enable: kernels validate the address
    # against the current DR7 (gdb's order).
    _set_dr(th, 7, dr7)
    _set_dr(th, slot, address)
    _set_dr(th, 7, dr7 | bits)
    return 0


cdef int _set_hw(_Thread th, int slot, unsigned long long address, int access,
                 int size) except -1:
    _program_slot(th, slot, address,
                  _hw_bits(slot, address, access, size, th.pid, th.tid, "set_hw_breakpoint"))
    return 0


cdef int _clear_hw(_Thread th, int slot) except -1:
    if not 0 <= slot <= 3:
        raise ValueError(f"hardware breakpoint slot must be 0-3, not {slot}")
    _set_dr(th, 7, _get_dr(th, 7) & ~_slot_mask(slot))
    _set_dr(th, slot, 0)
    return 0


cdef void _clear_all_dr(_Thread th):
    """Detach: DR7 first, then the addresses and DR6.  Errors are ignored (dying thread)."""
    cdef int i
    ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(7), NULL)
    for i in range(4):
        ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(i), NULL)
        th.dr[i] = 0
    ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(6), NULL)
    th.uses_dr = False
    th.dr7 = 0


# -- process-wide slots ------------------------------------------------------------------------
#
# A slot set for a process is written into every thread it has and, at its first stop,
# into every thread it creates (§7: a new thread does not inherit debug registers).  It
# owns that slot number in every thread of the process.

cdef int _init_new_task_dr(_Thread th, _Thread creator) except -1:
    """Debug registers of a task the core just saw created, before it first runs.

    The kernel starts it with none, but PEEKUSER(DR7) returns the creator's value (§7),
    which _program_slot would read back and re-enable: DR7 is written first.  A new thread
    then gets its process's slots; a fork child gets nothing (its caller decides).
    """
    cdef _Process p = th.proc
    cdef int slot
    cdef bint any_slot = False
    for slot in range(4):
        any_slot = any_slot or p.hw_bits[slot] != 0
    if not creator.uses_dr and not any_slot:
        return 0
    _set_dr(th, 7, 0)
    if any_slot:
        _sync_process_slots(th)
    return 0


cdef int _sync_process_slots(_Thread th) except -1:
    """Write every process-wide slot that th does not have yet."""
    cdef _Process p = th.proc
    cdef int slot
    for slot in range(4):
        if p.hw_bits[slot] and (th.dr[slot] != p.hw_addr[slot]
                                or th.dr7 & _slot_mask(slot) != p.hw_bits[slot]):
            _program_slot(th, slot, p.hw_addr[slot], p.hw_bits[slot])
    return 0


cdef int _set_process_hw(_State s, _Process p, int slot, unsigned long long address,
                         int access, int size) except -1:
    cdef unsigned long long bits = _hw_bits(slot, address, access, size, p.pid, p.pid,
                                            "set_process_hw_breakpoint")
    cdef list held
    cdef list done = []
    cdef _Thread th
    # Recorded first: a thread created while the others are being stopped gets it when
    # its creation is decoded.
    p.hw_addr[slot] = address
    p.hw_bits[slot] = bits
    held = []
    try:
        held = _hold_process(s, p, None, True)
        for th in _threads_of(s, p):
            if th.state != ST_STOPPED:
                continue    # exiting (ST_ZOMBIE), or held by the kernel in a vfork
            try:
                _program_slot(th, slot, address, bits)
            except ProcessLookupError:
                continue    # killed while stopped: its exit report is on the way
            done.append(th)
    except BaseException:
        p.hw_bits[slot] = 0
        for th in done:
            try:
                _clear_hw(th, slot)
            except _errors.PydbgError:
                pass
        raise
    finally:
        _release_held(s, held)
    return 0


cdef int _clear_process_hw(_State s, _Process p, int slot) except -1:
    cdef list held
    cdef _Thread th
    if not 0 <= slot <= 3:
        raise ValueError(f"hardware breakpoint slot must be 0-3, not {slot}")
    p.hw_bits[slot] = 0
    p.hw_addr[slot] = 0
    held = _hold_process(s, p, None, True)
    try:
        for th in _threads_of(s, p):
            if th.state == ST_STOPPED and (th.dr[slot] or th.dr7 & _slot_mask(slot)):
                try:
                    _clear_hw(th, slot)
                except ProcessLookupError:
                    pass
    finally:
        _release_held(s, held)
    return 0


cdef list _threads_of(_State s, _Process p):
    cdef list out = []
    cdef _Thread th
    for tid in sorted(p.tids):
        th = _find_thread(s, tid)
        if th is not None:
            out.append(th)
    return out
