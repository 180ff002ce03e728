/* syscalls: known system calls for the syscall-event tests.  Results go to OUT, one line.
 *
 *   syscalls open OUT PATH      opens PATH (openat) read-only: "fd N"
 *   syscalls getpid OUT N       N raw getpid calls: "pid P"
 *   syscalls threads OUT N T    T threads, each making N raw getpid calls: "calls N*T"
 *   syscalls sleep OUT          a SIGUSR1 handler, then nanosleep(30 s), which the tracer
 *                               interrupts with SIGUSR1: "handled H ret R errno E"
 *   syscalls exec OUT PROG      execv(PROG, {PROG}) (OUT is left empty)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static long per_thread;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_thread; i++)
        syscall(SYS_getpid);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    FILE *out = fopen(argv[2], "w");
    if (out == NULL)
        return 3;
    if (strcmp(argv[1], "open") == 0 && argc == 4) {
        int fd = open(argv[3], O_RDONLY);
        fprintf(out, "fd %d\n", fd);
    } else if (strcmp(argv[1], "getpid") == 0 && argc == 4) {
        long n = atol(argv[3]);
        long pid = 0;
        for (long i = 0; i < n; i++)
            pid = syscall(SYS_getpid);
        fprintf(out, "pid %ld\n", pid);
    } else if (strcmp(argv[1], "threads") == 0 && argc == 5) {
        per_thread = atol(argv[3]);
        int count = atoi(argv[4]);
        pthread_t tids[16];
        if (count < 1 || count > 16)
            return 2;
        for (int i = 0; i < count; i++)
            pthread_create(&tids[i], NULL, worker, NULL);
        for (int i = 0; i < count; i++)
            pthread_join(tids[i], NULL);
        fprintf(out, "calls %ld\n", per_thread * count);
    } else if (strcmp(argv[1], "sleep") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigaction(SIGUSR1, &sa, NULL);
        struct timespec ts = {30, 0};
        int ret = nanosleep(&ts, NULL);
        fprintf(out, "handled %d ret %d errno %d\n", (int)handled, ret, ret ? errno : 0);
    } else if (strcmp(argv[1], "exec") == 0 && argc == 4) {
        fclose(out);
        char *args[] = {argv[3], NULL};
        execv(argv[3], args);
        return 4;
    } else {
        return 2;
    }
    fclose(out);
    return 0;
}
