/* compat.h - the few things Cython cannot say.
 *
 * 1. A wait that can be woken from another thread (or a timer) without a lost-wakeup race.
 *    Blocking in waitpid() is the cheapest way to wait for a ptrace stop (a self-pipe fed by
 *    a SIGCHLD handler cost 10-15% of single-step throughput on the test machines), but
 *    waitpid has no sigmask argument like ppoll, so a wake-up signal that lands between
 *    "check the flag" and "enter the syscall" would be lost.  The handler therefore
 *    siglongjmps out of the armed region, which contains only this file's code and a raw
 *    syscall (no glibc cancellation wrapper), and notes a signal that lands outside it for
 *    the next block.  The blocking call uses WNOWAIT, so a jump that lands after the
 *    syscall returned loses nothing: the status is still waitable and is reaped afterwards.
 * 2. offsetof() into struct user for the debug registers and rip.
 * 3. CPUID leaf 0xD, for the offset of the AVX state in the XSAVE area.
 * 4. Raw system calls glibc has no wrapper for (tgkill, rt_tgsigqueueinfo).
 */
#ifndef PYDBG_COMPAT_H
#define PYDBG_COMPAT_H

#include <cpuid.h>
#include <pthread.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptrace.h>

#define PYDBG_DR_OFFSET(i) ((long)offsetof(struct user, u_debugreg) + (long)(i) * 8)
#define PYDBG_RIP_OFFSET ((long)offsetof(struct user, regs.rip))
#define PYDBG_EFLAGS_OFFSET ((long)offsetof(struct user, regs.eflags))
#define PYDBG_ORIG_RAX_OFFSET ((long)offsetof(struct user, regs.orig_rax))

/* struct ptrace_syscall_info keeps its payload in an anonymous union Cython cannot name. */
#define PYDBG_SCI_NR(p) ((long long)(p)->entry.nr)
#define PYDBG_SCI_RVAL(p) ((long long)(p)->exit.rval)

static __thread sigjmp_buf pydbg_wake_env;
static __thread volatile sig_atomic_t pydbg_wake_armed;
/* A wake signal that arrived outside the armed region (while the caller was decoding, say):
 * the next pydbg_block returns at once instead of sleeping through it. */
static __thread volatile sig_atomic_t pydbg_wake_missed;

static void pydbg_wake_handler(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)info;
    (void)ctx;
    if (pydbg_wake_armed) {
        pydbg_wake_armed = 0;
        siglongjmp(pydbg_wake_env, 1);
    }
    pydbg_wake_missed = 1;
}

/* Forget wake signals received before this point (called when a new wait starts). */
static void pydbg_wake_reset(void)
{
    pydbg_wake_missed = 0;
}

/* Block until a traced child (or a child of this thread) has a status to collect, `*flag`
 * is nonzero, or the wake signal arrives.  With `poll_ns` > 0, sleep that long instead of
 * blocking in waitid (used while a foreign zombie hides the tracees from waitid(P_ALL)).
 * Returns 1 when a status may be waitable, 0 when woken, -errno on failure (-EINTR when a
 * signal without SA_RESTART such as Python's SIGINT handler interrupted the wait).  `*si`
 * is what waitid saw (si_pid 0 when it did not run or saw nothing), so that the caller
 * need not ask again. */
static int pydbg_block(volatile int *flag, long poll_ns, int wake_sig, siginfo_t *si)
{
    long r;
    si->si_pid = 0;
    /* No signal mask is saved here (that would cost a sigprocmask per wait); after a
     * jump the wake signal is still blocked from the handler and is unblocked below. */
    if (sigsetjmp(pydbg_wake_env, 0)) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, wake_sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        return 0;
    }
    pydbg_wake_armed = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(flag, __ATOMIC_SEQ_CST) || pydbg_wake_missed) {
        pydbg_wake_armed = 0;
        pydbg_wake_missed = 0;
        return 0;
    }
    if (poll_ns > 0) {
        struct timespec ts = {poll_ns / 1000000000L, poll_ns % 1000000000L};
        r = syscall(SYS_nanosleep, &ts, NULL);
    } else {
        /* WEXITED alone also reports ptrace stops: the WUNTRACED check applies only to
         * untraced children (kernel/exit.c, wait_task_stopped), and leaving it out keeps
         * job-control stops of unrelated children out of sight. */
        r = syscall(SYS_waitid, P_ALL, 0, si, WEXITED | WNOWAIT | __WALL | __WNOTHREAD, NULL);
    }
    pydbg_wake_armed = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (r < 0)
        return -errno;
    return 1;
}

/* The same for the case where exactly one tracee thread can report anything: block in
 * wait4(tid), which reaps the status at once (one syscall a stop, as a plain C tracer).
 * A wake-up that jumps out after wait4 returned must not lose the reaped status: the kernel
 * writes *status before the syscall returns, so a sentinel tells whether it did (and the
 * wake-up is then kept for the next block).  Returns 2 with *status set, 0 when woken,
 * -errno on failure. */
#define PYDBG_NO_STATUS 0x7fffffff
static int pydbg_block_tid(volatile int *flag, int wake_sig, pid_t tid, int *status)
{
    long r;
    *status = PYDBG_NO_STATUS;
    if (sigsetjmp(pydbg_wake_env, 0)) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, wake_sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        if (*status == PYDBG_NO_STATUS)
            return 0;
        /* Woken just after a status was reaped: return the status, and keep the wake-up
         * for the next block, which then returns at once. */
        pydbg_wake_missed = 1;
        return 2;
    }
    pydbg_wake_armed = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(flag, __ATOMIC_SEQ_CST) || pydbg_wake_missed) {
        pydbg_wake_armed = 0;
        pydbg_wake_missed = 0;
        return 0;
    }
    r = syscall(SYS_wait4, tid, status, __WALL, NULL);
    pydbg_wake_armed = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (r < 0)
        return *status != PYDBG_NO_STATUS ? 2 : -errno;
    return 2;
}

static int pydbg_install_wake_handler(int sig)
{
    struct sigaction sa;
    sa.sa_sigaction = pydbg_wake_handler;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: nothing else should be restarted behind the jump's back. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    return sigaction(sig, &sa, NULL);
}

static int pydbg_wake_handler_installed(int sig)
{
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0)
        return 0;
    return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == pydbg_wake_handler;
}

static void pydbg_set_flag(volatile int *flag, int value)
{
    __atomic_store_n(flag, value, __ATOMIC_SEQ_CST);
}

static int pydbg_get_flag(volatile int *flag)
{
    return __atomic_load_n(flag, __ATOMIC_SEQ_CST);
}

/* Offset and size of XSAVE component `comp` in the standard (non-compacted) format used by
 * NT_X86_XSTATE; 0/0 when the CPU does not have it. */
static void pydbg_xsave_component(unsigned comp, unsigned *offset, unsigned *size)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    *offset = 0;
    *size = 0;
    if (__get_cpuid_max(0, NULL) < 0xD)
        return;
    __cpuid_count(0xD, 0, a, b, c, d);
    if (!(a & (1u << comp)))
        return;
    __cpuid_count(0xD, comp, a, b, c, d);
    *size = a;
    *offset = b;
}

/* glibc spells the thread-directed timer target as a macro over a union member. */
static void pydbg_sigevent_thread(struct sigevent *sev, int signo, pid_t tid)
{
    sev->sigev_notify = SIGEV_THREAD_ID;
    sev->sigev_signo = signo;
    sev->_sigev_un._tid = tid;
}

/* The calling thread's tid, cached per thread: every Tracer call checks it, and a
 * syscall each time showed in the benchmarks.  A fork child starts with the cache clear. */
static __thread pid_t pydbg_tid_cache;

static void pydbg_clear_tid_cache(void)
{
    pydbg_tid_cache = 0;
}

static pid_t pydbg_gettid(void)
{
    static int registered;
    if (pydbg_tid_cache == 0) {
        if (!registered) {
            registered = 1;
            pthread_atfork(NULL, NULL, pydbg_clear_tid_cache);
        }
        pydbg_tid_cache = (pid_t)syscall(SYS_gettid);
    }
    return pydbg_tid_cache;
}

static int pydbg_tgkill(pid_t tgid, pid_t tid, int sig)
{
    return (int)syscall(SYS_tgkill, tgid, tid, sig);
}

/* Put a signal back into a thread's queue.  rt_tgsigqueueinfo keeps its siginfo, but the
 * kernel accepts only siginfo a process may forge (si_code < 0 and not SI_TKILL); for the
 * others (kill, tgkill, kernel-generated) tgkill requeues the signal itself. */
static int pydbg_requeue_signal(pid_t tgid, pid_t tid, int sig, const void *info)
{
    siginfo_t si;
    memcpy(&si, info, sizeof si);
    if (syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, &si) == 0)
        return 0;
    return (int)syscall(SYS_tgkill, tgid, tid, sig);
}

/* The probe block for PTRACE_SINGLEBLOCK: 8 nops then a taken jump.  A working block step
 * from pydbg_probe_start stops once, at pydbg_probe_target; a degraded one stops 9 times. */
__attribute__((noinline, used)) static void pydbg_probe_block(void)
{
    __asm__ volatile(
        ".globl pydbg_probe_start\n"
        "pydbg_probe_start:\n"
        "int3\n"
        "nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
        "jmp pydbg_probe_target\n"
        "nop\n"
        ".globl pydbg_probe_target\n"
        "pydbg_probe_target:\n"
        "int3\n");
}
extern char pydbg_probe_start[];
extern char pydbg_probe_target[];

#endif
