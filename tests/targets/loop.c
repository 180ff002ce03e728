/* loop: call tick() N times from each of THREADS threads, then exit through finish().
 *
 * Usage: loop N [THREADS]
 *   N < 0 loops forever (a running target for interrupt/wait/seize tests).
 * tick() bumps the global `counter`; main exits with finish(0) when counter == N * THREADS
 * and finish(1) otherwise, so a breakpoint step-over that skips or repeats tick's first
 * instruction shows up in the exit status.  answer() returns 1; tests patch its text.
 * `loop_marker` identifies this image when read after an exec.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

volatile long counter;
long iterations;
const char loop_marker[16] = "loop-target-img";

__attribute__((noipa)) void tick(void)
{
    __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
}

__attribute__((noipa)) void finish(int code)
{
    exit(code);
}

__attribute__((noipa)) int answer(void)
{
    return 1;
}

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; iterations < 0 || i < iterations; i++)
        tick();
    return NULL;
}

int main(int argc, char **argv)
{
    iterations = argc > 1 ? atol(argv[1]) : 1000;
    long nthreads = argc > 2 ? atol(argv[2]) : 1;
    if (nthreads <= 1) {
        worker(NULL);
    } else {
        pthread_t *tids = calloc((size_t)nthreads, sizeof(*tids));
        for (long i = 0; i < nthreads; i++)
            if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
                return 2;
        for (long i = 0; i < nthreads; i++)
            pthread_join(tids[i], NULL);
        free(tids);
    }
    finish(counter == iterations * (nthreads < 1 ? 1 : nthreads) ? 0 : 1);
    return 3;
}
