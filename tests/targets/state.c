/* state: stops for the tests of what a stop shows, frames and their registers, threads and
 * exception records.
 *
 * Usage: state MODE
 *   frames    main -> outer -> inner -> state_stop.  outer puts 0x1111 in rbx and 0x2222 in r12,
 *             inner 0x3333 and 0x4444 (both save the caller's first, as the psABI asks, so
 *             the CFI says where); state_stop is where the tests break.  Exits 0.
 *   threads   start 3 workers, each parking in worker_park (a blocking read of a pipe) after
 *             calling worker_ready; when all are parked, main calls state_stop, then
 *             releases them and joins.  Exits 0.
 *   segv      write through the pointer 0x10 (global label state_segv_insn): SIGSEGV.
 *   bus       map two pages of a one-page file and read the second: SIGBUS, BUS_ADRERR, at
 *             the address printed first as "bus ADDR".
 *   steps     call step_body, a function of plain arithmetic, then state_stop, then read the
 *             thread pointer through %fs at the global label state_fs_insn (glibc's TCB
 *             holds its own address at fs:0x10).  Exits 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

volatile long sink;
static int park_pipe[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int parked;

__attribute__((noinline, noipa)) void state_stop(void)
{
    sink++;
}

__attribute__((noinline, noipa)) long inner(long n)
{
    __asm__ volatile("mov $0x3333, %%rbx\n\tmov $0x4444, %%r12" ::: "rbx", "r12");
    state_stop();
    sink += n;
    return n + 1;
}

__attribute__((noinline, noipa)) long outer(long n)
{
    __asm__ volatile("mov $0x1111, %%rbx\n\tmov $0x2222, %%r12" ::: "rbx", "r12");
    long r = inner(n * 2);
    sink += r;
    return r;
}

__attribute__((noinline, noipa)) void worker_ready(void)
{
    pthread_mutex_lock(&lock);
    parked++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

__attribute__((noinline, noipa)) void worker_park(void)
{
    char c;
    worker_ready();
    if (read(park_pipe[0], &c, 1) != 1)
        exit(3);
}

static void *worker(void *arg)
{
    (void)arg;
    worker_park();
    return NULL;
}

__attribute__((noinline, noipa)) long step_body(long a)
{
    long b = a * 3;
    long c = b + 7;
    sink = c;
    return c - a;
}

static int run_threads(void)
{
    pthread_t threads[3];
    if (pipe(park_pipe) != 0)
        return 4;
    for (int i = 0; i < 3; i++)
        if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
            return 5;
    pthread_mutex_lock(&lock);
    while (parked < 3)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    state_stop();
    if (write(park_pipe[1], "xxx", 3) != 3)
        return 6;
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    return 0;
}

static int run_bus(void)
{
    char path[] = "/tmp/pydbg-state-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 7;
    unlink(path);
    long page = sysconf(_SC_PAGESIZE);
    if (ftruncate(fd, page) != 0)
        return 8;
    volatile char *map = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return 9;
    printf("bus %p\n", (void *)(map + page));
    fflush(stdout);
    return map[page];
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "frames";
    if (strcmp(mode, "frames") == 0)
        return outer(5) == 11 ? 0 : 1;
    if (strcmp(mode, "threads") == 0)
        return run_threads();
    if (strcmp(mode, "segv") == 0) {
        __asm__ volatile(".globl state_segv_insn\nstate_segv_insn:\n\tmovl $1, 0x10" ::: "memory");
        return 2;
    }
    if (strcmp(mode, "bus") == 0)
        return run_bus();
    if (strcmp(mode, "steps") == 0) {
        long r = step_body(4);
        long self;
        state_stop();
        __asm__ volatile(".globl state_fs_insn\nstate_fs_insn:\n\tmov %%fs:0x10, %0" : "=r"(self));
        sink = self;
        return r == 15 && self != 0 ? 0 : 1;
    }
    return 100;
}
