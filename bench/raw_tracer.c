/* raw_tracer: the reference each pydbg benchmark is compared with.
 *
 * A plain C ptrace tracer that implements every benchmark workload the fastest
 * straightforward way: no bookkeeping, no event decoding beyond what the loop needs, no
 * memory allocation in the hot path.  It uses PTRACE_SEIZE and the same options pydbg sets
 * (hazards §2, §3), so the two differ only in what pydbg adds on top of the kernel.
 *
 * Usage (run.py builds and drives it; addresses are given as offsets from the load base
 * of the target executable, computed by run.py from the ELF symbol table):
 *
 *   raw_tracer step       N TARGET READY_OFF
 *   raw_tracer trace      N TARGET READY_OFF
 *   raw_tracer trace-reg  N TARGET READY_OFF
 *   raw_tracer int3       N TARGET HIT_OFF
 *   raw_tracer hwbp       N TARGET HIT_OFF
 *   raw_tracer signal     N TARGET [HANDLED_OFF]   (the offset is ignored: the engine
 *                                                 signal workloads pass it on)
 *   raw_tracer syscall-count N TARGET
 *   raw_tracer attach100  CYCLES PID
 *   raw_tracer read16m    REPS TARGET READY_OFF BUF_OFF SIZE
 *   raw_tracer branch1000 TARGET START_OFF DEST_OFF
 *   raw_tracer idle       TARGET SECONDS
 *
 * Each run prints exactly one JSON line on stdout; errors go to stderr with exit status 1.
 * A target spawned here is seized with PTRACE_O_EXITKILL, so it dies with this process
 * even if the tracer crashes; on normal exit it is killed and reaped explicitly.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Options pydbg sets on a spawned target (_native.pyi, Tracer.spawn). */
#define SPAWN_OPTIONS                                                                      \
    (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_TRACESYSGOOD | \
     PTRACE_O_EXITKILL)
/* Options pydbg sets on seize (no EXITKILL: the process is not ours to kill). */
#define SEIZE_OPTIONS                                                                      \
    (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_TRACESYSGOOD)

#define WARMUP_HITS 1000

static pid_t g_child = -1; /* the spawned target, killed on every exit path */
static int g_memfd = -1;   /* /proc/PID/mem of the target */

static void kill_child(void)
{
    if (g_child <= 0)
        return;
    pid_t pid = g_child;
    g_child = -1;
    kill(pid, SIGKILL);
    /* A tracee sitting in a stop we already collected (its PTRACE_EVENT_EXIT stop, in
     * `idle`) is past the point where SIGKILL wakes it: it must be continued. */
    ptrace(PTRACE_CONT, pid, 0, 0);
    /* Under PTRACE_O_TRACEEXIT a SIGKILLed tracee still reports PTRACE_EVENT_EXIT stops
     * (hazards §3); continue them until the process reports its death. */
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, __WALL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD: nothing left */
        }
        if (WIFSTOPPED(st))
            ptrace(PTRACE_CONT, r, 0, 0);
        else if (r == pid)
            break;
    }
}

static void die(const char *what)
{
    fprintf(stderr, "raw_tracer: %s: %s\n", what, strerror(errno));
    kill_child();
    exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "raw_tracer: %s\n", what);
    kill_child();
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wait_tid(pid_t tid)
{
    int st;
    while (waitpid(tid, &st, __WALL) < 0)
        if (errno != EINTR)
            die("waitpid");
    return st;
}

static void expect_sigtrap(int st, const char *where)
{
    if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP) {
        fprintf(stderr, "raw_tracer: %s: unexpected wait status %#x\n", where, st);
        kill_child();
        exit(1);
    }
}

/* Fork and exec TARGET under PTRACE_SEIZE; return once it sits in its exec stop.
 * The child blocks on a pipe until the parent has seized it, so the exec itself is
 * traced (the same order pydbg's spawn guarantees: stopped before the first instruction). */
static pid_t spawn(const char *path, const char *arg)
{
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0)
        die("pipe2");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        char c;
        close(gate[1]);
        while (read(gate[0], &c, 1) < 0 && errno == EINTR)
            ;
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        char *argv[] = {(char *)path, (char *)arg, NULL};
        execv(path, argv);
        _exit(127);
    }
    g_child = pid;
    close(gate[0]);
    if (ptrace(PTRACE_SEIZE, pid, 0, SPAWN_OPTIONS) != 0)
        die("PTRACE_SEIZE");
    close(gate[1]); /* EOF releases the child into execv */
    int st = wait_tid(pid);
    if (!WIFSTOPPED(st) || (st >> 16) != PTRACE_EVENT_EXEC) {
        fprintf(stderr, "raw_tracer: spawn: expected the exec stop, got status %#x\n", st);
        kill_child();
        exit(1);
    }
    char mem[64];
    snprintf(mem, sizeof mem, "/proc/%d/mem", pid);
    g_memfd = open(mem, O_RDWR | O_CLOEXEC);
    if (g_memfd < 0)
        die("open /proc/PID/mem");
    return pid;
}

/* Load base of the executable: start of its first mapping with file offset 0 in
 * /proc/PID/maps.  run.py gives addresses relative to it, so PIE and ASLR are handled
 * without hard-coding anything. */
static uint64_t load_base(pid_t pid, const char *path)
{
    char real[PATH_MAX], maps[64], line[PATH_MAX + 256];
    if (!realpath(path, real))
        die("realpath");
    snprintf(maps, sizeof maps, "/proc/%d/maps", pid);
    FILE *f = fopen(maps, "r");
    if (!f)
        die("open maps");
    uint64_t base = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long start, off;
        char name[PATH_MAX] = "";
        if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %4095s", &start, &off, name) >= 2 &&
            off == 0 && strcmp(name, real) == 0) {
            base = start;
            break;
        }
    }
    fclose(f);
    if (!base)
        fail("executable not found in /proc/PID/maps");
    return base;
}

static uint8_t peek_byte(uint64_t addr)
{
    uint8_t b;
    if (pread(g_memfd, &b, 1, (off_t)addr) != 1)
        die("pread /proc/PID/mem");
    return b;
}

static void poke_byte(uint64_t addr, uint8_t b)
{
    /* /proc/PID/mem writes succeed on r-x text (FOLL_FORCE, hazards §12). */
    if (pwrite(g_memfd, &b, 1, (off_t)addr) != 1)
        die("pwrite /proc/PID/mem");
}

/* Run the target from its exec stop to `addr` with a one-shot breakpoint, then leave it
 * stopped there with the original byte back and rip rewound onto `addr`. */
static void run_to(pid_t pid, uint64_t addr)
{
    uint8_t orig = peek_byte(addr);
    poke_byte(addr, 0xCC);
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
        die("PTRACE_CONT");
    expect_sigtrap(wait_tid(pid), "run_to");
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
        die("PTRACE_GETREGS");
    if (regs.rip != addr + 1)
        fail("run_to: stopped elsewhere than the breakpoint");
    regs.rip = addr;
    if (ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0)
        die("PTRACE_SETREGS");
    poke_byte(addr, orig);
}

static void emit_rate(const char *workload, long n, double seconds, const char *unit)
{
    printf("{\"workload\": \"%s\", \"n\": %ld, \"seconds\": %.9f, \"value\": %.3f, "
           "\"unit\": \"%s\"}\n",
           workload, n, seconds, (double)n / seconds, unit);
}

/* ---- workloads -------------------------------------------------------------------- */

static void do_step(long n, const char *target, uint64_t ready_off)
{
    pid_t pid = spawn(target, NULL);
    run_to(pid, load_base(pid, target) + ready_off);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0)
            die("PTRACE_SINGLESTEP");
        expect_sigtrap(wait_tid(pid), "step");
    }
    double t1 = now();
    emit_rate("step", n, t1 - t0, "steps/s");
    kill_child();
}

static void do_trace(long n, const char *target, uint64_t ready_off)
{
    pid_t pid = spawn(target, NULL);
    run_to(pid, load_base(pid, target) + ready_off);
    uint64_t *pcs = malloc((size_t)n * sizeof *pcs);
    if (!pcs)
        die("malloc");
    memset(pcs, 0, (size_t)n * sizeof *pcs); /* fault the buffer in before timing */
    const long rip_off = offsetof(struct user_regs_struct, rip);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        /* Record the pc of the instruction about to run, as pydbg's trace does. */
        pcs[i] = (uint64_t)ptrace(PTRACE_PEEKUSER, pid, rip_off, 0);
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0)
            die("PTRACE_SINGLESTEP");
        expect_sigtrap(wait_tid(pid), "trace");
    }
    double t1 = now();
    if (pcs[0] == 0 || pcs[n - 1] == 0)
        fail("trace: no pc recorded");
    emit_rate("trace", n, t1 - t0, "steps/s");
    free(pcs);
    kill_child();
}

static void do_trace_reg(long n, const char *target, uint64_t ready_off)
{
    pid_t pid = spawn(target, NULL);
    run_to(pid, load_base(pid, target) + ready_off);
    uint64_t *pcs = malloc((size_t)n * sizeof *pcs);
    uint64_t *vals = malloc((size_t)n * sizeof *vals);
    if (!pcs || !vals)
        die("malloc");
    memset(pcs, 0, (size_t)n * sizeof *pcs); /* fault the buffers in before timing */
    memset(vals, 0, (size_t)n * sizeof *vals);
    struct user_regs_struct regs;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        /* One GETREGS gives the pc and the register of the instruction about to run. */
        if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
            die("PTRACE_GETREGS");
        pcs[i] = regs.rip;
        vals[i] = regs.rsp;
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0)
            die("PTRACE_SINGLESTEP");
        expect_sigtrap(wait_tid(pid), "trace-reg");
    }
    double t1 = now();
    if (pcs[0] == 0 || vals[n - 1] == 0)
        fail("trace-reg: nothing recorded");
    emit_rate("trace-reg", n, t1 - t0, "steps/s");
    free(pcs);
    free(vals);
    kill_child();
}

static void do_int3(long n, const char *target, uint64_t hit_off)
{
    pid_t pid = spawn(target, NULL);
    uint64_t addr = load_base(pid, target) + hit_off;
    uint8_t orig = peek_byte(addr);
    poke_byte(addr, 0xCC);
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
        die("PTRACE_CONT");
    struct user_regs_struct regs;
    double t0 = 0;
    for (long i = 0; i < WARMUP_HITS + n; i++) {
        if (i == WARMUP_HITS)
            t0 = now();
        expect_sigtrap(wait_tid(pid), "int3 hit");
        if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0)
            die("PTRACE_GETREGS");
        regs.rip -= 1;
        if (ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0)
            die("PTRACE_SETREGS");
        poke_byte(addr, orig);
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0)
            die("PTRACE_SINGLESTEP");
        expect_sigtrap(wait_tid(pid), "int3 step-over");
        poke_byte(addr, 0xCC);
        if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
            die("PTRACE_CONT");
    }
    double t1 = now();
    emit_rate("int3", n, t1 - t0, "hits/s");
    kill_child();
}

static void do_hwbp(long n, const char *target, uint64_t hit_off)
{
    pid_t pid = spawn(target, NULL);
    uint64_t addr = load_base(pid, target) + hit_off;
    const long dr0 = offsetof(struct user, u_debugreg[0]);
    const long dr7 = offsetof(struct user, u_debugreg[7]);
    /* DR0 = address; DR7 = L0 with RW0 = 00 (execute) and LEN0 = 00 (1 byte). */
    if (ptrace(PTRACE_POKEUSER, pid, dr0, addr) != 0)
        die("POKEUSER DR0");
    if (ptrace(PTRACE_POKEUSER, pid, dr7, 1L) != 0)
        die("POKEUSER DR7");
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
        die("PTRACE_CONT");
    double t0 = 0;
    for (long i = 0; i < WARMUP_HITS + n; i++) {
        if (i == WARMUP_HITS)
            t0 = now();
        expect_sigtrap(wait_tid(pid), "hw breakpoint hit");
        /* The kernel set EFLAGS.RF when it reported the fault, so a plain CONT runs the
         * instruction instead of re-trapping (hazards §10). */
        if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
            die("PTRACE_CONT");
    }
    double t1 = now();
    emit_rate("hwbp", n, t1 - t0, "hits/s");
    kill_child();
}

static void do_signal(long n, const char *target)
{
    pid_t pid = spawn(target, NULL);
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
        die("PTRACE_CONT");
    double t0 = 0;
    for (long i = 0; i < WARMUP_HITS + n; i++) {
        if (i == WARMUP_HITS)
            t0 = now();
        int st = wait_tid(pid);
        /* status >> 16 == 0: a signal-delivery-stop, the only stop that can inject. */
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGUSR1 || (st >> 16) != 0)
            fail("signal: unexpected stop");
        if (ptrace(PTRACE_CONT, pid, 0, SIGUSR1) != 0)
            die("PTRACE_CONT");
    }
    double t1 = now();
    emit_rate("signal", n, t1 - t0, "signals/s");
    kill_child();
}

/* strace -c's job: every syscall stop of the target, counted by number.  PTRACE_SYSCALL
 * with TRACESYSGOOD (SIGTRAP|0x80 marks a syscall stop); PTRACE_GET_SYSCALL_INFO says
 * entry or exit and the number, as strace reads it.  Rate: syscalls (entry + exit) per s. */
static void do_syscall_count(long n, const char *target)
{
    static long counts[1024];
    struct __ptrace_syscall_info info; /* (glibc's name for the uapi struct) */
    pid_t pid = spawn(target, NULL);
    if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0)
        die("PTRACE_SYSCALL");
    double t0 = 0;
    long calls = 0;
    for (long i = 0; i < 2 * (WARMUP_HITS + n); i++) {
        if (i == 2 * WARMUP_HITS)
            t0 = now();
        int st = wait_tid(pid);
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80) || (st >> 16) != 0)
            fail("syscall-count: unexpected stop");
        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info) <= 0)
            die("PTRACE_GET_SYSCALL_INFO");
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
            counts[info.entry.nr & 1023]++;
            calls++;
        }
        if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0)
            die("PTRACE_SYSCALL");
    }
    double t1 = now();
    if (calls != WARMUP_HITS + n || counts[SYS_getpid] < n)
        fail("syscall-count: lost a syscall");
    emit_rate("syscall-count", n, t1 - t0, "syscalls/s");
    kill_child();
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_TIDS 4096

static int is_seized(const pid_t *tids, int n, pid_t tid)
{
    for (int i = 0; i < n; i++)
        if (tids[i] == tid)
            return 1;
    return 0;
}

/* Seize every thread of `pid` and interrupt each; return the number seized.  Re-lists
 * /proc/PID/task until a pass finds no new thread, because threads created by a thread
 * not yet seized are not auto-attached (hazards §2). */
static int seize_all(pid_t pid, pid_t *tids)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", pid);
    int n = 0;
    for (;;) {
        int added = 0;
        DIR *d = opendir(dir);
        if (!d)
            die("opendir /proc/PID/task");
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            pid_t tid = (pid_t)atoi(e->d_name);
            if (is_seized(tids, n, tid))
                continue;
            if (n == MAX_TIDS)
                fail("too many threads");
            if (ptrace(PTRACE_SEIZE, tid, 0, SEIZE_OPTIONS) != 0) {
                if (errno == ESRCH)
                    continue; /* exited since the listing */
                die("PTRACE_SEIZE");
            }
            if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
                die("PTRACE_INTERRUPT");
            tids[n++] = tid;
            added++;
        }
        closedir(d);
        if (!added)
            return n;
    }
}

static void do_attach(long cycles, pid_t pid)
{
    static pid_t tids[MAX_TIDS];
    double *attach = calloc((size_t)cycles, sizeof *attach);
    double *detach = calloc((size_t)cycles, sizeof *detach);
    if (!attach || !detach)
        die("calloc");
    int n = 0;
    for (long c = 0; c < cycles; c++) {
        double t0 = now();
        n = seize_all(pid, tids);
        /* Collect one stop per seized thread. */
        for (int stopped = 0; stopped < n;) {
            int st;
            pid_t r = waitpid(-1, &st, __WALL);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                die("waitpid");
            }
            if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
                stopped++;
            else
                fail("attach: unexpected stop while stopping all threads");
        }
        double t1 = now();
        /* Non-leaders first, the leader last (hazards §14.1). */
        for (int i = 0; i < n; i++)
            if (tids[i] != pid && ptrace(PTRACE_DETACH, tids[i], 0, 0) != 0)
                die("PTRACE_DETACH");
        if (ptrace(PTRACE_DETACH, pid, 0, 0) != 0)
            die("PTRACE_DETACH leader");
        double t2 = now();
        attach[c] = t1 - t0;
        detach[c] = t2 - t1;
    }
    qsort(attach, (size_t)cycles, sizeof *attach, cmp_double);
    qsort(detach, (size_t)cycles, sizeof *detach, cmp_double);
    printf("{\"workload\": \"attach100\", \"n\": %ld, \"threads\": %d, "
           "\"value\": %.6f, \"unit\": \"ms\", \"detach_ms\": %.6f}\n",
           cycles, n, attach[cycles / 2] * 1e3, detach[cycles / 2] * 1e3);
    free(attach);
    free(detach);
}

static void do_read(long reps, const char *target, uint64_t ready_off, uint64_t buf_off,
                    size_t size)
{
    pid_t pid = spawn(target, NULL);
    uint64_t base = load_base(pid, target);
    run_to(pid, base + ready_off);
    char *buf = malloc(size);
    if (!buf)
        die("malloc");
    struct iovec local = {buf, size};
    struct iovec remote = {(void *)(uintptr_t)(base + buf_off), size};
    double t0 = 0;
    /* Read 0 is a warm-up: it faults the local buffer in. */
    for (long i = 0; i <= reps; i++) {
        if (i == 1)
            t0 = now();
        ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got != (ssize_t)size)
            die("process_vm_readv");
    }
    double t1 = now();
    if ((unsigned char)buf[size - 1] != 0x5a)
        fail("read16m: wrong contents");
    double mib = (double)size / (1 << 20) * (double)reps;
    printf("{\"workload\": \"read16m\", \"n\": %ld, \"seconds\": %.9f, \"value\": %.3f, "
           "\"unit\": \"MiB/s\"}\n",
           reps, t1 - t0, mib / (t1 - t0));
    free(buf);
    kill_child();
}

/* Voluntary context switches of one thread: every ptrace stop is one (the tracee
 * sleeps in TASK_TRACED), so the difference over an operation counts its stops. */
static long voluntary_switches(pid_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", tid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        die("open status");
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

static void do_branch(const char *target, uint64_t start_off, uint64_t dest_off)
{
    pid_t pid = spawn(target, NULL);
    uint64_t base = load_base(pid, target);
    run_to(pid, base + start_off);
    const long rip_off = offsetof(struct user_regs_struct, rip);
    uint64_t dest = base + dest_off, pc = 0;
    long stops = 0;
    long v0 = voluntary_switches(pid);
    double t0 = now();
    /* A working BTF stops once, at the jmp's target; under KVM every instruction stops
     * (hazards §9.4).  The bound only guards against running away. */
    while (pc != dest && stops < 100000) {
        if (ptrace(PTRACE_SINGLEBLOCK, pid, 0, 0) != 0)
            die("PTRACE_SINGLEBLOCK");
        expect_sigtrap(wait_tid(pid), "singleblock");
        stops++;
        pc = (uint64_t)ptrace(PTRACE_PEEKUSER, pid, rip_off, 0);
    }
    double t1 = now();
    long v1 = voluntary_switches(pid);
    if (pc != dest)
        fail("branch1000: never reached the jmp target");
    printf("{\"workload\": \"branch1000\", \"value\": %ld, \"unit\": \"stops\", "
           "\"seconds\": %.9f, \"switch_stops\": %ld, \"pc\": %llu}\n",
           stops, t1 - t0, v1 - v0, (unsigned long long)(pc - base));
    kill_child();
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void do_idle(const char *target, const char *seconds)
{
    pid_t pid = spawn(target, seconds);
    if (ptrace(PTRACE_CONT, pid, 0, 0) != 0)
        die("PTRACE_CONT");
    double c0 = cpu_seconds(), t0 = now();
    /* Block until the target is about to exit (PTRACE_EVENT_EXIT), then let it go. */
    int st = wait_tid(pid);
    double c1 = cpu_seconds(), t1 = now();
    if (!WIFSTOPPED(st) || (st >> 16) != PTRACE_EVENT_EXIT)
        fail("idle: expected the exit stop");
    printf("{\"workload\": \"idle\", \"value\": %.4f, \"unit\": \"%%CPU\", "
           "\"seconds\": %.6f, \"cpu_seconds\": %.6f}\n",
           100.0 * (c1 - c0) / (t1 - t0), t1 - t0, c1 - c0);
    kill_child();
}

/* ---- main ------------------------------------------------------------------------- */

static long arg_long(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || *end || v < 0)
        fail("bad number argument");
    return v;
}

static uint64_t arg_u64(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        fail("bad address argument");
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    /* Line-buffered so a result already measured is never lost to a later failure. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *w = argc > 1 ? argv[1] : "";
    if (!strcmp(w, "step") && argc == 5)
        do_step(arg_long(argv[2]), argv[3], arg_u64(argv[4]));
    else if (!strcmp(w, "trace") && argc == 5)
        do_trace(arg_long(argv[2]), argv[3], arg_u64(argv[4]));
    else if (!strcmp(w, "trace-reg") && argc == 5)
        do_trace_reg(arg_long(argv[2]), argv[3], arg_u64(argv[4]));
    else if (!strcmp(w, "int3") && argc == 5)
        do_int3(arg_long(argv[2]), argv[3], arg_u64(argv[4]));
    else if (!strcmp(w, "hwbp") && argc == 5)
        do_hwbp(arg_long(argv[2]), argv[3], arg_u64(argv[4]));
    else if (!strcmp(w, "signal") && (argc == 4 || argc == 5))
        do_signal(arg_long(argv[2]), argv[3]);
    else if (!strcmp(w, "syscall-count") && argc == 4)
        do_syscall_count(arg_long(argv[2]), argv[3]);
    else if (!strcmp(w, "attach100") && argc == 4)
        do_attach(arg_long(argv[2]), (pid_t)arg_long(argv[3]));
    else if (!strcmp(w, "read16m") && argc == 7)
        do_read(arg_long(argv[2]), argv[3], arg_u64(argv[4]), arg_u64(argv[5]),
                (size_t)arg_long(argv[6]));
    else if (!strcmp(w, "branch1000") && argc == 5)
        do_branch(argv[2], arg_u64(argv[3]), arg_u64(argv[4]));
    else if (!strcmp(w, "idle") && argc == 4)
        do_idle(argv[2], argv[3]);
    else {
        fprintf(stderr, "usage: see the comment at the top of raw_tracer.c\n");
        return 2;
    }
    return 0;
}
