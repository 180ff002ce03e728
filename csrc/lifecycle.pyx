# lifecycle.pyx - acquiring and releasing processes: spawn, seize, detach, kill.
#
# Spawn (hazards §1 rule 4, §2): fork in C; the child runs only async-signal-safe calls,
# blocks on a pipe until the parent has seized it, then execs.  Seizing before exec means
# the exec stop is the first thing the tracer sees, before the first instruction.
# Seize (§2): PTRACE_SEIZE every tid of /proc/PID/task, re-listing until stable,
# interrupting each as soon as it is seized.  Detach (§14.1) and kill (§14.2) follow the
# checklists of the hazards document.
#
# The program inherits fds 0, 1 and 2 (or the stdin/stdout/stderr it was given) and the
# pass_fds, nothing else: the child closes every other descriptor before execve, as
# subprocess does with close_fds=True (csrc/includes/spawn_fds.h), so an fd the debugger
# got from its shell or marked inheritable does not leak into the debuggee.

import os as _os

cdef extern from "<fcntl.h>" nogil:
    enum:
        F_GETFD
        F_DUPFD_CLOEXEC

cdef extern from "spawn_fds.h" nogil:
    void pydbg_close_fds(const int *keep, int nkeep, int method)

# How the child closes fds: 0 close_range, 1 /proc/self/fd, 2 up to RLIMIT_NOFILE.  Only
# the tests change it (_set_spawn_fd_method), to exercise the fallbacks.
cdef int _spawn_fd_method = 0


def _set_spawn_fd_method(int method):
    """Test hook: make spawned children close their fds the `method` way (see above)."""
    global _spawn_fd_method
    if not 0 <= method <= 2:
        raise ValueError("method must be 0, 1 or 2")
    _spawn_fd_method = method

cdef int _BASE_OPTIONS = (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT
                          | PTRACE_O_TRACESYSGOOD)
cdef int _FORK_OPTIONS = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE


cdef int _options(bint trace_fork, bint kill_on_exit):
    cdef int opts = _BASE_OPTIONS
    if trace_fork:
        opts |= _FORK_OPTIONS
    if kill_on_exit:
        opts |= PTRACE_O_EXITKILL
    return opts


cdef bytes _fsencode(object s):
    return _os.fsencode(s)


cdef bytes _resolve_program(object program, object env):
    """The path execve should be given, checked the way a shell would."""
    cdef bytes prog = _fsencode(program)
    if not prog:
        raise _errors.ProgramNotFoundError(2, "empty program name")
    if b"/" in prog:
        candidates = [prog]
    else:
        path = None
        if env is not None:
            path = env.get("PATH")
        if path is None:
            path = _os.environ.get("PATH", _os.defpath)
        candidates = [_os.path.join(_fsencode(d) or b".", prog)
                      for d in _fsencode(path).split(b":")]
    denied = None
    for c in candidates:
        if _os.path.isfile(c):
            if _os.access(c, _os.X_OK):
                return c
            denied = c
        elif b"/" in prog and _os.path.exists(c):
            denied = c    # a directory or a device named explicitly
    if denied is not None:
        raise _errors.ProgramNotExecutableError(13, "program is not executable",
                                                _os.fsdecode(denied))
    raise _errors.ProgramNotFoundError(2, "program not found", _os.fsdecode(prog))


cdef char **_cstring_array(list items) except NULL:
    cdef char **arr = <char **>malloc((len(items) + 1) * sizeof(char *))
    cdef Py_ssize_t i
    if arr == NULL:
        raise MemoryError()
    for i in range(len(items)):
        arr[i] = PyBytes_AS_STRING(items[i])
    arr[len(items)] = NULL
    return arr


cdef void _child(const char *path, char **argv, char **envp, const char *cwd,
                 int fd_in, int fd_out, int fd_err, const int *keep, int nkeep,
                 const int *inherit, int ninherit, int fd_method, bint aslr_off,
                 bint new_group, int go_fd, int go_wfd, int err_fd, pid_t parent) noexcept nogil:
    """Runs in the forked child: async-signal-safe calls only, never returns."""
    cdef char c
    cdef int stage_errno[2]
    cdef sigset_t empty
    cdef int i
    # Die with the tracer thread if it goes away before the seize (PDEATHSIG is tied to
    # the forking thread, which is the tracer).
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if getppid() != parent:
        _exit(127)
    if new_group:
        setpgid(0, 0)
    # A source that is itself one of 0-2 (stdout=2, stderr=1) would be overwritten by an
    # earlier dup2: move such sources above 2 first (closed again below).
    if 0 <= fd_in < 3 and fd_in != 0:
        fd_in = fcntl(fd_in, F_DUPFD_CLOEXEC, 3)
    if 0 <= fd_out < 3 and fd_out != 1:
        fd_out = fcntl(fd_out, F_DUPFD_CLOEXEC, 3)
    if 0 <= fd_err < 3 and fd_err != 2:
        fd_err = fcntl(fd_err, F_DUPFD_CLOEXEC, 3)
    if fd_in >= 0:
        _dup_onto(fd_in, 0)
    if fd_out >= 0:
        _dup_onto(fd_out, 1)
    if fd_err >= 0:
        _dup_onto(fd_err, 2)
    elif fd_err == _STDOUT:
        dup2(1, 2)
    # Everything else goes: keep holds pass_fds and the two spawn pipes (close-on-exec).
    pydbg_close_fds(keep, nkeep, fd_method)
    for i in range(ninherit):
        fcntl(inherit[i], F_SETFD, 0)   # pass_fds stay open across exec
    if cwd != NULL and chdir(cwd) < 0:
        stage_errno[0] = 1
        stage_errno[1] = errno
        write(err_fd, stage_errno, sizeof(stage_errno))
        _exit(127)
    if aslr_off:
        # May be refused by a container's seccomp profile: run with ASLR then.
        personality(0xffffffff)
        personality(<unsigned long>personality(0xffffffff) | ADDR_NO_RANDOMIZE)
    # Python ignores SIGPIPE and SIGXFSZ; the program gets the defaults (as subprocess
    # does with restore_signals).  Handlers reset on exec; the mask does not.
    signal(SIGPIPE, SIG_DFL)
    signal(SIGXFSZ, SIG_DFL)
    sigemptyset(&empty)
    sigprocmask(SIG_SETMASK, &empty, NULL)
    # Wait until the tracer has seized us: EOF when it closes its end (ours goes first).
    close(go_wfd)
    while read(go_fd, &c, 1) < 0 and errno == EINTR:
        pass
    execve(path, argv, envp)
    stage_errno[0] = 2
    stage_errno[1] = errno
    write(err_fd, stage_errno, sizeof(stage_errno))
    _exit(127)


cdef void _dup_onto(int fd, int target) noexcept nogil:
    if fd == target:
        fcntl(fd, F_SETFD, 0)   # keep it open across exec
    else:
        dup2(fd, target)


# subprocess's special values, understood as subprocess does.
cdef int _DEVNULL = -3   # subprocess.DEVNULL: /dev/null
cdef int _STDOUT = -2    # subprocess.STDOUT, for stderr: wherever stdout goes


cdef int _fd_arg(object value, str name) except -4:
    """The fd a stdin/stdout/stderr argument names (-1 for None), checked to be open, or
    one of _DEVNULL, _STDOUT (stderr only)."""
    if value is None:
        return -1
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an fd or an object with fileno(), not {value!r} "
                        "(for a pty, open one with os.openpty() and pass its slave fd as "
                        "stdin, stdout and stderr)")
    if isinstance(value, bool) or not (isinstance(value, int) or hasattr(value, "fileno")):
        raise TypeError(f"{name} must be an fd or an object with fileno(), not "
                        f"{type(value).__name__}")
    if isinstance(value, int):
        if value == _DEVNULL or (value == _STDOUT and name == "stderr"):
            return value   # opened / dup'ed by _spawn and _child
        if value == -1:
            raise _errors.BadFileDescriptorError(
                f"{name}: -1 (subprocess.PIPE) is not supported: pass one end of an "
                "os.pipe() and keep the other")
        fd = value
    else:
        try:
            fd = value.fileno()
        except (OSError, ValueError) as exc:
            raise _errors.BadFileDescriptorError(
                f"{name}: {value!r} has no file descriptor ({exc})") from exc
    return _open_fd(fd, name)


cdef int _open_fd(object fd, str name) except -4:
    if isinstance(fd, bool) or not isinstance(fd, int):
        raise TypeError(f"{name} must be an int fd, not {type(fd).__name__}")
    if not 0 <= fd <= 0x7FFFFFFF:
        raise _errors.BadFileDescriptorError(f"{name}: {fd} is not a file descriptor")
    if fcntl(<int>fd, F_GETFD) < 0:
        raise _errors.BadFileDescriptorError(
            f"{name}: file descriptor {fd} is not open ({_os.strerror(errno)})")
    return fd


cdef list _pass_fds_arg(object pass_fds):
    if isinstance(pass_fds, (str, bytes)) or not hasattr(pass_fds, "__iter__"):
        raise TypeError(f"pass_fds must be a sequence of fds, not {type(pass_fds).__name__}")
    return sorted({_open_fd(fd, "pass_fds") for fd in pass_fds} - {0, 1, 2})


cdef int *_int_array(list items) except NULL:
    cdef int *arr = <int *>malloc((len(items) + 1) * sizeof(int))
    cdef Py_ssize_t i
    if arr == NULL:
        raise MemoryError()
    for i in range(len(items)):
        arr[i] = items[i]
    return arr


cdef pid_t _spawn(_State s, list argv, object env, object cwd, bint disable_aslr,
                  object stdin, object stdout, object stderr, object pass_fds,
                  bint trace_fork, bint new_group, bint kill_on_exit) except -1:
    if not argv:
        raise ValueError("argv must name a program")
    # Every fd is checked before anything is forked: a bad one spawns nothing.
    cdef int fd_in = _fd_arg(stdin, "stdin")
    cdef int fd_out = _fd_arg(stdout, "stdout")
    cdef int fd_err = _fd_arg(stderr, "stderr")
    cdef list passed = _pass_fds_arg(pass_fds)
    cdef int *keep = NULL
    cdef int *inherit = NULL
    cdef int nkeep = 0, ninherit = len(passed)
    cdef int devnull = -1
    cdef bytes path = _resolve_program(argv[0], env)
    cdef list args = [_fsencode(a) for a in argv]
    if env is None:
        env = _os.environ
    cdef list envs = [_fsencode(k) + b"=" + _fsencode(v) for k, v in env.items()]
    cdef bytes cwd_b = _fsencode(cwd) if cwd is not None else None
    cdef const char *cwd_c = NULL
    if cwd_b is not None:
        if not _os.path.isdir(cwd_b):
            raise FileNotFoundError(2, "working directory not found", cwd)
        cwd_c = cwd_b
    cdef char **c_argv = _cstring_array(args)
    cdef char **c_envp = NULL
    cdef int go[2]
    cdef int errp[2]
    cdef pid_t pid, parent = getpid()
    cdef int status = 0, opts = _options(trace_fork, kill_on_exit)
    cdef int child_err[2]
    cdef ssize_t n
    cdef const char *c_path = path
    go[0] = go[1] = errp[0] = errp[1] = -1
    try:
        if _DEVNULL in (fd_in, fd_out, fd_err):
            devnull = c_open(b"/dev/null", O_RDWR | O_CLOEXEC)
            if devnull < 0:
                raise_errno(errno, "open(/dev/null)")
            fd_in = devnull if fd_in == _DEVNULL else fd_in
            fd_out = devnull if fd_out == _DEVNULL else fd_out
            fd_err = devnull if fd_err == _DEVNULL else fd_err
        c_envp = _cstring_array(envs)
        if pipe2(go, O_CLOEXEC) < 0 or pipe2(errp, O_CLOEXEC) < 0:
            raise_errno(errno, "pipe")
        kept = sorted(set(passed) | {go[0], errp[1]})
        nkeep = len(kept)
        keep = _int_array(kept)
        inherit = _int_array(passed)
        with nogil:
            pid = fork()
            if pid == 0:
                _child(c_path, c_argv, c_envp, cwd_c, fd_in, fd_out, fd_err, keep, nkeep,
                       inherit, ninherit, _spawn_fd_method, disable_aslr, new_group,
                       go[0], go[1], errp[1], parent)
        if pid < 0:
            raise_errno(errno, "fork")
        close(go[0])
        close(errp[1])
        go[0] = errp[1] = -1
        if ptrace(PTRACE_SEIZE, pid, NULL, <void *><long>opts) < 0:
            err = errno
            kill(pid, SIGKILL)
            waitpid(pid, &status, __WALL)
            raise_errno(err, "seize", pid, pid)
        close(go[1])
        go[1] = -1
        # The first report is the exec stop, or an exit if execve failed.  A signal
        # that reaches the child before exec is handed on.
        while True:
            with nogil:
                r = waitpid(pid, &status, __WALL)
            if r < 0:
                if errno == EINTR:
                    continue
                raise_errno(errno, "waitpid", pid, pid)
            if WIFEXITED(status) or WIFSIGNALED(status):
                break
            if (status >> 16) == PTRACE_EVENT_EXEC:
                break
            if (status >> 16) == 0 and WSTOPSIG(status) != SIGTRAP:
                ptrace(PTRACE_CONT, pid, NULL, <void *><long>WSTOPSIG(status))
            else:
                ptrace(PTRACE_CONT, pid, NULL, NULL)
        n = read(errp[0], child_err, sizeof(child_err))
        if n == sizeof(child_err):
            if not (WIFEXITED(status) or WIFSIGNALED(status)):
                kill(pid, SIGKILL)
                waitpid(pid, &status, __WALL)
            _remember_gone(s, pid)
            what = "chdir" if child_err[0] == 1 else "execve"
            raise _errors.ExecError(child_err[1], f"{what} failed: {_os.strerror(child_err[1])}",
                                    request=what, pid=pid, tid=pid)
        if WIFEXITED(status) or WIFSIGNALED(status):
            _remember_gone(s, pid)
            raise _errors.ExecError(ECHILD, "the child died before exec", request="execve",
                                    pid=pid, tid=pid)
    finally:
        free(c_argv)
        free(c_envp)
        free(keep)
        free(inherit)
        for fd in (go[0], go[1], errp[0], errp[1], devnull):
            if fd >= 0:
                close(fd)
    cdef _Process p = _Process(pid, opts)
    p.spawned = True
    p.kill_on_exit = kill_on_exit
    cdef _Thread th = _Thread(pid, p, ST_STOPPED)
    th.in_syscall = True  # it sits in its exec event stop, inside execve
    s.procs[pid] = p
    _add_thread(s, th)
    s.gone.pop(pid, None)
    _open_mem(p)
    return pid


cdef list _task_ids(pid_t pid):
    return sorted(int(t) for t in _os.listdir(f"/proc/{pid}/task"))


cdef pid_t _parent_of(pid_t pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rindex(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


cdef bint _is_zombie_task(pid_t pid, pid_t tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2:data.rindex(b")") + 3] in (b"Z", b"X")
    except (OSError, ValueError):
        return True


cdef list _seize(_State s, pid_t pid, bint trace_fork, bint kill_on_exit):
    cdef int opts = _options(trace_fork, kill_on_exit)
    cdef _Process p
    cdef _Thread th
    cdef pid_t tid
    cdef set seen = set()
    if pid <= 0:
        raise _NoSuchProcessError(ESRCH, "no such process", request="seize", pid=pid, tid=pid)
    if pid == getpid() or _os.path.exists(f"/proc/self/task/{pid}"):
        raise _errors.SelfAttachError(EPERM, "a process cannot trace itself",
                                      request="seize", pid=pid, tid=pid)
    if pid in s.procs:
        exc = _errors.AlreadyTracedError(EPERM, "already traced by this tracer",
                                         request="seize", pid=pid, tid=pid)
        exc.tracer_pid = getpid()
        raise exc
    if pid in s.threads:
        raise _errors.SelfAttachError(EPERM, f"{pid} is a thread of traced process "
                                      f"{(<_Thread>s.threads[pid]).pid}", request="seize",
                                      pid=pid, tid=pid)
    # The leader first: its failure is the one to report.
    if ptrace(PTRACE_SEIZE, pid, NULL, <void *><long>opts) < 0:
        raise_errno(errno, "seize", pid, pid)
    p = _Process(pid, opts)
    p.kill_on_exit = kill_on_exit
    p.adopted = _parent_of(pid) == getpid()
    s.procs[pid] = p
    s.gone.pop(pid, None)
    th = _Thread(pid, p, ST_RUNNING)
    _add_thread(s, th)
    seen.add(pid)
    if _is_zombie_task(pid, pid):
        # A leader that called pthread_exit never stops again (§6.2).
        th.state = ST_ZOMBIE
    else:
        ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)
        th.interrupt_pending = True
    try:
        while True:
            try:
                tids = _task_ids(pid)
            except OSError:
                break
            new = [t for t in tids if t not in seen and _find_thread(s, t) is None]
            if not new:
                break
            for tid in new:
                seen.add(tid)
                if ptrace(PTRACE_SEIZE, tid, NULL, <void *><long>opts) < 0:
                    # ESRCH/EPERM: the thread exited between listing and seizing.
                    continue
                th = _Thread(tid, p, ST_RUNNING)
                _add_thread(s, th)
                ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)
                th.interrupt_pending = True
        _stop_all(s, pid)
        if pid not in s.procs:
            raise _ProcessExitedError(ESRCH, "process exited during attach", request="seize",
                                      pid=pid, tid=pid)
        _open_mem(p)
    except BaseException:
        if pid in s.procs:
            _release(s, s.procs[pid], False)
        raise
    return sorted(p.tids)


cdef int _detach(_State s, _Process p, bint leave_stopped) except -1:
    _stop_all(s, p.pid)
    if p.pid not in s.procs:
        return 0   # it exited meanwhile
    _collect_pending_traps(s, p)
    if p.pid not in s.procs:
        return 0
    _release(s, p, leave_stopped)
    return 0


cdef unsigned long long _SIGTRAP_BIT = 1ULL << (SIGTRAP - 1)


cdef bint _sigtrap_pending(pid_t pid, pid_t tid):
    """Whether a trap's SIGTRAP is queued to the thread itself and not yet dequeued.

    int3, single-step and debug-register traps are forced on the thread (force_sig), so
    they show in SigPnd, never in the process-wide ShdPnd, and are never blocked (forcing
    unblocks them).  A blocked one was sent by someone (kill): resuming would not take
    it, so it is left for the program."""
    cdef bint pending = False, blocked = False
    try:
        with open(f"/proc/{pid}/task/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"SigPnd:"):
                    pending = bool(int(line.split()[1], 16) & _SIGTRAP_BIT)
                elif line.startswith(b"SigBlk:"):
                    blocked = bool(int(line.split()[1], 16) & _SIGTRAP_BIT)
                    break
    except (OSError, ValueError, IndexError):
        return False
    return pending and not blocked


cdef int _collect_pending_traps(_State s, _Process p) except -1:
    """Take every SIGTRAP still queued to a stopped thread before it is detached.

    A thread can sit in an interrupt stop (or any other ptrace stop) with the SIGTRAP of
    an int3, a step or a debug-register hit it already executed still pending: the
    kernel reports a pending PTRACE_INTERRUPT before it dequeues signals (get_signal runs
    the job-control trap first).  Its pc is then one byte past the int3 site.  Detached
    like that, the thread dequeues the SIGTRAP untraced and dies (hazards §14.1 #2).

    Resuming it with PTRACE_CONT and signal 0 makes it dequeue the SIGTRAP in the same
    get_signal loop, before any user instruction runs: a signal-delivery-stop that the
    usual decoding handles (an int3 of ours has its pc rewound to the site; the event is
    dropped with the process).  A stop signal it sat in is suppressed by that resume and
    re-queued with tgkill, to be delivered after the detach (§14.1 #5).
    """
    cdef _Thread th
    cdef int saved, rounds
    cdef object ev
    for tid in sorted(p.tids):
        # More than one round only when another stop (a late interrupt, a second trap)
        # comes first; a bound keeps a thread that keeps trapping from holding us.
        for rounds in range(4):
            th = _find_thread(s, tid)
            if th is None or th.state != ST_STOPPED or th.exiting or th.group_stopped:
                break
            if p.vfork_parent and th.tid == p.vfork_tid:
                break
            if not _sigtrap_pending(p.pid, tid):
                break
            saved = th.stop_sig
            _resume(s, th, PTRACE_CONT, 0, quiet=True)
            s.in_stop_all += 1
            try:
                while th.state != ST_STOPPED and _find_thread(s, tid) is th:
                    ev = _wait_tid(s, th)
                    if ev is not None:
                        s.stash.append(ev)
            finally:
                s.in_stop_all -= 1
            if saved and _find_thread(s, tid) is th:
                pydbg_tgkill(p.pid, tid, saved)
    return 0


cdef void _release(_State s, _Process p, bint leave_stopped):
    """Detach checklist (§14.1) on a stopped process; never raises for a dying one."""
    cdef _Thread th
    cdef dict signals = {}
    cdef int status
    cdef list kept = []
    cdef Event ev
    # Stashed events of this process will never be reported; hand their signals back.
    for ev in s.stash:
        if ev.pid == p.pid:
            if ev._kind == K_SIGNAL and ev.signal:
                signals[ev.tid] = ev.signal
        else:
            kept.append(ev)
    s.stash = kept
    _remove_all_bps(p)
    tids = sorted(p.tids, key=lambda t: t == p.pid)   # leader last (gdb)
    for tid in tids:
        th = _find_thread(s, tid)
        if th is None:
            continue
        if th.uses_dr:
            _clear_all_dr(th)
    if leave_stopped:
        kill(p.pid, SIGSTOP)
    for tid in tids:
        th = _find_thread(s, tid)
        if th is None:
            continue
        sig = th.stop_sig or signals.get(tid, 0) or th.deferred_sig
        if th.state == ST_STOPPED:
            if ptrace(PTRACE_DETACH, tid, NULL, <void *><long>sig) < 0 and errno == ESRCH:
                # A zombie that is ours to reap.
                waitpid(tid, &status, __WALL | WNOHANG)
        elif th.state == ST_ZOMBIE:
            s.reapable.add(tid)
    _drop_process(s, p)
    for tid in tids:
        if tid != p.pid:
            s.reapable.discard(tid)


cdef int _kill(_State s, _Process p) except -1:
    """SIGKILL and reap (§14.2).  Returns the leader's raw wait status."""
    cdef pid_t pid = p.pid
    cdef _Thread th
    cdef int status = 0, final = 0
    cdef pid_t r, tid
    cdef bint keep
    cdef list kept = []
    for ev in s.stash:
        if (<Event>ev).pid != pid:
            kept.append(ev)
    s.stash = kept
    kill(pid, SIGKILL)
    # A thread sitting in its PTRACE_EVENT_EXIT stop is not woken by SIGKILL: let it go.
    for tid in list(p.tids):
        th = _find_thread(s, tid)
        if th is not None and th.state == ST_STOPPED:
            th.exiting = True
            _resume(s, th, PTRACE_CONT, 0, quiet=True)
    while p.tids:
        # Non-leaders first: the leader reports only after all of them are gone.
        tid = min(p.tids, key=lambda t: (t == pid, t))
        th = _find_thread(s, tid)
        if th is None:
            p.tids.discard(tid)
            continue
        keep = _keeps_exit(s, th)
        with nogil:
            r = _waitpid_thread(tid, keep, &status, 0)
        if r < 0:
            if errno == EINTR:
                continue
            _drop_thread(s, th)
            continue
        if WIFEXITED(status) or WIFSIGNALED(status):
            if tid == pid:
                final = status
            _decode_exit(s, th, status)
            continue
        th.state = ST_STOPPED
        if ((status >> 16) & 0xFF) == PTRACE_EVENT_CLONE:
            # A thread created as the kill arrived: take it into the list to reap.
            _decode(s, tid, status)
            th = _find_thread(s, tid)
        if th is not None:
            th.exiting = True
            _resume(s, th, PTRACE_CONT, 0, quiet=True)
    if pid in s.procs:
        _drop_process(s, p)
    s.stash = [ev for ev in s.stash if (<Event>ev).pid != pid]
    return final
