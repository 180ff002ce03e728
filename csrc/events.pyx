# events.pyx - Event records: one decoded wait status each (hazards §4, §4.1).

import enum


class EventKind(enum.IntEnum):
    """What a wait status, decoded, means."""

    EXITED = 0
    KILLED = 1
    SIGNAL = 2
    BREAKPOINT = 3
    STEP = 4
    HW_BREAKPOINT = 5
    GROUP_STOP = 6
    INTERRUPT = 7
    CLONE = 8
    FORK = 9
    VFORK = 10
    VFORK_DONE = 11
    EXEC = 12
    EXIT = 13
    SYSCALL = 14
    SECCOMP = 15
    CONTINUED = 16


cdef enum:
    K_EXITED = 0
    K_KILLED = 1
    K_SIGNAL = 2
    K_BREAKPOINT = 3
    K_STEP = 4
    K_HW_BREAKPOINT = 5
    K_GROUP_STOP = 6
    K_INTERRUPT = 7
    K_CLONE = 8
    K_FORK = 9
    K_VFORK = 10
    K_VFORK_DONE = 11
    K_EXEC = 12
    K_EXIT = 13
    K_SYSCALL = 14
    K_SECCOMP = 15
    K_CONTINUED = 16

# Indexing a tuple is far cheaper than calling the enum class on every event.
cdef tuple _KINDS = tuple(EventKind)


cdef class Event:
    """One decoded wait status.

    A value, except that the siginfo of a signal other than SIGTRAP is read on first
    use, and only while the thread still sits in that stop (see Event.si_code).
    """

    cdef int _kind
    cdef readonly pid_t tid
    cdef readonly pid_t pid
    cdef readonly int status
    cdef readonly int signal
    cdef readonly unsigned long long message
    cdef unsigned long long _address
    cdef int _si_code
    # The siginfo as read (bytes made only when asked for: most events never are).
    cdef siginfo_t _si
    cdef bint _has_si
    cdef pid_t _sender_pid
    # Signals other than SIGTRAP fetch their siginfo on first use, while the thread still
    # sits in the same stop: most loops never look at it, and GETSIGINFO is a syscall.
    cdef object _lazy_thread
    cdef unsigned long _lazy_seq
    cdef readonly unsigned long long dr6
    cdef readonly int syscall_op
    cdef readonly long long syscall_nr
    cdef readonly long long syscall_ret

    @property
    def kind(self):
        return _KINDS[self._kind]

    cdef inline void _resolve(self):
        if self._lazy_thread is not None:
            _fetch_lazy_siginfo(self)

    @property
    def address(self):
        self._resolve()
        return self._address

    @property
    def si_code(self):
        self._resolve()
        return self._si_code

    @property
    def siginfo(self):
        self._resolve()
        if not self._has_si:
            return None
        return PyBytes_FromStringAndSize(<const char *>&self._si, sizeof(siginfo_t))

    @property
    def sender_pid(self):
        self._resolve()
        return self._sender_pid

    @property
    def exit_code(self):
        cdef int st
        if self._kind == K_EXITED:
            return WEXITSTATUS(self.status)
        if self._kind == K_EXIT:
            st = <int>self.message
            if WIFEXITED(st):
                return WEXITSTATUS(st)
            if WIFSIGNALED(st):
                return 128 + WTERMSIG(st)
        return -1

    @property
    def core_dumped(self):
        return self._kind == K_KILLED and WCOREDUMP(self.status) != 0

    def __repr__(self):
        parts = [f"{_KINDS[self._kind].name}", f"tid={self.tid}"]
        if self.pid != self.tid:
            parts.append(f"pid={self.pid}")
        if self.signal:
            parts.append(f"signal={self.signal}")
        if self.message:
            parts.append(f"message={self.message:#x}")
        if self._address:
            parts.append(f"address={self._address:#x}")
        if self._kind == K_EXITED:
            parts.append(f"exit_code={WEXITSTATUS(self.status)}")
        return f"<Event {' '.join(parts)}>"


cdef inline Event _new_event(int kind, pid_t tid, pid_t pid, int status):
    cdef Event ev = Event.__new__(Event)
    ev._kind = kind
    ev.tid = tid
    ev.pid = pid
    ev.status = status
    ev.syscall_nr = -1
    return ev
