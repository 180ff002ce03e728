/* script: small programs for the tests of the scripting layer (tests/api/test_scripting*.py).
 * Each mode prints what it did on stdout, so a test compares what a script saw with the
 * program's own account.
 *
 * Usage: script MODE [N]
 *   calls N   call work(i * 7 + 3) for i in 0..N-1 (the value in rdi at work's entry); work
 *             prints "work V".  Exit 0.
 *   poke      call script_ready(), then print "value V" of the global `value` (42 unless a
 *             debugger changed it).  Exit 0.
 *   decide    print "yes" if check(1) returns 1 (it does when its argument is 42), else
 *             "no".  Exit 0.
 *   watch     script_ready(), then writer() stores 5 and then 9 in the global `watched`;
 *             print "watched V".  Exit 0.
 *   nest      outer() calls middle() calls leaf(); each returns its callee's result + 1;
 *             print "nest R" (R = 3).  Exit 0.
 *   malloc    malloc 17, 33 and 4096 bytes (through the volatile `sizes` table, so the
 *             compiler keeps each call), print "malloc 17 33 4096".  Exit 0.
 *   crash     print "bad ADDR" (the value of the global `bad_pointer`), then store through
 *             it at the global label crash_insn: SIGSEGV at that address.
 *   exit N    exit(N).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile int value = 42;
volatile long watched;
int *volatile bad_pointer = (int *)0x7ead0;
volatile size_t sizes[3] = {17, 33, 4096};
volatile long sink;

__attribute__((noipa)) void script_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void work(long v)
{
    printf("work %ld\n", v);
}

__attribute__((noipa)) int check(int x)
{
    return x == 42;
}

__attribute__((noipa)) void writer(void)
{
    watched = 5;
    sink = watched;
    watched = 9;
}

__attribute__((noipa)) int leaf(void)
{
    return (int)sink + 1;
}

__attribute__((noipa)) int middle(void)
{
    return leaf() + 1;
}

__attribute__((noipa)) int outer(void)
{
    return middle() + 1;
}

__attribute__((noipa)) void crash_here(void)
{
    __asm__ volatile(".globl crash_insn\n"
                     "crash_insn:\n\t"
                     "movl $1, (%0)\n"
                     :
                     : "r"(bad_pointer)
                     : "memory");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 90;
    const char *mode = argv[1];
    long n = argc > 2 ? atol(argv[2]) : 0;
    if (strcmp(mode, "calls") == 0) {
        for (long i = 0; i < n; i++)
            work(i * 7 + 3);
        return 0;
    }
    if (strcmp(mode, "poke") == 0) {
        script_ready();
        printf("value %d\n", value);
        return 0;
    }
    if (strcmp(mode, "decide") == 0) {
        puts(check(1) ? "yes" : "no");
        return 0;
    }
    if (strcmp(mode, "watch") == 0) {
        script_ready();
        writer();
        printf("watched %ld\n", watched);
        return 0;
    }
    if (strcmp(mode, "nest") == 0) {
        printf("nest %d\n", outer());
        return 0;
    }
    if (strcmp(mode, "malloc") == 0) {
        void *blocks[3];
        for (int i = 0; i < 3; i++)
            blocks[i] = malloc(sizes[i]);
        printf("malloc %zu %zu %zu\n", sizes[0], sizes[1], sizes[2]);
        for (int i = 0; i < 3; i++)
            free(blocks[i]);
        return 0;
    }
    if (strcmp(mode, "crash") == 0) {
        printf("bad %p\n", (void *)bad_pointer);
        fflush(stdout);
        crash_here();
        return 0;
    }
    if (strcmp(mode, "exit") == 0)
        exit((int)n);
    return 99;
}
