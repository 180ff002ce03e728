/* detach_busy: five threads hammering functions that carry breakpoints, for the detach and
 * debugger-termination tests.  Any int3 or debug register left behind, or a SIGTRAP left
 * pending, kills it; a pc left one byte past an int3 site makes a result check fail.
 *
 * Usage: detach_busy.  Prints "ready" on stdout once the workers run, then reads commands
 * from stdin, one per line:
 *   p   print "progress N": the number of calls made so far (a fresh count each time)
 *   q   stop the workers, join them and exit 0 if every call returned what it should
 *       (1 otherwise).  EOF counts as q.
 * The workers call busy_a .. busy_d (software breakpoint targets) and busy_hw (a hardware
 * execute breakpoint target) in turn, each checking the return value.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 5

static volatile int stop;
static volatile int bad;
static volatile long progress;

__attribute__((noipa)) long busy_a(long i)
{
    return i + 1;
}

__attribute__((noipa)) long busy_b(long i)
{
    return i + 2;
}

__attribute__((noipa)) long busy_c(long i)
{
    return i + 3;
}

__attribute__((noipa)) long busy_d(long i)
{
    return i + 4;
}

__attribute__((noipa)) long busy_hw(long i)
{
    return i + 5;
}

static void *worker(void *arg)
{
    long i = (long)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        if (busy_a(i) != i + 1 || busy_b(i) != i + 2 || busy_c(i) != i + 3 ||
            busy_d(i) != i + 4 || busy_hw(i) != i + 5)
            bad = 1;
        i++;
        __atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

int main(void)
{
    pthread_t tids[WORKERS];
    char line[64];
    for (long t = 0; t < WORKERS; t++)
        if (pthread_create(&tids[t], NULL, worker, (void *)(t * 1000000)) != 0)
            return 2;
    printf("ready\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (line[0] == 'q')
            break;
        if (line[0] == 'p') {
            printf("progress %ld\n", __atomic_load_n(&progress, __ATOMIC_RELAXED));
            fflush(stdout);
        }
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (long t = 0; t < WORKERS; t++)
        pthread_join(tids[t], NULL);
    return bad ? 1 : 0;
}
