/* bphot: hot breakpoint sites, for native breakpoint conditions and process-wide debug
 * registers.
 *
 * Usage: bphot MODE [N]
 *   loop N     for i in 0..N-1: hot_index = i; hot(i).  hot() stores i in hot_value and
 *              counts itself in hot_calls.  Prints "calls C" and exits 0 when C == N.
 *   signals    call hot() until SIGRTMIN+2 arrives, counting SIGRTMIN+1 handler runs;
 *              print "handled H" and exit 0.  Real-time signals queue, so every one sent
 *              is delivered once, and all SIGRTMIN+1 before a SIGRTMIN+2 sent after them.
 *   sigthread N  the same, but a second thread sends the N SIGRTMIN+1 and then the
 *              SIGRTMIN+2 to the main thread itself (tgkill).
 *   clone N    call clone_ready() (a breakpoint site), then start N threads one after the
 *              other; each stores its tid in slot_var once and calls hw_marker() once.
 *              Exit 0 when all ran.
 *   fact N     print fact(N), a recursive factorial; exit 0 when it is right.
 *   fork N     fork; parent and child both run the `loop N` body; the parent waits for
 *              the child and exits 0 when both counted N calls.
 *   exec N     call hot(0) once, then execve this program as `bphot loop N`.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile long hot_index;
volatile long hot_value;
volatile long hot_calls;
volatile long slot_var __attribute__((aligned(8)));
volatile long marker_calls;

static volatile sig_atomic_t handled;
static volatile sig_atomic_t stop;
static pid_t main_tid;

__attribute__((noipa)) void hot(long i)
{
    hot_value = i;
    hot_calls++;
}

__attribute__((noipa)) void clone_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void hw_marker(void)
{
    __atomic_fetch_add(&marker_calls, 1, __ATOMIC_RELAXED);
}

__attribute__((noipa)) long fact(long n)
{
    if (n <= 1)
        return 1;
    return n * fact(n - 1);
}

static int run_loop(long n)
{
    for (long i = 0; i < n; i++) {
        hot_index = i;
        hot(i);
    }
    printf("calls %ld\n", hot_calls);
    fflush(stdout);
    return hot_calls == n ? 0 : 1;
}

static void on_count(int sig)
{
    (void)sig;
    handled++;
}

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        exit(100);
}

static void *sender(void *arg)
{
    long n = (long)arg;
    struct timespec ts = {0, 200 * 1000};
    for (long i = 0; i < n; i++) {
        syscall(SYS_tgkill, getpid(), main_tid, SIGRTMIN + 1);
        nanosleep(&ts, NULL);
    }
    syscall(SYS_tgkill, getpid(), main_tid, SIGRTMIN + 2);
    return NULL;
}

static int run_signals(long senders)
{
    pthread_t t;
    install(SIGRTMIN + 1, on_count);
    install(SIGRTMIN + 2, on_stop);
    main_tid = (pid_t)syscall(SYS_gettid);
    if (senders >= 0 && pthread_create(&t, NULL, sender, (void *)senders) != 0)
        return 2;
    for (long i = 0; !stop; i++)
        hot(i);
    if (senders >= 0)
        pthread_join(t, NULL);
    printf("handled %d\n", (int)handled);
    fflush(stdout);
    return 0;
}

static void *clone_body(void *arg)
{
    (void)arg;
    slot_var = (long)syscall(SYS_gettid);
    hw_marker();
    return NULL;
}

static int run_clone(long n)
{
    clone_ready();
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, clone_body, NULL) != 0)
            return 2;
        pthread_join(t, NULL);
    }
    return marker_calls == n ? 0 : 1;
}

static int run_fork(long n)
{
    pid_t child = fork();
    if (child < 0)
        return 2;
    int rc = run_loop(n);
    if (child == 0)
        _exit(rc);
    int status = 0;
    if (waitpid(child, &status, 0) != child)
        return 3;
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "loop";
    long n = argc > 2 ? atol(argv[2]) : 1000;
    if (strcmp(mode, "loop") == 0)
        return run_loop(n);
    if (strcmp(mode, "signals") == 0)
        return run_signals(-1);
    if (strcmp(mode, "sigthread") == 0)
        return run_signals(n);
    if (strcmp(mode, "clone") == 0)
        return run_clone(n);
    if (strcmp(mode, "fact") == 0) {
        long r = fact(n), expect = 1;
        for (long k = 2; k <= n; k++)
            expect *= k;
        printf("fact %ld\n", r);
        fflush(stdout);
        return r == expect ? 0 : 1;
    }
    if (strcmp(mode, "fork") == 0)
        return run_fork(n);
    if (strcmp(mode, "exec") == 0) {
        hot(0);
        char count[32];
        snprintf(count, sizeof count, "%ld", n);
        char *args[] = {argv[0], "loop", count, NULL};
        execv("/proc/self/exe", args);
        return 4;
    }
    return 99;
}
