/* spawn_fds.h - closing the file descriptors a spawned program must not inherit.
 *
 * Called in the child between fork and execve.  The parent is multithreaded (Python), so
 * the child may only make async-signal-safe calls (signal-safety(7)): raw system calls
 * here, no malloc, no opendir/readdir.
 *
 * Every fd >= 3 is closed except the `keep` list (sorted, distinct, all >= 3):
 *   1. close_range(2) over the gaps between kept fds (Linux 5.9; one call per gap);
 *   2. else the numbers listed by getdents64 on /proc/self/fd (as CPython's
 *      _posixsubprocess does when close_range is missing or refused by seccomp);
 *   3. else every number below the RLIMIT_NOFILE soft limit (/proc not mounted).
 * `method` forces a later step (PYDBG_FDS_PROC, PYDBG_FDS_RLIMIT) so that the tests can
 * exercise the fallbacks on a kernel that has close_range.
 */
#ifndef PYDBG_SPAWN_FDS_H
#define PYDBG_SPAWN_FDS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436 /* x86_64 */
#endif

enum { PYDBG_FDS_AUTO = 0, PYDBG_FDS_PROC = 1, PYDBG_FDS_RLIMIT = 2 };

static int pydbg_fd_kept(long fd, const int *keep, int nkeep)
{
    for (int i = 0; i < nkeep; i++)
        if (keep[i] == fd)
            return 1;
    return 0;
}

static int pydbg_close_fds_range(const int *keep, int nkeep)
{
    unsigned int low = 3;
    for (int i = 0; i <= nkeep; i++) {
        unsigned int high = i < nkeep ? (unsigned int)keep[i] - 1 : ~0U;
        if (low <= high && syscall(SYS_close_range, low, high, 0) < 0)
            return -1;
        if (i < nkeep)
            low = (unsigned int)keep[i] + 1;
    }
    return 0;
}

struct pydbg_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int pydbg_close_fds_proc(const int *keep, int nkeep)
{
    char buf[4096] __attribute__((aligned(8)));
    long n, off, fd;
    int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd",
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    /* Closing while listing is safe: entries are numbered, and a closed fd is simply no
     * longer listed by the next getdents64. */
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
        for (off = 0; off < n;) {
            struct pydbg_dirent64 *d = (struct pydbg_dirent64 *)(buf + off);
            const char *p = d->d_name;
            off += d->d_reclen;
            if (*p < '0' || *p > '9')
                continue; /* "." and ".." */
            for (fd = 0; *p >= '0' && *p <= '9'; p++)
                fd = fd * 10 + (*p - '0');
            if (fd >= 3 && fd != dir && !pydbg_fd_kept(fd, keep, nkeep))
                close((int)fd);
        }
    }
    close(dir);
    return n < 0 ? -1 : 0;
}

static void pydbg_close_fds_rlimit(const int *keep, int nkeep)
{
    struct rlimit rl;
    long max = 65536;
    if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        max = (long)rl.rlim_cur;
    for (long fd = 3; fd < max; fd++)
        if (!pydbg_fd_kept(fd, keep, nkeep))
            close((int)fd);
}

/* Close every fd >= 3 not in keep (sorted, distinct, each >= 3).  Never fails: the last
 * fallback needs nothing from the kernel but close(). */
static void pydbg_close_fds(const int *keep, int nkeep, int method)
{
    if (method <= PYDBG_FDS_AUTO && pydbg_close_fds_range(keep, nkeep) == 0)
        return;
    if (method <= PYDBG_FDS_PROC && pydbg_close_fds_proc(keep, nkeep) == 0)
        return;
    pydbg_close_fds_rlimit(keep, nkeep);
}

#endif
