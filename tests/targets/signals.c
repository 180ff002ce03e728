/* signals: raises or waits for signals, with handlers that count; the exit status is the
 * count, so a test knows exactly how many signals the tracer let through.
 *
 * Usage: signals MODE [N]
 *   usr1 N    raise(SIGUSR1) N times; exit = SIGUSR1 handler runs.
 *   usr1wait  install the SIGUSR1 handler, call usr1_ready() (breakpoint site), then wait
 *             for one SIGUSR1 sent from outside; exit = handler runs.
 *   stop      raise(SIGSTOP) once with a SIGCONT handler; exit = SIGCONT handler runs.
 *   trap      raise(SIGTRAP) with a SIGTRAP handler; exit = handler runs.
 *   int3      execute an int3 of its own (global label own_int3) with a SIGTRAP handler;
 *             exit = handler runs, + 10 if the handler saw si_code SI_KERNEL.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t count;
static volatile int seen_code = -1000;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    seen_code = si->si_code;
    count++;
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        exit(100);
}

__attribute__((noipa)) void usr1_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void do_own_int3(void)
{
    __asm__ volatile(".globl own_int3\n"
                     "own_int3:\n\t"
                     "int3\n\t"
                     "nop\n"
                     ::: "memory");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "usr1";
    int n = argc > 2 ? atoi(argv[2]) : 1;
    if (strcmp(mode, "usr1") == 0) {
        install(SIGUSR1);
        for (int i = 0; i < n; i++)
            raise(SIGUSR1);
        return count;
    }
    if (strcmp(mode, "usr1wait") == 0) {
        install(SIGUSR1);
        usr1_ready();
        while (count == 0)
            usleep(1000);
        return count;
    }
    if (strcmp(mode, "stop") == 0) {
        install(SIGCONT);
        raise(SIGSTOP);
        return count;
    }
    if (strcmp(mode, "trap") == 0) {
        install(SIGTRAP);
        raise(SIGTRAP);
        return count;
    }
    if (strcmp(mode, "int3") == 0) {
        install(SIGTRAP);
        do_own_int3();
        return count + (seen_code == SI_KERNEL ? 10 : 0);
    }
    return 99;
}
