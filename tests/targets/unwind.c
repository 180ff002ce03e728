/* unwind: call chains for stack-unwinding tests, each ending in libc's write(), where the
 * tests break.  Every function is noipa and does work after its call, so that -O2 builds keep
 * each frame (no inlining, no tail calls, no recursion turned into a loop).
 *
 * Usage: unwind MODE [N]
 *   nest N      main -> outer -> middle -> recurse (N + 1 frames) -> leaf -> write
 *   qsort       main -> sort_numbers -> qsort -> (libc) -> compare -> leaf -> write
 *   signal      main -> outer_sig -> raise_sigill: a ud2 (global label unwind_ud2) raises SIGILL;
 *               the handler calls in_handler -> leaf -> write, then moves the saved rip past
 *               the ud2 so that the interrupted code carries on
 *   altstack    as signal, with the handler running on a sigaltstack
 *   layout      print the offsets into ucontext_t of the saved registers, one
 *               "NAME OFFSET" per line (rsp, rip, rbp, rbx, r8, r15, rdi, rax, mcontext)
 * Exits 0 after a run to the end.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

volatile long sink;

__attribute__((noinline, noipa)) int leaf(int n)
{
    char c = (char)('0' + (n % 10 + 10) % 10);
    ssize_t written = write(1, &c, 1);
    sink += written;
    return (int)written + n;
}

__attribute__((noinline, noipa)) int recurse(int n)
{
    int r = n <= 0 ? leaf(n) : recurse(n - 1);
    sink += r; /* a volatile store after the call: not a tail call, not a loop */
    return r + 1;
}

__attribute__((noinline, noipa)) int middle(int n)
{
    int r = recurse(n);
    sink += r;
    return r * 2;
}

__attribute__((noinline, noipa)) int outer(int n)
{
    int r = middle(n);
    sink += r;
    return r - 1;
}

static int compare_calls;

__attribute__((noinline, noipa)) int compare(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;
    if (compare_calls++ == 0)
        sink += leaf(x);
    return (x > y) - (x < y);
}

__attribute__((noinline, noipa)) int sort_numbers(void)
{
    int numbers[] = {5, 3, 9, 1, 7, 2, 8};
    qsort(numbers, sizeof numbers / sizeof numbers[0], sizeof numbers[0], compare);
    sink += numbers[0];
    return numbers[0];
}

__attribute__((noinline, noipa)) int in_handler(int sig)
{
    int r = leaf(sig);
    sink += r;
    return r;
}

static void on_sigill(int sig, siginfo_t *si, void *context)
{
    ucontext_t *uc = context;
    (void)si;
    in_handler(sig);
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* the length of ud2 */
}

__attribute__((noinline, noipa)) int raise_sigill(int n)
{
    __asm__ volatile(".globl unwind_ud2\n"
                     "unwind_ud2:\n\t"
                     "ud2\n" ::: "memory");
    sink += n;
    return n + 1;
}

__attribute__((noinline, noipa)) int outer_sig(int n)
{
    int r = raise_sigill(n);
    sink += r;
    return r + 1;
}

static int run_signal(int altstack)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigill;
    sa.sa_flags = SA_SIGINFO | (altstack ? SA_ONSTACK : 0);
    sigemptyset(&sa.sa_mask);
    if (altstack) {
        stack_t ss;
        memset(&ss, 0, sizeof ss);
        ss.ss_size = 1 << 16;
        ss.ss_sp = malloc(ss.ss_size);
        if (ss.ss_sp == NULL || sigaltstack(&ss, NULL) != 0)
            return 101;
    }
    if (sigaction(SIGILL, &sa, NULL) != 0)
        return 100;
    outer_sig(3);
    return 0;
}

static void print_layout(void)
{
    static const struct {
        const char *name;
        int reg;
    } regs[] = {
        {"rsp", REG_RSP}, {"rip", REG_RIP}, {"rbp", REG_RBP}, {"rbx", REG_RBX},
        {"r8", REG_R8},   {"r15", REG_R15}, {"rdi", REG_RDI}, {"rax", REG_RAX},
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        printf("%s %zu\n", regs[i].name,
               offsetof(ucontext_t, uc_mcontext.gregs) + sizeof(greg_t) * (size_t)regs[i].reg);
    printf("mcontext %zu\n", offsetof(ucontext_t, uc_mcontext));
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "nest";
    int n = argc > 2 ? atoi(argv[2]) : 3;
    if (strcmp(mode, "nest") == 0)
        return outer(n) > 0 ? 0 : 1;
    if (strcmp(mode, "qsort") == 0)
        return sort_numbers() == 1 ? 0 : 1;
    if (strcmp(mode, "signal") == 0)
        return run_signal(0);
    if (strcmp(mode, "altstack") == 0)
        return run_signal(1);
    if (strcmp(mode, "layout") == 0) {
        print_layout();
        return 0;
    }
    return 99;
}
