# registers.pyx - general registers (struct user_regs_struct) and the XSAVE area.
#
# General registers are cached nowhere in the core: a GETREGS costs about 1 µs
# (hazards §11) and the engine above decides what to cache per stop.  One register is
# read or written with PEEKUSER/POKEUSER at its offset in struct user, which starts with
# user_regs_struct.

import struct as _struct

REGISTER_NAMES = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
    "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
    "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
)
cdef dict _REG_INDEX = {name: i for i, name in enumerate(REGISTER_NAMES)}
cdef int _RIP_INDEX = 16
cdef unsigned long long _MASK64 = 0xFFFFFFFFFFFFFFFF


cdef int _reg_index(str name) except -1:
    cdef object i = _REG_INDEX.get(name)
    if i is None:
        raise _InvalidRegisterError(name, REGISTER_NAMES)
    return i


cdef class Regs:
    """A copy of struct user_regs_struct.  Mutable; write it back with Tracer.set_regs."""

    cdef user_regs_struct regs

    cdef inline unsigned long long *_slot(self, int index):
        return (<unsigned long long *>&self.regs) + index

    def __getattr__(self, str name):
        cdef object i = _REG_INDEX.get(name)
        if i is None:
            raise AttributeError(name)
        return self._slot(i)[0]

    def __setattr__(self, str name, value):
        cdef object i = _REG_INDEX.get(name)
        if i is None:
            raise AttributeError(f"no register named {name!r}")
        self._slot(i)[0] = <unsigned long long>(value & _MASK64)

    def __getitem__(self, str name):
        return self._slot(_reg_index(name))[0]

    def __setitem__(self, str name, value):
        self._slot(_reg_index(name))[0] = <unsigned long long>(value & _MASK64)

    def as_dict(self):
        return {name: self._slot(i)[0] for i, name in enumerate(REGISTER_NAMES)}

    def copy(self):
        cdef Regs other = Regs.__new__(Regs)
        other.regs = self.regs
        return other

    def __eq__(self, other):
        return isinstance(other, Regs) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return "<Regs rip={:#x} rsp={:#x} rax={:#x}>".format(
            self.regs.rip, self.regs.rsp, self.regs.rax)


cdef Regs _get_regs(_Thread th):
    cdef Regs r = Regs.__new__(Regs)
    if ptrace(PTRACE_GETREGS, th.tid, NULL, &r.regs) < 0:
        raise_errno(errno, "getregs", th.pid, th.tid)
    return r


cdef int _set_regs(_Thread th, Regs r) except -1:
    if ptrace(PTRACE_SETREGS, th.tid, NULL, &r.regs) < 0:
        raise_errno(errno, "setregs", th.pid, th.tid)
    # The thread no longer necessarily sits on the breakpoint it was reported at.
    if th.bp_hit and r.regs.rip != th.bp_hit:
        th.bp_hit = 0
    return 0


cdef unsigned long long _peek_user(_Thread th, long offset, str request) except? 0xFFFFFFFFFFFFFFFF:
    cdef long value
    errno = 0
    value = ptrace(PTRACE_PEEKUSER, th.tid, <void *>offset, NULL)
    if value == -1 and errno != 0:
        raise_errno(errno, request, th.pid, th.tid)
    return <unsigned long long>value


cdef int _poke_user(_Thread th, long offset, unsigned long long value, str request) except -1:
    if ptrace(PTRACE_POKEUSER, th.tid, <void *>offset, <void *>value) < 0:
        raise_errno(errno, request, th.pid, th.tid)
    return 0


cdef int _set_pc(_Thread th, unsigned long long pc) except -1:
    _poke_user(th, PYDBG_RIP_OFFSET, pc, "set_pc")
    # A stop inside an interrupted syscall would rewind the new pc by 2 on resume
    # (-ERESTART*); orig_rax = -1 disables the restart, as gdb's amd64_linux_write_pc.
    _poke_user(th, PYDBG_ORIG_RAX_OFFSET, _MASK64, "set_pc")
    if pc != th.bp_hit:
        th.bp_hit = 0
    return 0


# -- XSAVE area (FP, SSE, AVX) ---------------------------------------------------------

# Offsets in the legacy FXSAVE region and the XSAVE header are architectural.
cdef int _XSTATE_MAX = 16384
cdef int _OFF_ST = 32
cdef int _OFF_XMM = 160
cdef int _OFF_XSTATE_BV = 512
cdef unsigned _avx_offset = 0
cdef unsigned _avx_size = 0
pydbg_xsave_component(2, &_avx_offset, &_avx_size)


cdef class FPRegs:
    """The XSAVE area of one thread, with the x87/SSE/AVX parts decoded.

    Setters mark the matching XSTATE_BV component present so that the kernel restores it.
    """

    cdef bytearray _raw

    @staticmethod
    def from_raw(data):
        """An XSAVE area recorded elsewhere (a core file's NT_X86_XSTATE or the 512-byte
        FXSAVE image of NT_FPREGSET), decoded like one read from a thread."""
        cdef FPRegs f = FPRegs.__new__(FPRegs)
        f._raw = bytearray(data)
        return f

    @property
    def raw(self):
        return bytes(self._raw)

    def _u(self, str fmt, int offset):
        return _struct.unpack_from(fmt, self._raw, offset)[0]

    def _set(self, str fmt, int offset, value, int component):
        _struct.pack_into(fmt, self._raw, offset, value)
        self._mark(component)

    cdef _mark(self, int component):
        cdef unsigned long long bv = _struct.unpack_from("<Q", self._raw, _OFF_XSTATE_BV)[0]
        _struct.pack_into("<Q", self._raw, _OFF_XSTATE_BV, bv | (1 << component))

    fcw = property(lambda self: self._u("<H", 0), lambda self, v: self._set("<H", 0, v, 0))
    fsw = property(lambda self: self._u("<H", 2), lambda self, v: self._set("<H", 2, v, 0))
    ftw = property(lambda self: self._u("<B", 4), lambda self, v: self._set("<B", 4, v, 0))
    fop = property(lambda self: self._u("<H", 6), lambda self, v: self._set("<H", 6, v, 0))
    fip = property(lambda self: self._u("<Q", 8), lambda self, v: self._set("<Q", 8, v, 0))
    fdp = property(lambda self: self._u("<Q", 16), lambda self, v: self._set("<Q", 16, v, 0))
    mxcsr = property(lambda self: self._u("<I", 24), lambda self, v: self._set("<I", 24, v, 1))

    @property
    def has_avx(self):
        return _avx_offset != 0 and len(self._raw) >= _avx_offset + 256

    cdef int _check(self, int i, int limit) except -1:
        if not 0 <= i < limit:
            raise IndexError(f"register index {i} out of range 0..{limit - 1}")
        return 0

    def st(self, int i):
        self._check(i, 8)
        return bytes(self._raw[_OFF_ST + 16 * i:_OFF_ST + 16 * i + 10])

    def set_st(self, int i, bytes value):
        self._check(i, 8)
        if len(value) != 10:
            raise ValueError("an x87 register is 10 bytes")
        self._raw[_OFF_ST + 16 * i:_OFF_ST + 16 * i + 10] = value
        self._mark(0)

    def xmm(self, int i):
        self._check(i, 16)
        return int.from_bytes(self._raw[_OFF_XMM + 16 * i:_OFF_XMM + 16 * i + 16], "little")

    def set_xmm(self, int i, value):
        self._check(i, 16)
        self._raw[_OFF_XMM + 16 * i:_OFF_XMM + 16 * i + 16] = (
            (value & ((1 << 128) - 1)).to_bytes(16, "little"))
        self._mark(1)

    cdef int _need_avx(self) except -1:
        if not self.has_avx:
            raise _InvalidRegisterError("ymm", ("this CPU or kernel exposes no AVX state",))
        return 0

    def ymm(self, int i):
        self._check(i, 16)
        self._need_avx()
        high = int.from_bytes(self._raw[_avx_offset + 16 * i:_avx_offset + 16 * i + 16],
                              "little")
        return (high << 128) | self.xmm(i)

    def set_ymm(self, int i, value):
        self._check(i, 16)
        self._need_avx()
        value &= (1 << 256) - 1
        self.set_xmm(i, value & ((1 << 128) - 1))
        self._raw[_avx_offset + 16 * i:_avx_offset + 16 * i + 16] = (
            (value >> 128).to_bytes(16, "little"))
        self._mark(2)


cdef FPRegs _get_fpregs(_Thread th):
    cdef FPRegs f = FPRegs.__new__(FPRegs)
    cdef bytearray buf = bytearray(_XSTATE_MAX)
    cdef iovec iov
    cdef char *data = buf
    iov.iov_base = data
    iov.iov_len = _XSTATE_MAX
    if ptrace(PTRACE_GETREGSET, th.tid, <void *>NT_X86_XSTATE, &iov) < 0:
        raise_errno(errno, "getregset", th.pid, th.tid)
    f._raw = buf[:iov.iov_len]
    return f


cdef int _set_fpregs(_Thread th, FPRegs f) except -1:
    cdef iovec iov
    cdef char *data = f._raw
    iov.iov_base = data
    iov.iov_len = len(f._raw)
    if ptrace(PTRACE_SETREGSET, th.tid, <void *>NT_X86_XSTATE, &iov) < 0:
        raise_errno(errno, "setregset", th.pid, th.tid)
    return 0
