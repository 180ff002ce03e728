# wait.pyx - collecting and decoding wait statuses; resuming; the event wait; stop-all.
#
# Three ways to wait, each the cheapest for its job:
#   _wait_tid    blocking waitpid(tid) for one thread the caller just resumed (step,
#                step-over, trace, stop-all, kill).  As fast as the raw C loop.
#   Tracer.wait  any event of any tracee, with timeout, wake-up from another thread and
#                Ctrl-C: waitid(WNOWAIT) in compat.h's wakeable block, then a drain that
#                peeks before it reaps so that exit statuses of children that are not
#                tracees (subprocess.Popen from this thread) are left to their owner.
#   the drain    waitid(WNOHANG|WNOWAIT) + waitpid(that pid) until nothing is left.
# __WNOTHREAD keeps children of other Python threads out of sight entirely.

import os as _os

from pydbg.errors import PtraceError as _PtraceError

cdef extern from "<sys/wait.h>" nogil:
    ctypedef enum idtype_t:
        P_ALL
        P_PID
    int waitid(idtype_t idtype, int id, siginfo_t *infop, int options)
    enum:
        WEXITED
        WNOWAIT
        CLD_EXITED
        CLD_KILLED
        CLD_DUMPED
        CLD_TRAPPED

cdef extern from "<signal.h>" nogil:
    int SIGRTMAX

cdef extern from "<time.h>" nogil:
    int nanosleep(const timespec *req, timespec *rem)


cdef bint _kernel_before(int major, int minor):
    release = _os.uname().release.split("-")[0].split(".")
    try:
        return (int(release[0]), int(release[1])) < (major, minor)
    except (ValueError, IndexError):
        return True


# "x86/debug: Change thread.debugreg6 to thread.virtual_dr6" (5.10).
cdef bint _DR6_ACCUMULATES = _kernel_before(5, 10)


cdef inline bint _is_stop_signal(int sig):
    return sig == SIGSTOP or sig == SIGTSTP or sig == SIGTTIN or sig == SIGTTOU


# -- resuming ------------------------------------------------------------------------------

cdef int _resume(_State s, _Thread th, int req, int sig, bint quiet=False) except -1:
    """Restart a STOPPED thread with `req` (PTRACE_CONT/SINGLESTEP/SYSCALL/LISTEN...)."""
    cdef bytes info
    cdef int err
    if th.dr6_dirty:
        # Kernels before 5.10 accumulate DR6; clearing it keeps the next decode honest.
        # Later ones reset the DR6 a tracer sees at every debug exception (§10), and
        # every stop that reads DR6 is one.
        if _DR6_ACCUMULATES:
            ptrace(PTRACE_POKEUSER, th.tid, <void *>PYDBG_DR_OFFSET(6), NULL)
        th.dr6_dirty = False
    if th.deferred_sig:
        if sig == th.deferred_sig and th.deferred_info is not None:
            info = th.deferred_info
            ptrace(PTRACE_SETSIGINFO, th.tid, NULL, PyBytes_AS_STRING(info))
        th.deferred_sig = 0
        th.deferred_info = None
    if ptrace(req, th.tid, NULL, <void *><long>sig) < 0:
        err = errno
        if err == ESRCH:
            # Killed while stopped (SIGKILL needs no stop): its exit report is on the way.
            th.state = ST_ZOMBIE if th.exiting else ST_RUNNING
            th.bp_hit = 0
            if quiet:
                return 0
            raise_errno(err, _REQ_NAMES.get(req, "resume"), th.pid, th.tid, None, True)
        raise_errno(err, _REQ_NAMES.get(req, "resume"), th.pid, th.tid)
    if th.exiting:
        th.state = ST_ZOMBIE
    elif req == PTRACE_LISTEN:
        th.state = ST_LISTENING
    else:
        th.state = ST_RUNNING
    th.last_req = req
    th.last_sig = sig
    th.bp_hit = 0
    th.stop_sig = 0
    if req != PTRACE_SYSCALL:
        th.sc_nr = -1   # its syscall exit will not stop: the entry seen is history
    return 0


cdef dict _REQ_NAMES = {
    PTRACE_CONT: "cont",
    PTRACE_SINGLESTEP: "singlestep",
    PTRACE_SYSCALL: "syscall",
    PTRACE_LISTEN: "listen",
    PTRACE_SINGLEBLOCK: "singleblock",
}


# -- decoding ------------------------------------------------------------------------------

cdef void _fill_siginfo(Event ev, const siginfo_t *si):
    ev._si = si[0]
    ev._has_si = True
    ev._si_code = si.si_code
    if si.si_code == SI_USER or si.si_code == SI_TKILL or si.si_code == SI_QUEUE:
        ev._sender_pid = si.si_pid
    else:
        ev._address = <unsigned long long>si.si_addr


cdef bint _fetch_siginfo(_Thread th, Event ev):
    """GETSIGINFO into the event; False if the thread vanished."""
    cdef siginfo_t si
    if ptrace(PTRACE_GETSIGINFO, th.tid, NULL, &si) < 0:
        return False
    _fill_siginfo(ev, &si)
    return True


cdef Event _trap_event(int kind, _Thread th, int status, const siginfo_t *si):
    """The event of a SIGTRAP signal-delivery-stop whose siginfo was read into si."""
    cdef Event ev = _new_event(kind, th.tid, th.pid, status)
    ev.signal = SIGTRAP
    _fill_siginfo(ev, si)
    return ev


cdef object _signal_facts(list events, _Thread th, unsigned long long simple):
    """What cont_wait returns: (signo, si_code, address, pc, sender_pid) when `events` is
    exactly one signal-delivery-stop of th, for a signal in `simple` (bit signo-1), with
    its siginfo and pc read now, while th sits in that stop; else `events` unchanged.
    (SIGTRAP events are classified eagerly and never lazy, so they never qualify.)"""
    cdef Event ev
    cdef siginfo_t si
    cdef long value
    cdef int sig
    cdef unsigned long long address = 0
    cdef pid_t sender = 0
    if len(events) != 1:
        return events
    ev = <Event>events[0]
    sig = ev.signal
    if ev._kind != K_SIGNAL or ev._lazy_thread is not th or sig <= 0 or sig > 64 \
            or not (simple & (1ULL << (sig - 1))):
        return events
    if th.state != ST_STOPPED or th.stop_seq != ev._lazy_seq:
        return events
    if ptrace(PTRACE_GETSIGINFO, th.tid, NULL, &si) < 0:
        return events
    errno = 0
    value = ptrace(PTRACE_PEEKUSER, th.tid, <void *>PYDBG_RIP_OFFSET, NULL)
    if value == -1 and errno != 0:
        return events
    if si.si_code == SI_USER or si.si_code == SI_TKILL or si.si_code == SI_QUEUE:
        sender = si.si_pid
    else:
        address = <unsigned long long>si.si_addr
    return (sig, si.si_code, address, <unsigned long long>value, sender)


cdef void _fetch_lazy_siginfo(Event ev):
    """Fill in a signal event's siginfo if its thread still sits in that stop."""
    cdef _Thread th = ev._lazy_thread
    ev._lazy_thread = None
    if th.state == ST_STOPPED and th.stop_seq == ev._lazy_seq:
        _fetch_siginfo(th, ev)


cdef object _decode(_State s, pid_t tid, int status):
    """Update the table with one wait status; return its Event, or None if consumed."""
    cdef _Thread th = _find_thread(s, tid)
    cdef int sig, event
    cdef unsigned long msg = 0
    cdef _Process p
    if th is None:
        return _decode_unknown(s, tid, status)
    if WIFEXITED(status) or WIFSIGNALED(status):
        return _decode_exit(s, th, status)
    sig = WSTOPSIG(status)
    event = (status >> 16) & 0xFF
    th.state = ST_STOPPED
    th.stop_seq += 1
    th.in_syscall = (
        (event == 0 and sig == (SIGTRAP | 0x80))
        or (event != 0 and event != PTRACE_EVENT_STOP and event != PTRACE_EVENT_EXIT)
    )
    if event == 0:
        if sig == (SIGTRAP | 0x80):
            return _decode_syscall(s, th, status)
        _real_stop_seen(th)
        return _decode_signal(s, th, status, sig)
    if event == PTRACE_EVENT_STOP:
        return _decode_event_stop(s, th, status, sig)
    # A ptrace event stop (clone, fork, exec, exit, ...).
    _real_stop_seen(th)
    ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg)
    if event == PTRACE_EVENT_CLONE or event == PTRACE_EVENT_FORK or event == PTRACE_EVENT_VFORK:
        return _decode_new_task(s, th, status, event, <pid_t>msg)
    if event == PTRACE_EVENT_EXEC:
        return _decode_exec(s, th, status, <pid_t>msg)
    if event == PTRACE_EVENT_EXIT:
        th.exiting = True
        ev = _new_event(K_EXIT, tid, th.pid, status)
        ev.message = msg
        return ev
    if event == PTRACE_EVENT_VFORK_DONE:
        p = th.proc
        p.vfork_parent = False
        # Held in the kernel during the vfork, it may have missed a process-wide slot.
        try:
            _sync_process_slots(th)
        except ProcessLookupError:
            pass    # killed already: its exit report follows
        ev = _new_event(K_VFORK_DONE, tid, th.pid, status)
        ev.message = msg
        return ev
    ev = _new_event(K_SECCOMP, tid, th.pid, status)
    ev.message = msg
    return ev


cdef inline void _real_stop_seen(_Thread th):
    """Interrupt bookkeeping at a stop that is not the interrupt's (hazards §6.1).

    The kernel clears a pending PTRACE_INTERRUPT at every ptrace stop; it survives only
    when it was requested while the thread already sat in this stop, and then it
    arrives after the next resume.  The tracer cannot tell the two orders apart, so the
    first real stop marks the interrupt "late" (maybe still coming), and a real stop
    after a resume proves it gone.
    """
    if th.interrupt_pending:
        if th.interrupt_late:
            th.interrupt_pending = False
            th.interrupt_late = False
        else:
            th.interrupt_late = True


cdef object _decode_unknown(_State s, pid_t tid, int status):
    if WIFSTOPPED(status):
        # A new task reported its first stop before its creator's CLONE/FORK event
        # (hazards §7): keep it until that event claims it.
        s.unknown[tid] = status
    else:
        s.reapable.discard(tid)
    return None


cdef object _decode_exit(_State s, _Thread th, int status):
    cdef Event ev
    cdef _Process p = s.procs.get(th.pid)
    if WIFEXITED(status):
        ev = _new_event(K_EXITED, th.tid, th.pid, status)
    else:
        ev = _new_event(K_KILLED, th.tid, th.pid, status)
        ev.signal = WTERMSIG(status)
    _drop_thread(s, th)
    if th.tid == th.pid and p is not None:
        # The leader's status is the process's: the kernel reports it last (§6.2).
        _drop_process(s, p)
    return ev


cdef object _decode_syscall(_State s, _Thread th, int status):
    cdef ptrace_syscall_info info
    cdef Event ev = _new_event(K_SYSCALL, th.tid, th.pid, status)
    ev.signal = SIGTRAP
    _real_stop_seen(th)
    memset(&info, 0, sizeof(info))
    if ptrace(PTRACE_GET_SYSCALL_INFO, th.tid, <void *>sizeof(info), &info) > 0:
        ev.syscall_op = info.op
        ev._address = info.instruction_pointer
        if info.op == PTRACE_SYSCALL_INFO_ENTRY:
            ev.syscall_nr = PYDBG_SCI_NR(&info)
            th.sc_nr = <long>ev.syscall_nr
        elif info.op == PTRACE_SYSCALL_INFO_EXIT:
            ev.syscall_ret = PYDBG_SCI_RVAL(&info)
        if s.sc_pass and _pass_syscall(s, th, info.op):
            return None
    return ev


cdef bint _pass_syscall(_State s, _Thread th, int op) except -1:
    """Resume a syscall stop nobody listens to (Tracer.set_syscall_pass), as _pass_on
    does for signals: only in Tracer.wait, for a thread the caller let run with
    PTRACE_SYSCALL, with no interrupt of its own to report.  An exit stop goes by the
    number its entry had; an exit without a seen entry is reported."""
    cdef long nr = th.sc_nr
    if op == PTRACE_SYSCALL_INFO_EXIT:
        th.sc_nr = -1
    elif op != PTRACE_SYSCALL_INFO_ENTRY:
        return False
    if nr < 0 or nr >= SC_NUMBERS or s.sc_report[nr] or not s.in_wait or s.in_stop_all \
            or th.last_req != PTRACE_SYSCALL or th.exiting or th.interrupt_pending:
        return False
    if op == PTRACE_SYSCALL_INFO_ENTRY:
        s.sc_counts[nr] += 1
    _resume(s, th, PTRACE_SYSCALL, 0, quiet=True)
    return True


cdef object _decode_signal(_State s, _Thread th, int status, int sig):
    cdef Event ev
    cdef object lost
    cdef siginfo_t si
    if sig != SIGTRAP:
        if s.pass_mask and _pass_on(s, th, sig):
            return None
        ev = _new_event(K_SIGNAL, th.tid, th.pid, status)
        ev.signal = sig
        th.stop_sig = sig
        ev._lazy_thread = th
        ev._lazy_seq = th.stop_seq
        return ev
    # SIGTRAP: read the siginfo onto the stack first; an int3 or debug-register trap that
    # a native condition declines ends here without an Event (breakpoints.pyx).
    if ptrace(PTRACE_GETSIGINFO, th.tid, NULL, &si) < 0:
        th.stop_sig = sig
        ev = _new_event(K_SIGNAL, th.tid, th.pid, status)
        ev.signal = sig
        return ev
    if si.si_code == SI_KERNEL:
        return _int3_trap(s, th, status, &si)
    if si.si_code == TRAP_HWBKPT:
        return _hw_trap(s, th, status, &si)
    if si.si_code == TRAP_BRKPT and th.dr7 & _DR7_ENABLED and th.last_req != PTRACE_SINGLESTEP \
            and th.last_req != PTRACE_SINGLEBLOCK:
        lost = _lost_dr6_trap(s, th, status, &si)
        if lost is not _NOT_A_SLOT:
            return lost
    ev = _trap_event(K_SIGNAL, th, status, &si)
    if th.last_req == PTRACE_SINGLESTEP or th.last_req == PTRACE_SINGLEBLOCK:
        if ev._si_code == SIGTRAP:
            # A step that delivered a signal stops at the handler's first instruction
            # through ptrace_notify(SIGTRAP), which puts SIGTRAP in si_code and no
            # address (hazards §9.4): the step is done, the pc is the handler's.
            ev._kind = K_STEP
            ev._address = _peek_user(th, PYDBG_RIP_OFFSET, "peekuser(rip)")
            return ev
        if ev._si_code == TRAP_TRACE or ev._si_code == TRAP_BRKPT:
            ev._kind = K_STEP
            if th.uses_dr:
                # A step that executed a watched access reports TRAP_TRACE with Bn set.
                ev.dr6 = _peek_user(th, PYDBG_DR_OFFSET(6), "peekuser(dr6)")
                th.dr6_dirty = True
            return ev
    th.stop_sig = sig
    return ev


cdef bint _pass_on(_State s, _Thread th, int sig) except -1:
    """Pass a signal on without reporting it, when the caller asked for that signal
    (Tracer.set_pass_signals, like gdb's `handle SIG nostop noprint pass`): resume the
    thread at once, delivering the signal or suppressing it.  True if it was resumed.

    Only inside Tracer.wait, and only for a thread that was let run with PTRACE_CONT:
    stop-all, steps and traces leave every stop for their caller.  Not at a pc where a
    breakpoint of ours sits (an int3, or an address in a debug register): what resuming
    there means (a hit or not, hazards §10) is the caller's business.
    """
    cdef unsigned long long bit, pc
    cdef long value
    cdef int i
    if sig <= 0 or sig > 64:
        return False
    bit = 1ULL << (sig - 1)
    if not (s.pass_mask & bit) or not s.in_wait or s.in_stop_all \
            or th.last_req != PTRACE_CONT or th.exiting:
        return False
    if th.proc.bps.n or th.uses_dr:
        errno = 0
        value = ptrace(PTRACE_PEEKUSER, th.tid, <void *>PYDBG_RIP_OFFSET, NULL)
        if value == -1 and errno != 0:
            return False
        pc = <unsigned long long>value
        if _site_orig(th.proc, pc) >= 0:
            return False
        if th.uses_dr:
            for i in range(4):
                if th.dr[i] == pc:
                    return False
    th.stop_sig = 0
    _resume(s, th, PTRACE_CONT, sig if s.pass_deliver & bit else 0, quiet=True)
    return True


cdef bint _original_is_not_int3(_Process p, unsigned long long addr):
    cdef char c = 0
    _raw_read(p, addr, &c, 1)
    return <unsigned char>c != _INT3


cdef object _decode_event_stop(_State s, _Thread th, int status, int sig):
    cdef Event ev
    if th.interrupt_pending:
        th.interrupt_pending = False
        if th.interrupt_late:
            # The interrupt was overtaken by a real stop and arrives now, after the
            # resume that followed it: swallow it and re-issue that resume (§6.1 rule 2).
            th.interrupt_late = False
            if _is_stop_signal(sig):
                th.group_stopped = True
            _resume(s, th, th.last_req, 0, quiet=True)
            return None
        if _is_stop_signal(sig):
            # Interrupting a job-control-stopped thread reports the stop signal.
            th.group_stopped = True
        if th.interrupt_report:
            th.interrupt_report = False
            ev = _new_event(K_INTERRUPT, th.tid, th.pid, status)
            ev.signal = sig
            return ev
        if s.in_stop_all:
            return None
        ev = _new_event(K_INTERRUPT, th.tid, th.pid, status)
        ev.signal = sig
        return ev
    if _is_stop_signal(sig):
        th.group_stopped = True
        ev = _new_event(K_GROUP_STOP, th.tid, th.pid, status)
        ev.signal = sig
        return ev
    if th.last_req == PTRACE_LISTEN:
        # SIGCONT ended the job-control stop of a listening thread.
        th.group_stopped = False
        ev = _new_event(K_CONTINUED, th.tid, th.pid, status)
        ev.signal = sig
        return ev
    ev = _new_event(K_INTERRUPT, th.tid, th.pid, status)
    ev.signal = sig
    return ev


cdef object _decode_new_task(_State s, _Thread parent, int status, int event, pid_t new):
    cdef int kind = K_CLONE if event == PTRACE_EVENT_CLONE else (
        K_FORK if event == PTRACE_EVENT_FORK else K_VFORK)
    cdef Event ev = _new_event(kind, parent.tid, parent.pid, status)
    cdef _Process pp = parent.proc
    cdef _Process np = pp
    cdef _Thread th
    ev.message = new
    if kind != K_CLONE or not _same_thread_group(parent.pid, new):
        # fork, vfork, or clone() without CLONE_THREAD: a new process.
        np = _Process(new, pp.options)
        np.spawned = False
        np.kill_on_exit = pp.kill_on_exit
        # The child's memory is a copy: it carries every int3 of the parent.  Record
        # them (and their conditions) so that detaching the child removes them (§7).
        _bp_copy(&np.bps, &pp.bps)
        s.procs[new] = np
        if kind == K_VFORK:
            pp.vfork_parent = True
            pp.vfork_tid = parent.tid
    th = _Thread(new, np, ST_RUNNING)
    _add_thread(s, th)
    s.gone.pop(new, None)
    _collect_initial_stop(s, th)
    if th.state == ST_STOPPED and _find_thread(s, new) is th:
        # Before anybody can resume it: debug registers are not inherited (§7).
        try:
            _init_new_task_dr(th, parent)
        except ProcessLookupError:
            pass    # killed already: its exit report follows
    if np is not pp and new in s.procs:
        try:
            _open_mem(np)
        except _PtraceError:
            pass
    return ev


cdef bint _same_thread_group(pid_t pid, pid_t tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/status", "rb"):
            return True
    except OSError:
        return False


cdef int _collect_initial_stop(_State s, _Thread th) except -1:
    """Make sure a new auto-attached task is STOPPED in its initial stop (§7)."""
    cdef int status = 0
    cdef pid_t r
    cdef object st = s.unknown.pop(th.tid, None)
    if st is None:
        while True:
            with nogil:
                r = waitpid(th.tid, &status, __WALL)
            if r == th.tid:
                break
            if r < 0 and errno == EINTR:
                continue
            # It vanished without a report (killed and reaped elsewhere): forget it.
            _drop_thread(s, th)
            return 0
    else:
        status = st
    if WIFSTOPPED(status):
        th.state = ST_STOPPED
        sig = WSTOPSIG(status)
        if ((status >> 16) & 0xFF) != PTRACE_EVENT_STOP or sig != SIGTRAP:
            # Not the plain initial stop (e.g. a signal raced in): report it later.
            ev = _decode(s, th.tid, status)
            if ev is not None:
                s.stash.append(ev)
    else:
        ev = _decode_exit(s, th, status)
        s.stash.append(ev)
    return 0


cdef object _decode_exec(_State s, _Thread th, int status, pid_t former):
    cdef _Process p = th.proc
    cdef Event ev = _new_event(K_EXEC, th.tid, th.pid, status)
    ev.message = former
    # Every other thread is gone (their exits may still be reported); the exec'ing thread
    # now carries the pid (§6.2).  The old image's breakpoints, conditions, debug
    # registers (the kernel clears them, §7) and decode cache went with its address space.
    for tid in list(p.tids):
        if tid != th.tid:
            _forget_thread(s, tid)
            p.tids.discard(tid)
            if tid != former:
                s.reapable.add(tid)
    _bp_clear(&p.bps)
    memset(p.hw_bits, 0, sizeof(p.hw_bits))
    p.removed.clear()
    p.blocks.clear()
    p.vfork_parent = False
    # The leader's record may be that of the old leader, which exited in the exec.
    th.bp_hit = 0
    th.exiting = False
    th.interrupt_pending = th.interrupt_late = th.interrupt_report = False
    th.uses_dr = False
    th.dr6_dirty = False
    memset(th.dr, 0, sizeof(th.dr))
    th.dr7 = 0
    _open_mem(p)
    return ev


# -- waiting for one thread ------------------------------------------------------------------

cdef int _status_from_siginfo(siginfo_t *si) noexcept nogil:
    """The waitpid-style status of an exit that waitid reported."""
    cdef int code = si.si_status
    if si.si_code == CLD_EXITED:
        return (code & 0xFF) << 8
    if si.si_code == CLD_DUMPED:
        return (code & 0x7F) | 0x80
    return code & 0x7F


cdef pid_t _waitpid_keeping_exit(pid_t tid, int *status, int options) noexcept nogil:
    """waitpid for the leader of an adopted process: stops are reaped, the exit only read."""
    cdef siginfo_t si
    si.si_pid = 0
    if waitid(P_PID, tid, &si, WEXITED | WNOWAIT | __WALL | options) < 0:
        return -1
    if si.si_pid == 0:
        return 0
    if si.si_code == CLD_TRAPPED:
        return waitpid(tid, status, __WALL | WNOHANG)
    status[0] = _status_from_siginfo(&si)
    return tid


cdef inline pid_t _waitpid_thread(pid_t tid, bint keep_exit, int *status,
                                  int options) noexcept nogil:
    """waitpid(tid) for one tracee; `keep_exit` (see _keeps_exit) leaves its exit unreaped."""
    if keep_exit:
        return _waitpid_keeping_exit(tid, status, options)
    return waitpid(tid, status, __WALL | options)


cdef inline bint _keeps_exit(_State s, _Thread th):
    return th.tid == th.pid and th.proc.adopted


cdef object _wait_tid(_State s, _Thread th):
    """Block until `th` reports something that is not consumed; return it.

    Returns None when the thread came to rest without an event to report (an interrupt
    stop absorbed during stop-all).  Statuses of other threads are only taken when they
    are exits or exit stops of th's siblings (see _reap).  Ctrl-C raises
    KeyboardInterrupt with the table consistent.
    """
    cdef int status = 0
    cdef pid_t tid = th.tid
    cdef object ev
    while True:
        if not _reap(s, th, &status):
            return _vanished(s, th)
        ev = _decode(s, tid, status)
        if ev is not None:
            return ev
        if th.state == ST_STOPPED or _find_thread(s, tid) is None:
            return None


cdef int _reap(_State s, _Thread th, int *status) except -1:
    """Block until th has a wait status and reap it: 1; 0 when its tid vanished (ECHILD:
    a non-leader that called execve, §6.2).

    A thread without siblings: one blocking waitpid(tid), as fast as a raw C loop.  With
    siblings, waiting for th alone can deadlock: a thread in execve sits in de_thread
    until every other thread of its group has left its PTRACE_EVENT_EXIT stop (ptrace(2),
    "execve(2) under ptrace"; hazards §6.2, §16 #21), and those wait for the tracer.  So
    the wait watches the whole group (_reap_in_group).
    """
    cdef pid_t r, tid = th.tid
    cdef bint keep
    if len(th.proc.tids) > 1:
        return _reap_in_group(s, th, status)
    keep = _keeps_exit(s, th)
    while True:
        with nogil:
            r = _waitpid_thread(tid, keep, status, 0)
        if r == tid:
            return 1
        if r < 0:
            if errno == EINTR:
                PyErr_CheckSignals()
                continue
            if errno == ECHILD:
                return 0
            raise_errno(errno, "waitpid", th.pid, tid)


# Polling intervals of _reap_in_group while it cannot block in waitid (ns): short first, as
# the awaited stop is usually a step or an interrupt away.
cdef long _NAP_FIRST = 20000
cdef long _NAP_LONGEST = 2000000


cdef int _reap_in_group(_State s, _Thread th, int *status) except -1:
    """_reap for a thread with siblings.

    Blocks in waitid(P_ALL, WNOWAIT), which wakes for any tracee.  A sibling's exit or
    exit stop is taken on the way (its event goes to the stash); any other status is left
    for the next Tracer.wait (a declined trap must be handled there), and since waitid
    would then report it again and again, the wait polls instead: th, and the siblings'
    exits and exit stops.  It polls as well while a sibling sits in an exit stop, because
    an execve can start waiting for it at any time (no new status would wake waitid): an
    exit stop is released as soon as some thread of the group is inside execve.
    """
    cdef siginfo_t si
    cdef pid_t r, x, tid = th.tid
    cdef int rc
    cdef bint keep = _keeps_exit(s, th)
    cdef bint polling = s.foreign != 0
    cdef long nap = _NAP_FIRST
    cdef timespec ts
    cdef _Process p = th.proc
    while True:
        if not polling and not _holds_exit_stops(s, p, th):
            with nogil:
                si.si_pid = 0
                rc = waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL | __WNOTHREAD)
            if rc < 0:
                if errno == EINTR:
                    PyErr_CheckSignals()
                    continue
                if errno == ECHILD:
                    return 0
                raise_errno(errno, "waitid", th.pid, tid)
            x = si.si_pid
            if x != tid:
                if x == 0 or not _take_sibling(s, p, x, &si):
                    polling = True
                continue
        else:
            _sweep_siblings(s, p, th)
            if _holds_exit_stops(s, p, th) and _exec_in_progress(p.pid):
                _release_exit_stops(s, p, th)
        r = _waitpid_thread(tid, keep, status, WNOHANG)
        if r == tid:
            return 1
        if r < 0:
            if errno == EINTR:
                PyErr_CheckSignals()
                continue
            if errno == ECHILD:
                return 0
            raise_errno(errno, "waitpid", th.pid, tid)
        if not polling and not _holds_exit_stops(s, p, th):
            continue
        ts.tv_sec = 0
        ts.tv_nsec = nap
        with nogil:
            nanosleep(&ts, NULL)
        PyErr_CheckSignals()
        if nap < _NAP_LONGEST:
            nap *= 2


cdef bint _holds_exit_stops(_State s, _Process p, _Thread th):
    """Does a sibling of th sit in a PTRACE_EVENT_EXIT stop?"""
    cdef _Thread o
    for tid in p.tids:
        o = _find_thread(s, tid)
        if o is not None and o is not th and o.exiting and o.state == ST_STOPPED:
            return True
    return False


def exec_in_progress(pid_t pid):
    """Is a thread of the process inside execve or execveat (see _exec_in_progress)?  The
    engine asks it to tell an exec's casualties from a process exit."""
    return _exec_in_progress(pid)


cdef bint _exec_in_progress(pid_t pid):
    """Is a thread of the process inside execve or execveat?  /proc/PID/task/TID/syscall
    names the system call a blocked thread is in ("running" while it runs: no answer
    yet, the caller asks again).  Only asked while an exit stop is held."""
    try:
        tids = _os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall", "rb") as f:
                nr = f.read(8).split(b" ", 1)[0]
        except OSError:
            continue
        if nr == b"59" or nr == b"322":    # execve, execveat (x86_64)
            return True
    return False


cdef int _release_exit_stops(_State s, _Process p, _Thread th) except -1:
    """Let th's siblings leave their exit stops, so that an execve can go on (§6.2).
    Their EXIT events are in the stash already; they were dying anyway."""
    cdef _Thread o
    for tid in list(p.tids):
        o = _find_thread(s, tid)
        if o is not None and o is not th and o.exiting and o.state == ST_STOPPED:
            _resume(s, o, PTRACE_CONT, 0, True)
    return 0


cdef bint _take_sibling(_State s, _Process p, pid_t x, const siginfo_t *si) except -1:
    """waitid reported x while _reap_in_group waits for another thread of p.  Take the
    status if it is one that may hold that thread up: True; False to leave it."""
    cdef _Thread o = _find_thread(s, x)
    cdef int status = 0
    cdef object ev
    if o is None:
        if si.si_code == CLD_TRAPPED or x in s.reapable:
            # A new task's first stop before its creator's event (kept for that event,
            # §7), or the exit of a tid already dropped: what _drain does with them.
            if waitpid(x, &status, __WALL | WNOHANG) == x:
                _decode(s, x, status)
            return True
        return False    # a child that is no tracee exited: its status is its owner's
    if o.proc is not p:
        return False
    if si.si_code == CLD_TRAPPED and (si.si_status >> 8) != PTRACE_EVENT_EXIT and not (
            s.in_stop_all and o.state == ST_RUNNING
            and not (p.vfork_parent and o.tid == p.vfork_tid)):
        # Another kind of stop.  During stop-all a running sibling is being stopped too:
        # decoding its stop now is what the stop-all loop would do with it next.
        return False
    if si.si_code != CLD_TRAPPED and _keeps_exit(s, o):
        ev = _decode(s, x, _status_from_siginfo(<siginfo_t *>si))
        if ev is not None:
            s.stash.append(ev)
        return False    # left unreaped for its owner: waitid would report it again
    if waitpid(x, &status, __WALL | WNOHANG) == x:
        ev = _decode(s, x, status)
        if ev is not None:
            s.stash.append(ev)
    return True


cdef int _sweep_siblings(_State s, _Process p, _Thread th) except -1:
    """Take the exits and exit stops of th's siblings that are waiting (polling mode)."""
    cdef siginfo_t si
    cdef _Thread o
    for tid in list(p.tids):
        o = _find_thread(s, tid)
        if o is None or o is th or (o.exiting and o.state == ST_STOPPED):
            continue    # (a thread the table calls stopped may have been killed since)
        si.si_pid = 0
        if waitid(P_PID, tid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 or si.si_pid == 0:
            continue
        if _take_sibling(s, p, tid, &si) and _find_thread(s, th.tid) is not th:
            break
    return 0


cdef object _vanished(_State s, _Thread th):
    """waitpid(tid) says ECHILD: a non-leader that called execve lost its tid (§6.2).
    The exec is reported on the leader; collect it there."""
    cdef _Thread leader
    _drop_thread(s, th)
    leader = _find_thread(s, th.pid)
    if leader is None:
        if s.procs.get(th.pid) is not th.proc:
            return None
        leader = _Thread(th.pid, th.proc, ST_RUNNING)
        _add_thread(s, leader)
    elif leader.state == ST_STOPPED:
        return None
    leader.state = ST_RUNNING
    return _wait_tid(s, leader)


cdef object _exec_last(_State s, object ev):
    """The event a step-like call returns, in order: when the thread's wait ended in an
    EXEC, the exits and exit stops of its siblings that the exec waited for were stashed
    on the way and happened first; they are reported first, the EXEC after them."""
    if ev is None or not s.stash or (<Event>ev)._kind != K_EXEC:
        return ev
    s.stash.append(ev)
    return s.stash.pop(0)


# -- stop-all ----------------------------------------------------------------------------------

cdef int _stop_all(_State s, object pid) except -1:
    """Interrupt every running or listening thread and wait until each is stopped (§6.1)."""
    cdef _Thread th
    cdef list targets = []
    cdef object ev
    for th in list(s.threads.values()):
        if pid is not None and th.pid != pid:
            continue
        if th.state != ST_RUNNING and th.state != ST_LISTENING:
            continue
        if th.proc.vfork_parent:
            continue
        if not th.interrupt_pending or th.interrupt_late:
            # A "late" interrupt may never come (see _real_stop_seen): ask again.  The
            # kernel keeps one pending interrupt per thread, so this yields one stop.
            if ptrace(PTRACE_INTERRUPT, th.tid, NULL, NULL) < 0:
                if errno != ESRCH:
                    raise_errno(errno, "interrupt", th.pid, th.tid)
                # Dying: its exit report will end the wait below.
            th.interrupt_pending = True
            th.interrupt_late = False
        targets.append(th)
    for th in list(s.threads.values()):
        # Resumed after PTRACE_EVENT_EXIT: their exit report is imminent (not so for a
        # leader that called pthread_exit, which waits for the whole group, §6.2).
        if th.state == ST_ZOMBIE and th.tid != th.pid and (pid is None or th.pid == pid):
            targets.append(th)
    s.in_stop_all += 1
    try:
        for th in targets:
            while th.state != ST_STOPPED and _find_thread(s, th.tid) is th:
                if th.proc.vfork_parent:
                    break
                ev = _wait_tid(s, th)
                if ev is not None:
                    s.stash.append(ev)
    finally:
        s.in_stop_all -= 1
    return 0


# -- the event wait ----------------------------------------------------------------------------

cdef int _drain(_State s, list events, const siginfo_t *seen=NULL) except -1:
    """Collect every status already waiting, without blocking, into events.

    `seen`: what the blocking waitid just reported, used instead of asking again.
    Traps that native conditions decline are handled on the way (s.in_wait); events
    such handling stashes (stop-all of the other threads) join the list in order.
    """
    cdef _Thread th
    cdef siginfo_t si
    cdef int status = 0
    cdef pid_t tid, r
    cdef object ev
    s.in_wait = True
    try:
        if s.foreign:
            _drain_polling(s, events)
            return 0
        if seen != NULL:
            si = seen[0]
        else:
            si.si_pid = 0
        while True:
            if si.si_pid == 0 and waitid(P_ALL, 0, &si,
                                         WEXITED | WNOHANG | WNOWAIT | __WALL | __WNOTHREAD) < 0:
                if errno == EINTR:
                    continue
                break
            tid = si.si_pid
            si.si_pid = 0
            if tid == 0:
                break
            th = _find_thread(s, tid)
            if si.si_code != CLD_TRAPPED and th is not None and _keeps_exit(s, th):
                _collect(s, events, _decode(s, tid, _status_from_siginfo(&si)))
                continue
            if si.si_code != CLD_TRAPPED and th is None and tid not in s.reapable:
                # An exit of a child that is no tracee: leave it for its owner, and poll
                # the tracees one by one while it hides them from waitid(P_ALL).
                s.foreign = tid
                _drain_polling(s, events)
                break
            r = waitpid(tid, &status, __WALL | WNOHANG)
            if r != tid:
                continue
            ev = _decode(s, tid, status)
            if ev is None and not events and not s.stash and th is not None \
                    and th.state == ST_RUNNING:
                # A trap the core declined and resumed: if more is waiting, the blocking
                # waitid returns at once; asking here as well would cost a syscall a hit.
                break
            _collect(s, events, ev)
            if not s.unknown and not s.reapable and len(s.threads) <= 8 \
                    and not _anything_running(s):
                break    # every thread is stopped: nothing else can be waiting
    finally:
        s.in_wait = False
    return 0


cdef _Thread _solo(_State s):
    """The thread to wait for alone, when that misses nothing: the only traced thread
    there is, and running.  (Another thread sitting in a ptrace-stop can still report:
    killed from outside, or by its own process's exit_group or execve, which then waits
    for it to be continued from its PTRACE_EVENT_EXIT stop, hazards §3.)"""
    cdef _Thread th
    cdef _Thread solo = None
    if s.foreign or s.unknown or s.reapable or len(s.threads) != 1:
        return None
    for th in s.threads.values():
        solo = th
    if solo.state != ST_RUNNING or _keeps_exit(s, solo):
        return None
    return solo


cdef bint _take(_State s, list events, _Thread th, int status) except -1:
    """Decode a status the blocking wait reaped for th.  True when it was a trap the core
    declined (th runs again, nothing to report); otherwise sweep up whatever else is
    waiting, and return False."""
    cdef object ev
    s.in_wait = True
    try:
        ev = _decode(s, th.tid, status)
    finally:
        s.in_wait = False
    if ev is None and not s.stash and th.state == ST_RUNNING:
        return True
    _collect(s, events, ev)
    if th.state == ST_STOPPED and len(s.threads) == 1 and not s.unknown \
            and not s.reapable and not s.foreign:
        # The only thread sits in the stop just decoded: nothing of ours can be waiting
        # (_drain's own end test), so asking costs a waitid per event for nothing.  A
        # status due meanwhile (a SIGKILL from outside) is reported by the next wait.
        return False
    _drain(s, events)
    return False


cdef inline void _collect(_State s, list events, object ev):
    if s.stash:
        events.extend(s.stash)
        del s.stash[:]
    if ev is not None:
        events.append(ev)


cdef int _drain_polling(_State s, list events) except -1:
    cdef siginfo_t si
    cdef int status = 0
    cdef pid_t r
    cdef _Thread th
    for th in list(s.threads.values()):
        if th.state == ST_STOPPED or _find_thread(s, th.tid) is not th:
            continue
        r = _waitpid_thread(th.tid, _keeps_exit(s, th), &status, WNOHANG)
        if r == th.tid:
            _collect(s, events, _decode(s, th.tid, status))
    for tid in list(s.reapable):
        if waitpid(tid, &status, __WALL | WNOHANG) != 0:
            s.reapable.discard(tid)
    si.si_pid = 0
    if waitid(P_PID, s.foreign, &si, WEXITED | WNOHANG | WNOWAIT) < 0 or si.si_pid == 0:
        s.foreign = 0   # its owner reaped it
    return 0


cdef bint _anything_running(_State s):
    cdef _Thread th
    for th in s.threads.values():
        if th.state != ST_STOPPED:
            return True
    return False


cdef void _ensure_wake_handler(_State s):
    if not pydbg_wake_handler_installed(s.wake_sig):
        # Somebody replaced it (signal.signal on our signal number): take it back, or
        # timeouts and wake-ups would be lost.
        pydbg_install_wake_handler(s.wake_sig)


cdef int _arm_timer(_State s, double seconds) except -1:
    cdef itimerspec its
    cdef sigevent sev
    if not s.timer_ok:
        memset(&sev, 0, sizeof(sev))
        pydbg_sigevent_thread(&sev, s.wake_sig, s.owner_tid)
        if timer_create(CLOCK_MONOTONIC, &sev, &s.timer) < 0:
            raise_errno(errno, "timer_create")
        s.timer_ok = True
    memset(&its, 0, sizeof(its))
    if seconds < 1e-6:
        seconds = 1e-6
    its.it_value.tv_sec = <long>seconds
    its.it_value.tv_nsec = <long>((seconds - <long>seconds) * 1e9)
    timer_settime(s.timer, 0, &its, NULL)
    return 0


cdef void _disarm_timer(_State s):
    cdef itimerspec its
    if s.timer_ok:
        memset(&its, 0, sizeof(its))
        timer_settime(s.timer, 0, &its, NULL)


cdef double _now():
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef list _wait(_State s, object timeout):
    cdef list events = s.stash
    cdef double deadline = 0.0
    cdef int r, status = 0
    cdef long poll_ns
    cdef siginfo_t si
    cdef _Thread solo
    cdef pid_t tid
    s.stash = []
    if events:
        _drain(s, events)
        return events
    if pydbg_get_flag(&s.wake_flag):
        pydbg_set_flag(&s.wake_flag, 0)
        return events
    if not _anything_running(s):
        # Nothing can stop, but a status may still be due (a thread reaped late).
        _drain(s, events)
        return events
    if timeout is not None:
        if timeout <= 0:
            _drain(s, events)
            return events
        deadline = _now() + timeout
        _ensure_wake_handler(s)    # the timer's signal needs it; wake() checks for itself
    # A wake-up signal from an earlier call is no reason to return now (wake() also sets
    # the flag, which is what counts).
    pydbg_wake_reset()
    if timeout is not None:
        # Armed once for the whole call: a loop that swallows many declined traps does
        # not pay two timer_settime calls per trap.
        _arm_timer(s, timeout)
    try:
        while True:
            # The blocking waitid returns at once when a status is already waiting, so
            # no drain comes first.  While a foreign zombie hides the tracees from
            # waitid(P_ALL), poll every 2 ms instead.
            poll_ns = 2000000 if s.foreign else 0
            solo = _solo(s)
            if solo is not None:
                # The only thread: wait4 on it reaps the status in the same call.  While
                # it only meets traps that are declined (it runs again, and nothing else
                # changed), go straight back to waiting for it.
                tid = solo.tid
                while True:
                    with nogil:
                        r = pydbg_block_tid(&s.wake_flag, s.wake_sig, tid, &status)
                    if r != 2 or not _take(s, events, solo, status):
                        break
                if r == -EINTR:
                    PyErr_CheckSignals()
                elif r < 0 and r != -ECHILD:
                    raise_errno(-r, "wait4", solo.pid, tid)
            else:
                with nogil:
                    r = pydbg_block(&s.wake_flag, poll_ns, s.wake_sig, &si)
                if r == -EINTR:
                    PyErr_CheckSignals()
                elif r < 0 and r != -ECHILD:
                    raise_errno(-r, "waitid")
                _drain(s, events, &si if r == 1 else NULL)
            if events:
                return events
            if pydbg_get_flag(&s.wake_flag):
                pydbg_set_flag(&s.wake_flag, 0)
                return events
            if r == -ECHILD or not _anything_running(s):
                return events
            if timeout is not None and _now() >= deadline:
                return events
    finally:
        if timeout is not None:
            _disarm_timer(s)
