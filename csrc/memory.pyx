# memory.pyx - reading and writing a tracee's memory, and the int3 bytes in it.
#
# process_vm_readv/writev are the fast path (one syscall for any length).  They refuse
# some of what a debugger must reach: writes to read-only and code pages (breakpoints,
# patches) and reads of execute-only pages.  For those, /proc/PID/mem (FOLL_FORCE) takes
# over, as in gdb (hazards §12) - but only inside mappings that grant some access: a
# PROT_NONE page (a guard page) is as inaccessible to the debugger as to the program, the
# way DbgEng treats PAGE_NOACCESS.  /proc/PID/maps is read only on that slow path.
# Short transfers are normal at the edge of a mapping and are reported exactly.
# PEEK/POKE is never used for bulk data; POKEDATA is the last resort for small writes
# when /proc/PID/mem refuses (kernels built with proc_mem.force_override=never).
#
# Inserted breakpoints are invisible through this interface: reads show the original
# bytes, and writes over a breakpoint update the saved byte and keep the int3.

cdef unsigned char _INT3 = 0xCC


cdef int _open_mem(_Process p) except -1:
    cdef bytes path = f"/proc/{p.pid}/mem".encode()
    if p.mem_fd >= 0:
        close(p.mem_fd)
    p.mem_fd = c_open(path, O_RDWR | O_CLOEXEC)
    if p.mem_fd < 0:
        raise_errno(errno, "open /proc/PID/mem", p.pid, p.pid)
    return 0


cdef unsigned long long _accessible_end(pid_t pid, unsigned long long address):
    """End of the run of mappings from `address` on that grant some access (0: none)."""
    cdef unsigned long long end = 0, lo, hi
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return 0
    for line in lines:
        fields = line.split(None, 2)
        bounds = fields[0].split(b"-")
        lo = int(bounds[0], 16)
        hi = int(bounds[1], 16)
        if hi <= address or (end and lo > end):
            continue
        if lo > (end or address) or fields[1][:3] == b"---":
            break
        end = hi
    return end


cdef Py_ssize_t _vm_read(_Process p, unsigned long long address, char *buf,
                         Py_ssize_t size) noexcept nogil:
    cdef iovec local, remote
    cdef ssize_t n
    local.iov_base = buf
    local.iov_len = size
    remote.iov_base = <void *>address
    remote.iov_len = size
    n = process_vm_readv(p.pid, &local, 1, &remote, 1, 0)
    return n if n > 0 else 0


cdef Py_ssize_t _raw_read(_Process p, unsigned long long address, char *buf,
                          Py_ssize_t size):
    """Read up to size bytes; return the length of the readable prefix."""
    cdef Py_ssize_t done
    cdef ssize_t n
    cdef unsigned long long end
    with nogil:
        done = _vm_read(p, address, buf, size)
    while done < size and p.mem_fd >= 0:
        end = _accessible_end(p.pid, address + done)
        if end <= address + done:
            break
        n = pread(p.mem_fd, buf + done, min(size - done, end - (address + done)),
                  <off_t>(address + done))
        if n <= 0:
            break
        done += n
    return done


cdef void _mask_sites(_Process p, unsigned long long address, char *buf, Py_ssize_t n):
    cdef Py_ssize_t i
    cdef _Bp *b
    for i in range(p.bps.n):
        b = &p.bps.items[i]
        if b.orig >= 0 and address <= b.address < address + n:
            buf[b.address - address] = <char><unsigned char>b.orig


cdef bytes _read(_Process p, unsigned long long address, Py_ssize_t size, bint partial):
    if size < 0:
        raise ValueError("size must be >= 0")
    cdef bytes out = PyBytes_FromStringAndSize(NULL, size)
    cdef char *buf = PyBytes_AS_STRING(out)
    cdef Py_ssize_t n = _raw_read(p, address, buf, size)
    _mask_sites(p, address, buf, n)
    if n == size:
        return out
    if partial:
        return out[:n]
    exc = _MemoryAccessError(EFAULT, f"only {n} of {size} bytes readable",
                             request="read_memory", pid=p.pid, tid=p.pid,
                             address=address + n)
    exc.transferred = n
    exc.data = out[:n]
    raise exc


cdef Py_ssize_t _read_into(_Process p, unsigned long long address, object buffer) except -1:
    cdef unsigned char[::1] view = buffer
    cdef Py_ssize_t size = view.shape[0]
    cdef Py_ssize_t n
    if size == 0:
        return 0
    cdef char *buf = <char *>&view[0]
    n = _raw_read(p, address, buf, size)
    _mask_sites(p, address, buf, n)
    return n


cdef Py_ssize_t _forced_write(_Process p, unsigned long long address, const char *buf,
                              Py_ssize_t size) noexcept nogil:
    """Write through /proc/PID/mem, then POKEDATA for a small rest; return bytes written."""
    cdef Py_ssize_t done = 0
    cdef ssize_t n
    while done < size and p.mem_fd >= 0:
        n = pwrite(p.mem_fd, buf + done, size - done, <off_t>(address + done))
        if n <= 0:
            break
        done += n
    if done < size and size - done <= 64:
        done += _poke_write(p.pid, address + done, buf + done, size - done)
    return done


cdef Py_ssize_t _raw_write(_Process p, unsigned long long address, const char *buf,
                           Py_ssize_t size):
    """Write size bytes; return how many were written."""
    cdef iovec local, remote
    cdef Py_ssize_t done = 0
    cdef ssize_t n
    cdef unsigned long long end
    local.iov_base = <void *>buf
    local.iov_len = size
    remote.iov_base = <void *>address
    remote.iov_len = size
    with nogil:
        n = process_vm_writev(p.pid, &local, 1, &remote, 1, 0)
    if n > 0:
        done = n
    while done < size:
        end = _accessible_end(p.pid, address + done)
        if end <= address + done:
            break
        n = _forced_write(p, address + done, buf + done,
                          min(size - done, end - (address + done)))
        if n <= 0:
            break
        done += n
    return done


cdef Py_ssize_t _poke_write(pid_t pid, unsigned long long address, const char *buf,
                            Py_ssize_t size) nogil:
    """Word-wise read-modify-write with PEEKDATA/POKEDATA; returns bytes written."""
    cdef Py_ssize_t done = 0
    cdef unsigned long long word_addr, off
    cdef long word
    cdef Py_ssize_t k
    while done < size:
        word_addr = (address + done) & ~(<unsigned long long>7)
        off = (address + done) - word_addr
        errno = 0
        word = ptrace(PTRACE_PEEKDATA, pid, <void *>word_addr, NULL)
        if word == -1 and errno != 0:
            break
        k = 0
        while off + k < 8 and done + k < size:
            (<char *>&word)[off + k] = buf[done + k]
            k += 1
        if ptrace(PTRACE_POKEDATA, pid, <void *>word_addr, <void *>word) < 0:
            break
        done += k
    return done


cdef int _write(_Process p, unsigned long long address, object data) except -1:
    cdef const unsigned char[::1] view = data
    cdef Py_ssize_t size = view.shape[0]
    cdef Py_ssize_t n
    cdef bytearray patched = None
    cdef const char *buf
    cdef Py_ssize_t i
    cdef _Bp *b
    if size == 0:
        return 0
    buf = <const char *>&view[0]
    for i in range(p.bps.n):
        b = &p.bps.items[i]
        if b.orig >= 0 and address <= b.address < address + size:
            if patched is None:
                patched = bytearray(view)
            b.orig = patched[b.address - address]
            patched[b.address - address] = _INT3
    if patched is not None:
        buf = patched
    n = _raw_write(p, address, buf, size)
    return _check_written(p, address, n, size)


cdef int _check_written(_Process p, unsigned long long address, Py_ssize_t n,
                        Py_ssize_t size) except -1:
    _invalidate_blocks(p, address, size)
    if n == size:
        return 0
    exc = _MemoryAccessError(EFAULT, f"only {n} of {size} bytes writable",
                             request="write_memory", pid=p.pid, tid=p.pid,
                             address=address + n)
    exc.transferred = n
    raise exc


cdef void _invalidate_blocks(_Process p, unsigned long long address, Py_ssize_t size):
    """Drop branch-step decode results that covered rewritten bytes."""
    if not p.blocks:
        return
    for start, (branch, length, _cond) in list(p.blocks.items()):
        if start < address + size and address < branch + length:
            del p.blocks[start]


cdef Py_ssize_t _write_byte(_Process p, unsigned long long address, char c) noexcept nogil:
    # Breakpoint bytes sit in code pages, which process_vm_writev always refuses: go to
    # /proc/PID/mem directly.  Only bytes whose original could be read get here, so the
    # page is known to be accessible.
    return _forced_write(p, address, &c, 1)


cdef int _poke_byte(_Process p, unsigned long long address, unsigned char value) except -1:
    cdef Py_ssize_t n = _write_byte(p, address, <char>value)
    if n != 1:
        raise_errno(EFAULT, "write breakpoint", p.pid, p.pid, address)
    return 0


cdef int _insert_bp(_Process p, unsigned long long address) except -1:
    cdef char orig
    cdef Py_ssize_t n
    cdef _Bp *b = _bp_find(&p.bps, address)
    if b != NULL and b.orig >= 0:
        b.refs += 1
        return 0
    n = _raw_read(p, address, &orig, 1)
    if n != 1:
        raise_errno(EFAULT, "insert_breakpoint", p.pid, p.pid, address)
    b = _bp_add(&p.bps, address)
    try:
        _poke_byte(p, address, _INT3)
    except BaseException:
        _bp_prune(&p.bps, b)
        raise
    b.orig = <unsigned char>orig
    b.refs = 1
    p.removed.discard(address)
    return 0


cdef int _remove_bp(_Process p, unsigned long long address, bint force) except -1:
    cdef _Bp *b = _bp_find(&p.bps, address)
    cdef unsigned char orig
    if b == NULL or b.orig < 0:
        raise KeyError(f"no breakpoint inserted at {address:#x} in process {p.pid}")
    if not force and b.refs > 1:
        b.refs -= 1
        return 0
    orig = <unsigned char>b.orig
    b.orig = -1
    b.refs = 0
    _bp_prune(&p.bps, b)
    p.removed.add(address)
    _poke_byte(p, address, orig)
    return 0


cdef void _remove_all_bps(_Process p):
    """Detach/kill: put every original byte back; errors ignored (process may be dying).
    Conditions go too: the process is about to be forgotten."""
    cdef Py_ssize_t i
    cdef _Bp *b
    for i in range(p.bps.n):
        b = &p.bps.items[i]
        if b.orig >= 0:
            _write_byte(p, b.address, <char><unsigned char>b.orig)
    _bp_clear(&p.bps)
