/* coredump: a process worth dumping.  Two worker threads wait in nested calls, globals and
 * a heap block hold known contents, and main stops in a nested call: at a breakpoint site
 * or by a crash.
 *
 * Usage: coredump MODE [MIB]
 *   stop   main -> outer -> middle -> inner -> dump_here() (breakpoint site); then the
 *          workers are released and joined.  Exit status 42 if every byte the program
 *          wrote (globals, heap block, the big mapping) reads back as written, else 3.
 *   crash  the same calls, and inner() writes through a null pointer (SIGSEGV).
 *   thread-crash  the crash, in a third thread (crasher -> outer -> middle -> inner).
 * MIB: the size of an anonymous mapping filled with a non-zero pattern (default 0).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NWORKERS 2

volatile unsigned long long marker = 0x1122334455667788ULL;
char message[32] = "a core file of coredump.c";
long counter;
unsigned char *heap_block;
unsigned char *big;
size_t big_size;
volatile int *volatile crash_ptr;

static int release_pipe[2];
static int started;

__attribute__((noipa)) void dump_here(int depth)
{
    counter += depth;
}

__attribute__((noipa)) void inner(int crash)
{
    if (crash)
        *crash_ptr = 1;
    dump_here(3);
}

__attribute__((noipa)) void middle(int crash)
{
    inner(crash);
    counter++;
}

__attribute__((noipa)) void outer(int crash)
{
    middle(crash);
    counter++;
}

__attribute__((noipa)) void worker_wait(void)
{
    char c;
    __atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
    if (read(release_pipe[0], &c, 1) != 1)
        abort();
}

static void *crasher(void *arg)
{
    (void)arg;
    outer(1);
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    worker_wait();
    return NULL;
}

static int intact(void)
{
    if (marker != 0x1122334455667788ULL || strcmp(message, "a core file of coredump.c") != 0)
        return 0;
    for (int i = 0; i < 4096; i++)
        if (heap_block[i] != (unsigned char)(i * 7 + 1))
            return 0;
    for (size_t i = 0; i < big_size; i += 512)
        if (big[i] != (unsigned char)(i / 512 * 13 + 5))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    int crash = argc > 1 && strcmp(argv[1], "crash") == 0;
    big_size = (argc > 2 ? (size_t)atol(argv[2]) : 0) << 20;
    heap_block = malloc(4096);
    for (int i = 0; i < 4096; i++)
        heap_block[i] = (unsigned char)(i * 7 + 1);
    if (big_size) {
        big = mmap(NULL, big_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (big == MAP_FAILED)
            return 2;
        for (size_t i = 0; i < big_size; i += 512)
            big[i] = (unsigned char)(i / 512 * 13 + 5);
    }
    if (pipe(release_pipe) != 0)
        return 2;
    pthread_t tids[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
            return 2;
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NWORKERS)
        usleep(1000);
    if (strcmp(argc > 1 ? argv[1] : "", "thread-crash") == 0) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, crasher, NULL) != 0)
            return 2;
        pthread_join(tid, NULL);
    }
    outer(crash);
    if (write(release_pipe[1], "xx", NWORKERS) != NWORKERS)
        return 2;
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(tids[i], NULL);
    return intact() ? 42 : 3;
}
