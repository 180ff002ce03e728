# tracer.pyx - the public Tracer class: ownership checks and thin wrappers.
#
# Everything here checks that the caller is the owning thread (hazards §1: ptrace belongs
# to the thread that attached; from another thread the kernel says ESRCH, which reads as
# "process gone") and that the tracer is open, then calls the concept files above.

# The si_code values of SIGTRAP classification (hazards §4.1), for the Python side.  They
# share their names with the C constants, hence globals().
globals().update(SI_KERNEL=<int>SI_KERNEL, TRAP_BRKPT=<int>TRAP_BRKPT,
                 TRAP_TRACE=<int>TRAP_TRACE, TRAP_HWBKPT=<int>TRAP_HWBKPT)


def gettid():
    """The kernel thread id of the calling thread."""
    return pydbg_gettid()


# wait() is woken (by wake() from another thread, and by its timeout timer) with this
# real-time signal sent to the owner thread; its handler acts only while the owner is
# blocked in wait (compat.h).  Python and glibc use no real-time signal above
# SIGRTMIN+1; the README names the one taken.
cdef int _WAKE_SIGNAL_OFFSET = 7


cdef class Tracer:
    """The ptrace owner: every traced process and thread of this Python process.

    Create it on the thread that will own the trace and use it only there; `wake` is the
    one method any thread may call.  `close()` (or leaving a `with` block) kills the
    processes spawned with kill_on_exit and detaches the rest.
    """

    cdef _State s
    cdef pid_t _pid
    cdef bint _colocate
    cdef object _saved_affinity

    def __cinit__(self, *, bint colocate=True):
        self._colocate = colocate
        self.s = _State()
        self.s.owner_tid = pydbg_gettid()
        self.s.wake_sig = SIGRTMIN + _WAKE_SIGNAL_OFFSET
        self._pid = getpid()
        if not pydbg_wake_handler_installed(self.s.wake_sig):
            if pydbg_install_wake_handler(self.s.wake_sig) < 0:
                raise_errno(errno, "sigaction")

    def __dealloc__(self):
        # Forgotten without close().  On the owner thread, close properly; elsewhere (a
        # garbage collection on another thread) ptrace is out of reach, so at least do
        # not leave spawned programs stopped forever: SIGKILL needs no tracer.
        cdef _Process p
        if self.s is None or self.s.closed or getpid() != self._pid:
            return
        if pydbg_gettid() == self.s.owner_tid:
            try:
                self.close()
            except BaseException:
                pass
            return
        for p in self.s.procs.values():
            if p.kill_on_exit:
                kill(p.pid, SIGKILL)

    cdef inline int _enter(self, str request) except -1:
        cdef pid_t me
        if self.s.closed:
            raise _TracerClosedError(f"{request}: the tracer is closed")
        me = pydbg_gettid()
        if me != self.s.owner_tid:
            raise _WrongThreadError(self.s.owner_tid, me, request)
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Kill what was spawned with kill_on_exit, detach everything else."""
        cdef _Process p
        if self.s.closed:
            return
        self._enter("close")
        for pid in list(self.s.procs):
            p = self.s.procs.get(pid)
            if p is None:
                continue
            try:
                if p.kill_on_exit:
                    _kill(self.s, p)
                else:
                    _detach(self.s, p, False)
            except _errors.PydbgError:
                if pid in self.s.procs:
                    _drop_process(self.s, p)
        self.s.stash = []
        if self._saved_affinity is not None:
            _os.sched_setaffinity(0, self._saved_affinity)
            self._saved_affinity = None
        if self.s.timer_ok:
            timer_delete(self.s.timer)
            self.s.timer_ok = False
        self.s.closed = True

    cdef _colocate_with_children(self):
        """Pin this thread to the CPU it runs on; spawned children inherit the mask.

        A ptrace round trip is 3-6x cheaper when tracer and tracee share a CPU, because
        every stop then hands the CPU over directly instead of waking another one.
        Restored by close(); opt out with Tracer(colocate=False).
        """
        allowed = _os.sched_getaffinity(0)
        if len(allowed) < 2:
            return
        cpu = sched_getcpu()
        if cpu not in allowed:
            return
        _os.sched_setaffinity(0, {cpu})
        self._saved_affinity = allowed

    @property
    def owner_tid(self):
        return self.s.owner_tid

    @property
    def closed(self):
        return self.s.closed

    # -- acquiring and releasing processes -------------------------------------------------

    def spawn(self, argv, *, env=None, cwd=None, bint disable_aslr=False, stdin=None,
              stdout=None, stderr=None, pass_fds=(), bint trace_fork=False,
              bint new_process_group=False, bint kill_on_exit=True):
        self._enter("spawn")
        if isinstance(argv, (str, bytes)):
            raise TypeError("argv must be a sequence of arguments, not a string")
        if self._colocate and self._saved_affinity is None:
            self._colocate_with_children()
        return _spawn(self.s, list(argv), env, cwd, disable_aslr, stdin, stdout, stderr,
                      pass_fds, trace_fork, new_process_group, kill_on_exit)

    def seize(self, pid_t pid, *, bint trace_fork=False, bint kill_on_exit=False):
        self._enter("seize")
        return _seize(self.s, pid, trace_fork, kill_on_exit)

    def detach(self, pid_t pid, *, bint leave_stopped=False):
        self._enter("detach")
        _detach(self.s, _proc(self.s, pid, "detach"), leave_stopped)

    def kill(self, pid_t pid):
        self._enter("kill")
        return _kill(self.s, _proc(self.s, pid, "kill"))

    # -- waiting ---------------------------------------------------------------------------

    def wait(self, timeout=None):
        self._enter("wait")
        if timeout is not None:
            timeout = float(timeout)
        return _wait(self.s, timeout)

    def cont_wait(self, pid_t tid, int sig=0, timeout=None, unsigned long long simple=0):
        """cont(tid, sig), then wait(timeout), in one call: the round trip of a loop that
        decides one thread's signals.  When the wait yields exactly one signal-delivery-
        stop of that thread whose signal is in `simple` (a mask, bit signo-1; SIGTRAP
        never qualifies), returns (signo, si_code, address, pc, sender_pid), its siginfo
        (as Event.si_code / address / sender_pid give it) and pc read in that stop;
        otherwise the list wait() returns."""
        self._enter("cont_wait")
        _cont(self.s, _stopped(self.s, tid, "cont_wait"), PTRACE_CONT, sig)
        if timeout is not None:
            timeout = float(timeout)
        cdef _Thread th = _find_thread(self.s, tid)
        cdef list events = _wait(self.s, timeout)
        if th is None or not simple:
            return events
        return _signal_facts(events, th, simple)

    def wake(self):
        """Make a blocked (or the next) wait return [].  Callable from any thread."""
        pydbg_set_flag(&self.s.wake_flag, 1)
        if not self.s.closed and pydbg_gettid() != self.s.owner_tid:
            _ensure_wake_handler(self.s)
            pydbg_tgkill(self._pid, self.s.owner_tid, self.s.wake_sig)

    def has_pending(self):
        return bool(self.s.stash)

    # -- execution control -----------------------------------------------------------------

    def interrupt(self, pid_t tid):
        self._enter("interrupt")
        cdef _Thread th = _lookup(self.s, tid, "interrupt")
        if th.state == ST_STOPPED:
            return
        if not th.interrupt_pending or th.interrupt_late:
            if ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0:
                raise_errno(errno, "interrupt", th.pid, tid)
            th.interrupt_pending = True
            th.interrupt_late = False
        th.interrupt_report = True

    def stop_all(self, pid=None):
        self._enter("stop_all")
        if pid is not None:
            _proc(self.s, pid, "stop_all")
        _stop_all(self.s, pid)

    def cont(self, pid_t tid, int sig=0):
        self._enter("cont")
        _cont(self.s, _stopped(self.s, tid, "cont"), PTRACE_CONT, sig)

    def cont_all(self, pid=None, signals=None, syscall=None):
        self._enter("cont_all")
        if pid is not None:
            _proc(self.s, pid, "cont_all")
        _cont_all(self.s, pid, signals, syscall)

    def singlestep(self, pid_t tid, int sig=0):
        self._enter("singlestep")
        cdef _Thread th = _stopped(self.s, tid, "singlestep")
        if th.bp_hit:
            # Stepping from a breakpoint must run the original instruction; that needs
            # the byte restored around the step, so it is done synchronously.
            self.s.stash.append(_step_over(self.s, th, sig, True))
            return
        _resume(self.s, th, PTRACE_SINGLESTEP, sig)

    def syscall(self, pid_t tid, int sig=0):
        self._enter("syscall")
        _cont(self.s, _stopped(self.s, tid, "syscall"), PTRACE_SYSCALL, sig)

    def listen(self, pid_t tid):
        self._enter("listen")
        _resume(self.s, _stopped(self.s, tid, "listen"), PTRACE_LISTEN, 0)

    def step(self, pid_t tid, int sig=0):
        self._enter("step")
        return _exec_last(self.s, _step(self.s, _stopped(self.s, tid, "step"), sig))

    def trace(self, pid_t tid, max_steps, *, until=None, bint record=True,
              stop_at_breakpoints=False, register=None, until_return=False):
        self._enter("trace")
        if max_steps < 0:
            raise ValueError("max_steps must be >= 0")
        cdef int reg = -1 if register is None else _reg_index(register)
        if stop_at_breakpoints is not True and stop_at_breakpoints is not False:
            if isinstance(stop_at_breakpoints, (str, bytes)):
                raise TypeError("stop_at_breakpoints must be a bool or a collection of "
                                "addresses")
            stop_at_breakpoints = [int(a) for a in stop_at_breakpoints]
        if until_return is True or until_return is False:
            returning = True if until_return else None
        else:
            address, slot = until_return
            returning = (address & _MASK64, slot & _MASK64)
        return _trace(self.s, _stopped(self.s, tid, "trace"), max_steps, until is not None,
                      0 if until is None else until, record, stop_at_breakpoints, reg,
                      returning)

    def run_until(self, pid_t tid, unsigned long long address,
                  unsigned long long max_steps=0x7FFFFFFFFFFFFFFF):
        self._enter("run_until")
        return _trace(self.s, _stopped(self.s, tid, "run_until"), max_steps, True, address,
                      False, False)

    def branch_step(self, pid_t tid):
        self._enter("branch_step")
        return _exec_last(self.s, _branch_step(self.s, _stopped(self.s, tid, "branch_step")))

    def singleblock_works(self):
        self._enter("singleblock_works")
        if self.s.singleblock < 0:
            self.s.singleblock = _probe_singleblock()
        return self.s.singleblock == 1

    # -- thread table ----------------------------------------------------------------------

    def processes(self):
        self._enter("processes")
        return sorted(self.s.procs)

    def threads(self, pid_t pid):
        self._enter("threads")
        return sorted(_proc(self.s, pid, "threads").tids)

    def thread_state(self, pid_t tid):
        self._enter("thread_state")
        cdef _Thread th = _lookup(self.s, tid, "thread_state")
        return _STATES[ST_RUNNING if th.state == ST_ZOMBIE else th.state]

    def last_request(self, pid_t tid):
        self._enter("last_request")
        return _lookup(self.s, tid, "last_request").last_req

    def pid_of(self, pid_t tid):
        self._enter("pid_of")
        return _lookup(self.s, tid, "pid_of").pid

    # -- registers -------------------------------------------------------------------------

    def get_regs(self, pid_t tid):
        self._enter("get_regs")
        return _get_regs(_stopped(self.s, tid, "get_regs"))

    def set_regs(self, pid_t tid, Regs regs not None):
        self._enter("set_regs")
        _set_regs(_stopped(self.s, tid, "set_regs"), regs)

    def get_reg(self, pid_t tid, str name):
        self._enter("get_reg")
        cdef int i = _reg_index(name)
        return _peek_user(_stopped(self.s, tid, "get_reg"), i * 8, "peekuser")

    def set_reg(self, pid_t tid, str name, value):
        self._enter("set_reg")
        cdef int i = _reg_index(name)
        cdef _Thread th = _stopped(self.s, tid, "set_reg")
        _poke_user(th, i * 8, value & _MASK64, "pokeuser")
        if i == _RIP_INDEX and value != th.bp_hit:
            th.bp_hit = 0

    def get_pc(self, pid_t tid):
        self._enter("get_pc")
        return _peek_user(_stopped(self.s, tid, "get_pc"), PYDBG_RIP_OFFSET, "peekuser(rip)")

    def set_pc(self, pid_t tid, unsigned long long pc):
        self._enter("set_pc")
        _set_pc(_stopped(self.s, tid, "set_pc"), pc)

    def get_fpregs(self, pid_t tid):
        self._enter("get_fpregs")
        return _get_fpregs(_stopped(self.s, tid, "get_fpregs"))

    def set_fpregs(self, pid_t tid, FPRegs fpregs not None):
        self._enter("set_fpregs")
        _set_fpregs(_stopped(self.s, tid, "set_fpregs"), fpregs)

    # -- debug registers -------------------------------------------------------------------

    def get_debugreg(self, pid_t tid, int index):
        self._enter("get_debugreg")
        _check_dr_index(index)
        return _get_dr(_stopped(self.s, tid, "get_debugreg"), index)

    def set_debugreg(self, pid_t tid, int index, unsigned long long value):
        self._enter("set_debugreg")
        _check_dr_index(index)
        _set_dr(_stopped(self.s, tid, "set_debugreg"), index, value)

    def set_hw_breakpoint(self, pid_t tid, int slot, unsigned long long address, int access,
                          int size):
        self._enter("set_hw_breakpoint")
        _set_hw(_stopped(self.s, tid, "set_hw_breakpoint"), slot, address, access, size)

    def clear_hw_breakpoint(self, pid_t tid, int slot):
        self._enter("clear_hw_breakpoint")
        _clear_hw(_stopped(self.s, tid, "clear_hw_breakpoint"), slot)

    def set_process_hw_breakpoint(self, pid_t pid, int slot, unsigned long long address,
                                  int access, int size):
        self._enter("set_process_hw_breakpoint")
        _set_process_hw(self.s, _proc(self.s, pid, "set_process_hw_breakpoint"), slot,
                        address, access, size)

    def clear_process_hw_breakpoint(self, pid_t pid, int slot):
        self._enter("clear_process_hw_breakpoint")
        _clear_process_hw(self.s, _proc(self.s, pid, "clear_process_hw_breakpoint"), slot)

    # -- memory ----------------------------------------------------------------------------

    def read_memory(self, pid_t pid, unsigned long long address, Py_ssize_t size, *,
                    bint partial=False):
        self._enter("read_memory")
        return _read(_proc(self.s, pid, "read_memory"), address, size, partial)

    def read_memory_into(self, pid_t pid, unsigned long long address, buffer):
        self._enter("read_memory_into")
        return _read_into(_proc(self.s, pid, "read_memory_into"), address, buffer)

    def write_memory(self, pid_t pid, unsigned long long address, data):
        self._enter("write_memory")
        _write(_proc(self.s, pid, "write_memory"), address, data)

    # -- software breakpoints --------------------------------------------------------------

    def insert_breakpoint(self, pid_t pid, unsigned long long address):
        self._enter("insert_breakpoint")
        _insert_bp(_proc(self.s, pid, "insert_breakpoint"), address)

    def remove_breakpoint(self, pid_t pid, unsigned long long address):
        self._enter("remove_breakpoint")
        _remove_bp(_proc(self.s, pid, "remove_breakpoint"), address, False)

    def breakpoints(self, pid_t pid):
        self._enter("breakpoints")
        return _sites_dict(_proc(self.s, pid, "breakpoints"))

    # -- native conditions -----------------------------------------------------------------

    def set_breakpoint_condition(self, pid_t pid, unsigned long long address, *, pid_t tid=0,
                                 skip=0, register=None, reg_op=None, reg_value=0,
                                 mem_address=0, mem_size=0, mem_op=None, mem_value=0):
        self._enter("set_breakpoint_condition")
        _set_condition(_proc(self.s, pid, "set_breakpoint_condition"), address, tid, skip,
                       register, reg_op, reg_value, mem_address, mem_size, mem_op, mem_value)

    def clear_breakpoint_condition(self, pid_t pid, unsigned long long address):
        self._enter("clear_breakpoint_condition")
        _clear_condition(_proc(self.s, pid, "clear_breakpoint_condition"), address)

    def set_pass_signals(self, signals):
        """Signals that wait() passes on without reporting them: a mapping signal ->
        deliver (True: the thread gets it, False: it is suppressed).  Replaces the set
        given before; an empty mapping reports every signal again."""
        self._enter("set_pass_signals")
        cdef unsigned long long mask = 0, deliver = 0, bit
        for sig, give in dict(signals).items():
            if not 1 <= sig <= 64 or sig in (SIGKILL, SIGSTOP, SIGTRAP):
                raise ValueError(f"signal {sig} cannot be passed on unreported")
            bit = 1ULL << (sig - 1)
            mask |= bit
            if give:
                deliver |= bit
        self.s.pass_mask = mask
        self.s.pass_deliver = deliver

    def set_syscall_pass(self, report=None):
        self._enter("set_syscall_pass")
        cdef int nr
        if report is None:
            self.s.sc_pass = False
            return
        numbers = [int(n) for n in report]
        memset(self.s.sc_report, 0, sizeof(self.s.sc_report))
        for nr in numbers:
            if 0 <= nr < SC_NUMBERS:
                self.s.sc_report[nr] = 1
        self.s.sc_pass = True

    def syscall_counts(self, bint reset=False):
        self._enter("syscall_counts")
        cdef int nr
        out = {nr: self.s.sc_counts[nr] for nr in range(SC_NUMBERS) if self.s.sc_counts[nr]}
        if reset:
            memset(self.s.sc_counts, 0, sizeof(self.s.sc_counts))
        return out

    def breakpoint_counts(self, pid_t pid, unsigned long long address):
        self._enter("breakpoint_counts")
        cdef _Process p = _proc(self.s, pid, "breakpoint_counts")
        cdef _Bp *b = _bp_find(&p.bps, address)
        if b == NULL or not b.has_cond:
            return (0, 0)
        return (b.hits, b.matches)
