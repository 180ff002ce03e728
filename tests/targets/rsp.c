/* rsp: a target for the GDB-remote server tests (tests/gdbremote).
 *
 * Usage: rsp [threads N | spin]
 *   main -> outer -> work (breakpoint site; a three-frame stack) adds to `counter`,
 *   which watchpoint tests watch; `quad` holds four known 64-bit values.
 *   regs_loaded (a global label in load_regs) is reached with xmm0 = xmm_in and the
 *   stack pointer stored in saved_rsp.
 *   With "threads N": N workers park in worker_park() until main, after all_ready(),
 *   releases them.  With "spin": main first waits in worker_park() until a debugger sets
 *   `release`.
 * At the end it prints `quad`, `counter`, the label's address, saved_rsp and xmm_in, one
 * per line, then "done", and exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long quad[4] = {0x1111222233334444L, 0x5555666677778888L, 0x0123456789abcdefL, 42};
volatile long counter = 5;
unsigned char xmm_in[16] = {0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87,
                            0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};
unsigned long saved_rsp;
static volatile int release;
static int started;
extern char regs_loaded[];

__attribute__((noipa)) int work(int x)
{
    counter += x;
    return x * 2;
}

__attribute__((noipa)) int outer(int x)
{
    return work(x + 1) + 1;
}

__attribute__((noipa)) void load_regs(void)
{
    __asm__ volatile("movdqu xmm_in(%%rip), %%xmm0\n\t"
                     "mov %%rsp, saved_rsp(%%rip)\n"
                     ".globl regs_loaded\n"
                     "regs_loaded:\n\t"
                     "nop\n"
                     ::: "xmm0", "memory");
}

__attribute__((noipa)) void worker_park(void)
{
    while (!release)
        usleep(1000);
}

static void *worker(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
    worker_park();
    return NULL;
}

__attribute__((noipa)) void all_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    int n = argc > 2 && strcmp(argv[1], "threads") == 0 ? atoi(argv[2]) : 0;
    pthread_t tids[16];
    if (argc > 1 && strcmp(argv[1], "spin") == 0)
        worker_park();
    if (n > 16)
        n = 16;
    for (int i = 0; i < n; i++)
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
            return 2;
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < n)
        usleep(1000);
    all_ready();
    release = 1;
    for (int i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    load_regs();
    outer(2);
    for (int i = 0; i < 4; i++)
        printf("quad %#lx\n", (unsigned long)quad[i]);
    printf("counter %ld\n", counter);
    printf("regs_loaded %p\n", (void *)regs_loaded);
    printf("saved_rsp %#lx\n", saved_rsp);
    printf("xmm_in");
    for (int i = 0; i < 16; i++)
        printf(" %02x", xmm_in[i]);
    printf("\ndone\n");
    return 0;
}
