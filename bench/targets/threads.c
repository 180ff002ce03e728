/* Target for the `attach100` workload: a running process with N threads (default 100).
 *
 * N counts every task in /proc/PID/task, the main thread included.  The workers sleep in
 * short nanosleep() loops, the usual state of threads in a server: PTRACE_INTERRUPT has
 * to take each one out of a system call.  Once every thread exists the main thread prints
 * "ready" on stdout, so the benchmark attaches only to a complete process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    /* 50 ms: rare enough that 100 threads add little load to a 2-vCPU machine. */
    const struct timespec nap = {0, 50 * 1000 * 1000};
    for (;;)
        nanosleep(&nap, NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    for (int i = 1; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
