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
    return 0


cdef unsigned long long _slot_mask(int slot):
    # Local+global enable bits, and the RW/LEN nibble of the slot.
    return (<unsigned long long>0b11 << (2 * slot)) | (<unsigned long long>0xF << (16 + 4 * slot))


cdef int _set_hw(_Thread th, int slot, unsigned long long address, int access,
                 int size) except -1:
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
                                    request="set_hw_breakpoint", pid=th.pid, tid=th.tid,
                                    address=address)
    if address >= _USER_TOP:
        raise _InvalidArgumentError(EINVAL, "address outside user space",
                                    request="set_hw_breakpoint", pid=th.pid, tid=th.tid,
                                    address=address)
    cdef unsigned long long dr7 = _get_dr(th, 7) & ~_slot_mask(slot)
    # Disable the slot, write the address, then enable: kernels validate the address
    # against the current DR7 (gdb's order).
    _set_dr(th, 7, dr7)
    _set_dr(th, slot, address)
    dr7 |= (<unsigned long long>1 << (2 * slot))
    dr7 |= (<unsigned long long>access << (16 + 4 * slot))
    dr7 |= (<unsigned long long>_LEN_BITS[size] << (18 + 4 * slot))
    _set_dr(th, 7, dr7)
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
    ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(6), NULL)
    th.uses_dr = False
