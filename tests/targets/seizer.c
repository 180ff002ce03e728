/* seizer: a minimal independent tracer, the "other debugger" of the attach tests.
 *
 * Usage: seizer PID hold   PTRACE_SEIZE every task of PID, print "seized", wait for EOF on
 *                          stdin, then interrupt, collect and detach every task; exit 0.
 *        seizer PID dr     seize and interrupt every task, print "TID DR7" per task (the
 *                          debug-control register as a raw tracer sees it), detach; exit 0.
 * Exit 1 on any failure, with the reason on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t tids[4096];
static int ntids;

static void fail(const char *what)
{
    fprintf(stderr, "seizer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void seize_all(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        fail("opendir");
    struct dirent *e;
    while ((e = readdir(d)) != NULL && ntids < 4096) {
        if (e->d_name[0] == '.')
            continue;
        pid_t tid = (pid_t)atoi(e->d_name);
        if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0)
            fail("PTRACE_SEIZE");
        tids[ntids++] = tid;
    }
    closedir(d);
}

static void stop_all(void)
{
    for (int i = 0; i < ntids; i++) {
        if (ptrace(PTRACE_INTERRUPT, tids[i], 0, 0) != 0)
            fail("PTRACE_INTERRUPT");
        int status;
        if (waitpid(tids[i], &status, __WALL) != tids[i])
            fail("waitpid");
    }
}

static void detach_all(void)
{
    for (int i = 0; i < ntids; i++)
        if (ptrace(PTRACE_DETACH, tids[i], 0, 0) != 0)
            fail("PTRACE_DETACH");
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    pid_t pid = (pid_t)atoi(argv[1]);
    seize_all(pid);
    if (strcmp(argv[2], "dr") == 0) {
        stop_all();
        for (int i = 0; i < ntids; i++) {
            errno = 0;
            long dr7 = ptrace(PTRACE_PEEKUSER, tids[i],
                              offsetof(struct user, u_debugreg) + 7 * sizeof(long), 0);
            if (errno)
                fail("PTRACE_PEEKUSER");
            printf("%d %ld\n", (int)tids[i], dr7);
        }
        detach_all();
        return 0;
    }
    printf("seized\n");
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    stop_all();
    detach_all();
    return 0;
}
