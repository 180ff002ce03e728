/* bp_threads: breakpoint sites hit by many threads, signals around them, watched writes,
 * and a patchable function, for the end-to-end breakpoint tests.
 *
 * Usage: bp_threads OUT MODE [ARGS]; the result line goes to the file OUT.
 *   hot T N      T threads (0: the main thread alone) each call bp_hot(i) for i in 0..N-1,
 *                released together.  bp_hot returns i + 1 and adds one to hot_total; each
 *                thread checks every return value and counts its own calls.  Writes
 *                "total X" and exits 0 when X == max(T, 1) * N and every check held.
 *   sig N        install a SIGRTMIN+1 handler that counts its runs, call bp_hot(i) for i in
 *                0..N-1, then let pending signals in (sched_yield); writes "handled H";
 *                exits 0.  (The test sends the signals.)
 *   sigthread K  the main thread calls bp_hot(i) in a loop (at least K times, and until
 *                the sender is done); a second thread sends it SIGRTMIN+1 (tgkill) K times,
 *                the i-th once the main thread has made i + 1 calls.  Then the main thread
 *                lets pending signals in; writes "sent K handled H"; exits 0 when H == K
 *                (real-time signals queue: each one sent is delivered once).
 *   watch T      call bp_ready(), then start T threads one after the other; thread k
 *                stores k + 1 in `watched` once; writes "watched V", exits 0 when V == T.
 *   patch        call bp_ready(), then patch_me() (returns 1 as built); writes "patch R";
 *                exits 0.
 *   attach T N   start T threads held at a gate, print "ready" on stdout, read a line
 *                from stdin, run the `hot T N` body, print "total X" on stdout, and read
 *                stdin to EOF before the threads exit; for attach / detach tests.
 *   fork N       fork; parent and child each run the `hot 0 N` body; the parent waits for
 *                the child, writes "parent P child C" (their exit statuses) and exits 0
 *                when both ran right.
 *
 * data_word is initialised data the program never touches (a non-executable address with
 * known contents); watched, hot_total and data_word are aligned for debug registers.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long hot_total;
volatile int watched __attribute__((aligned(8)));
volatile long data_word __attribute__((aligned(8))) = 0x1122334455667788L;

static const char *out_path;
static volatile sig_atomic_t handled;
static volatile int gate;
static volatile int sender_done;
static pid_t main_tid;
static long per_thread;
static volatile int bad;
static int announced;
static pthread_barrier_t loops_done, may_exit;

__attribute__((noipa)) long bp_hot(long i)
{
    __atomic_fetch_add(&hot_total, 1, __ATOMIC_RELAXED);
    return i + 1;
}

__attribute__((noipa)) void bp_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

/* patch_me: mov $1, %eax (5 bytes), then ret.  The tests rewrite the mov. */
__asm__(".text\n"
        ".globl patch_me\n"
        ".type patch_me, @function\n"
        "patch_me:\n"
        "    movl $1, %eax\n"
        "    ret\n"
        ".size patch_me, .-patch_me\n");
int patch_me(void);

static void result(const char *fmt, long a, long b)
{
    FILE *f = fopen(out_path, "w");
    if (f == NULL)
        exit(100);
    fprintf(f, fmt, a, b);
    fclose(f);
}

static void *hot_worker(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
        sched_yield();
    long calls = 0;
    for (long i = 0; i < per_thread; i++) {
        if (bp_hot(i) != i + 1)
            bad = 1;
        calls++;
    }
    if (calls != per_thread)
        bad = 1;
    if (announced && arg != NULL) {
        /* Stay alive until main has read stdin to EOF (detach tests look at every thread). */
        pthread_barrier_wait(&loops_done);
        pthread_barrier_wait(&may_exit);
    }
    return NULL;
}

static int run_hot(long threads, long n, int announce)
{
    pthread_t tids[64];
    per_thread = n;
    announced = announce;
    if (threads > 64)
        return 2;
    if (announce) {
        pthread_barrier_init(&loops_done, NULL, (unsigned)threads + 1);
        pthread_barrier_init(&may_exit, NULL, (unsigned)threads + 1);
    }
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, hot_worker, (void *)(t + 1)) != 0)
            return 2;
    if (announce) {
        printf("ready\n");
        fflush(stdout);
        char c = 0;
        while (c != '\n' && read(0, &c, 1) == 1)
            ;
    }
    __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
    if (threads == 0)
        hot_worker(NULL);
    if (announce) {
        pthread_barrier_wait(&loops_done);
        printf("total %ld\n", hot_total);
        fflush(stdout);
        char buf[64];
        while (read(0, buf, sizeof buf) > 0)
            ;
        pthread_barrier_wait(&may_exit);
    }
    for (long t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    long expect = (threads ? threads : 1) * n;
    result("total %ld\n", hot_total, 0);
    return hot_total == expect && !bad ? 0 : 1;
}

static void on_signal(int sig)
{
    (void)sig;
    handled++;
}

static void install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        exit(100);
}

static int run_sig(long n)
{
    install(SIGRTMIN + 1);
    for (long i = 0; i < n; i++)
        if (bp_hot(i) != i + 1)
            return 1;
    sched_yield();
    result("handled %ld\n", handled, 0);
    return 0;
}

static void *sender(void *arg)
{
    long k = (long)arg;
    for (long i = 0; i < k; i++) {
        /* Signal i goes out once the main thread has made i + 1 calls: signals and
         * breakpoint hits interleave. */
        while (__atomic_load_n(&hot_total, __ATOMIC_RELAXED) <= i)
            sched_yield();
        syscall(SYS_tgkill, getpid(), main_tid, SIGRTMIN + 1);
    }
    __atomic_store_n(&sender_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int run_sigthread(long k)
{
    pthread_t t;
    install(SIGRTMIN + 1);
    main_tid = (pid_t)syscall(SYS_gettid);
    if (pthread_create(&t, NULL, sender, (void *)k) != 0)
        return 2;
    for (long i = 0; i < k || !__atomic_load_n(&sender_done, __ATOMIC_ACQUIRE); i++)
        if (bp_hot(i) != i + 1)
            bad = 1;
    pthread_join(t, NULL);
    sched_yield();
    result("sent %ld handled %ld\n", k, handled);
    return handled == k && !bad ? 0 : 1;
}

static void *watch_writer(void *arg)
{
    watched = (int)(long)arg;
    return NULL;
}

static int run_watch(long threads)
{
    bp_ready();
    for (long t = 0; t < threads; t++) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, watch_writer, (void *)(t + 1)) != 0)
            return 2;
        pthread_join(tid, NULL);
    }
    result("watched %ld\n", watched, 0);
    return watched == threads ? 0 : 1;
}

static int run_fork(long n)
{
    pid_t child = fork();
    if (child < 0)
        return 2;
    per_thread = n;
    gate = 1;
    hot_worker(NULL);
    int rc = hot_total == n && !bad ? 0 : 1;
    if (child == 0)
        _exit(rc);
    int status = 0;
    if (waitpid(child, &status, 0) != child)
        return 3;
    result("parent %ld child %ld\n", rc, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 99;
    out_path = argv[1];
    const char *mode = argv[2];
    long a = argc > 3 ? atol(argv[3]) : 0;
    long b = argc > 4 ? atol(argv[4]) : 0;
    if (strcmp(mode, "hot") == 0)
        return run_hot(a, b, 0);
    if (strcmp(mode, "attach") == 0)
        return run_hot(a, b, 1);
    if (strcmp(mode, "sig") == 0)
        return run_sig(a);
    if (strcmp(mode, "sigthread") == 0)
        return run_sigthread(a);
    if (strcmp(mode, "watch") == 0)
        return run_watch(a);
    if (strcmp(mode, "patch") == 0) {
        bp_ready();
        result("patch %ld\n", patch_me(), 0);
        return 0;
    }
    if (strcmp(mode, "fork") == 0)
        return run_fork(a);
    return 99;
}
