/* threads: NWORKERS threads run until stdin reaches EOF, then everyone is joined and the
 * program exits 0.
 *
 * Usage: threads NWORKERS [spin]
 * Workers call worker_tick() in a loop, sleeping 10 ms between calls (or never, with
 * "spin").  Once every worker has started, main calls all_ready() (a breakpoint site for
 * traced launches) and prints "ready N" on stdout (for attach tests), then blocks in
 * read(0).  Exit status 0 only if every worker ran and stdin saw a clean EOF.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int quit;
static volatile int spin;
static int started;
volatile long ticks;

__attribute__((noipa)) void worker_tick(void)
{
    __atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
}

__attribute__((noipa)) void all_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
    struct timespec ts = {0, 10 * 1000 * 1000};
    while (!quit) {
        worker_tick();
        if (!spin)
            nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    spin = argc > 2 && strcmp(argv[2], "spin") == 0;
    pthread_t *tids = calloc((size_t)n + 1, sizeof(*tids));
    for (int i = 0; i < n; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
            return 2;
    /* Wait until every worker runs, so an attacher sees all n + 1 tasks. */
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < n)
        usleep(1000);
    all_ready();
    printf("ready %d\n", n);
    fflush(stdout);
    char buf[256];
    ssize_t r;
    while ((r = read(0, buf, sizeof buf)) > 0)
        ;
    quit = 1;
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    return r == 0 ? 0 : 3;
}
