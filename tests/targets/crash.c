/* crash: programs that end in every way a batch run must report, one per mode.
 *
 * Usage: crash MODE [args]
 *   segv       main -> outer -> middle -> inner, which writes to the unmapped CRASH_ADDRESS
 *   abort      check_value() fails an assert(): abort(), SIGABRT
 *   fpe        divide() divides an int by zero: SIGFPE (FPE_INTDIV)
 *   overflow   recurse() calls itself until the stack overflows: SIGSEGV
 *   altstack   as overflow, but a SIGSEGV handler on an alternate stack restores the
 *              default action and returns, so the fault repeats and kills the process
 *   thread     a second thread crashes in thread_inner() (as segv) while main waits in
 *              pthread_join and a third thread sleeps in idle_worker()
 *   exit N     exit(N)
 *   handled    a SIGSEGV handler siglongjmps out of the fault: prints "recovered", exits 0
 *   sleep      sleep_forever() sleeps until killed
 *   args ...   prints each argument on a line of its own, exits 0
 */
#include <assert.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRASH_ADDRESS ((uintptr_t)0xdead0)

static volatile int zero;
static sigjmp_buf recover;

__attribute__((noipa)) void inner(volatile int *where)
{
    *where = 42;
}

__attribute__((noipa)) void middle(volatile int *where)
{
    inner(where);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void outer(void)
{
    middle((volatile int *)CRASH_ADDRESS);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void check_value(int value)
{
    assert(value == 0);
}

__attribute__((noipa)) int divide(int a, int b)
{
    return a / b;
}

__attribute__((noipa)) int recurse(int depth)
{
    volatile char pad[512];
    pad[depth % 512] = (char)depth;
    if (depth < 0) /* never: only keeps the compiler from calling the recursion infinite */
        return 0;
    return recurse(depth + 1) + pad[(depth + 1) % 512];
}

static void restore_default(int signo)
{
    signal(signo, SIG_DFL); /* the fault repeats when this returns, and kills */
}

static void on_segv(int signo)
{
    (void)signo;
    siglongjmp(recover, 1);
}

__attribute__((noipa)) void thread_inner(void)
{
    *(volatile int *)CRASH_ADDRESS = 7;
}

__attribute__((noipa)) void thread_outer(void)
{
    thread_inner();
    __asm__ volatile("" ::: "memory");
}

static void *crashing_thread(void *arg)
{
    (void)arg;
    usleep(20000); /* let the idle thread reach its sleep */
    thread_outer();
    return NULL;
}

__attribute__((noipa)) void idle_worker(void)
{
    for (;;)
        pause();
}

static void *idle_thread(void *arg)
{
    (void)arg;
    idle_worker();
    return NULL;
}

__attribute__((noipa)) void sleep_forever(void)
{
    for (;;)
        sleep(1000);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "segv")) {
        outer();
    } else if (!strcmp(mode, "abort")) {
        check_value(argc);
    } else if (!strcmp(mode, "fpe")) {
        printf("%d\n", divide(argc, zero));
    } else if (!strcmp(mode, "overflow") || !strcmp(mode, "altstack")) {
        if (!strcmp(mode, "altstack")) {
            static char alternate[65536];
            stack_t ss = {.ss_sp = alternate, .ss_size = sizeof alternate};
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = restore_default;
            sa.sa_flags = SA_ONSTACK;
            sigaltstack(&ss, NULL);
            sigaction(SIGSEGV, &sa, NULL);
        }
        return recurse(0);
    } else if (!strcmp(mode, "thread")) {
        pthread_t idle, crasher;
        pthread_create(&idle, NULL, idle_thread, NULL);
        pthread_create(&crasher, NULL, crashing_thread, NULL);
        pthread_join(crasher, NULL);
    } else if (!strcmp(mode, "exit") && argc > 2) {
        exit(atoi(argv[2]));
    } else if (!strcmp(mode, "handled")) {
        signal(SIGSEGV, on_segv);
        if (!sigsetjmp(recover, 1))
            inner((volatile int *)CRASH_ADDRESS);
        puts("recovered");
        fflush(stdout);
        return 0;
    } else if (!strcmp(mode, "sleep")) {
        sleep_forever();
    } else if (!strcmp(mode, "args")) {
        for (int i = 2; i < argc; i++)
            puts(argv[i]);
        return 0;
    }
    fprintf(stderr, "usage: crash segv|abort|fpe|overflow|altstack|thread|exit N|handled|sleep|args\n");
    return 2;
}
