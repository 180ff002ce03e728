# compat.pxd - declarations of csrc/includes/compat.h (what Cython cannot say itself).

from posix.types cimport pid_t
from ptrace cimport ptrace_syscall_info
from kernel cimport sigevent, siginfo_t


cdef extern from "compat.h" nogil:
    long PYDBG_DR_OFFSET(int index)
    long PYDBG_RIP_OFFSET
    long PYDBG_EFLAGS_OFFSET
    long PYDBG_ORIG_RAX_OFFSET
    long long PYDBG_SCI_NR(ptrace_syscall_info *info)
    long long PYDBG_SCI_RVAL(ptrace_syscall_info *info)

    int pydbg_block(volatile int *flag, long poll_ns, int wake_sig, siginfo_t *si)
    int pydbg_block_tid(volatile int *flag, int wake_sig, pid_t tid, int *status)
    void pydbg_wake_reset()
    int pydbg_install_wake_handler(int sig)
    int pydbg_wake_handler_installed(int sig)
    void pydbg_set_flag(volatile int *flag, int value)
    int pydbg_get_flag(volatile int *flag)
    void pydbg_xsave_component(unsigned comp, unsigned *offset, unsigned *size)
    pid_t pydbg_gettid()
    int pydbg_tgkill(pid_t tgid, pid_t tid, int sig)
    int pydbg_requeue_signal(pid_t tgid, pid_t tid, int sig, const void *info)
    void pydbg_probe_block()
    char pydbg_probe_start[]
    char pydbg_probe_target[]
    void pydbg_sigevent_thread(sigevent *sev, int signo, pid_t tid)
