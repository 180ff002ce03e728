# kernel.pxd - C declarations of the process, wait, signal and memory system calls the core
# uses besides ptrace.  Declarations only.

from libc.stdint cimport uint64_t
from posix.types cimport pid_t, off_t


cdef extern from "<sys/wait.h>" nogil:
    pid_t waitpid(pid_t pid, int *status, int options)
    int WIFEXITED(int status)
    int WEXITSTATUS(int status)
    int WIFSIGNALED(int status)
    int WTERMSIG(int status)
    int WIFSTOPPED(int status)
    int WSTOPSIG(int status)
    int WCOREDUMP(int status)
    enum:
        WNOHANG
        __WALL
        __WNOTHREAD


cdef extern from "<signal.h>" nogil:
    ctypedef struct siginfo_t:
        int si_signo
        int si_errno
        int si_code
        pid_t si_pid
        int si_status
        void *si_addr
    int kill(pid_t pid, int sig)
    enum:
        SIGKILL
        SIGSTOP
        SIGCONT
        SIGTRAP
        SIGTSTP
        SIGTTIN
        SIGTTOU
        SIGCHLD
        SIGPIPE
        SIGXFSZ
        SI_USER
        SI_QUEUE
        SI_TKILL
        SI_KERNEL
        TRAP_BRKPT
        TRAP_TRACE
        TRAP_HWBKPT
    int SIGRTMIN
    ctypedef void (*sighandler_t)(int)
    sighandler_t signal(int signum, sighandler_t handler)
    sighandler_t SIG_DFL
    ctypedef struct sigset_t:
        pass
    int sigemptyset(sigset_t *set)
    int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
    enum:
        SIG_SETMASK


cdef extern from "<unistd.h>" nogil:
    pid_t fork()
    pid_t getpid()
    pid_t getppid()
    int execve(const char *path, char *const argv[], char *const envp[])
    int pipe2(int fds[2], int flags)
    int dup2(int oldfd, int newfd)
    int close(int fd)
    int chdir(const char *path)
    int setpgid(pid_t pid, pid_t pgid)
    ssize_t read(int fd, void *buf, size_t count)
    ssize_t write(int fd, const void *buf, size_t count)
    ssize_t pread(int fd, void *buf, size_t count, off_t offset)
    ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
    void _exit(int status)


cdef extern from "<fcntl.h>" nogil:
    int c_open "open"(const char *path, int flags)
    int fcntl(int fd, int cmd, ...)
    enum:
        O_RDWR
        O_CLOEXEC
        F_SETFD


cdef extern from "<sys/prctl.h>" nogil:
    int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
              unsigned long arg5)
    enum:
        PR_SET_PDEATHSIG
        PR_SET_PTRACER


cdef extern from "<sys/personality.h>" nogil:
    int personality(unsigned long persona)
    enum:
        ADDR_NO_RANDOMIZE


cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void *iov_base
        size_t iov_len
    ssize_t process_vm_readv(pid_t pid, const iovec *local_iov, unsigned long liovcnt,
                             const iovec *remote_iov, unsigned long riovcnt,
                             unsigned long flags)
    ssize_t process_vm_writev(pid_t pid, const iovec *local_iov, unsigned long liovcnt,
                              const iovec *remote_iov, unsigned long riovcnt,
                              unsigned long flags)


cdef extern from "<time.h>" nogil:
    ctypedef int clockid_t
    ctypedef void *timer_t
    struct timespec:
        long tv_sec
        long tv_nsec
    struct itimerspec:
        timespec it_interval
        timespec it_value
    union sigval:
        int sival_int
    struct sigevent:
        int sigev_notify
        int sigev_signo
        sigval sigev_value
    int timer_create(clockid_t clockid, sigevent *sevp, timer_t *timerid)
    int timer_settime(timer_t timerid, int flags, const itimerspec *new_value,
                      itimerspec *old_value)
    int timer_delete(timer_t timerid)
    int clock_gettime(clockid_t clk, timespec *tp)
    enum:
        CLOCK_MONOTONIC


cdef extern from "<sched.h>" nogil:
    int sched_getcpu()
