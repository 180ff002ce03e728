/* events: one small program per debug event, for the end-to-end api tests (tests/api).
 * Each mode appends what it did to the file OUT, one line per step, with write(2) (also
 * from the signal handler), so a test can tell that the program lost nothing under the
 * debugger; the exit status tells the same.
 *
 * Usage: events MODE OUT [ARG]
 *   exit CODE  write "exit CODE", exit(CODE).
 *   segv       write "segv", then load through a null pointer: the faulting instruction is
 *              the global label segv_insn.  No SIGSEGV handler, so the signal kills it.
 *   usr1       install a SIGUSR1 handler (it writes "handler"), raise(SIGUSR1) once, write
 *              "raised N" (N = handler runs) and exit N.
 *   sigint     raise(SIGINT) without a handler (the default action kills), then write
 *              "survived" and exit 0.
 *   spin       write "spin", then loop forever in spin_loop() (never blocks).
 *   thread     start one thread that writes "worker" and returns; join it, write "joined",
 *              exit(7).
 *   fork       fork a child that writes "child" and _exit(5); the parent waits for it,
 *              writes "parent", and exits 10 + the child's exit status (15).
 *   steps      step_caller(): an int3 of its own (global label step_break) stops the
 *              debugger right before step_start, three straight-line instructions (nop;
 *              xor %eax,%eax; add $1,%eax), then the C call step_callee() (which bumps
 *              the global callee_runs); writes "callee_runs N" and exits N (1).
 *
 * Built -O0 like every target, so step_caller() calls step_callee() with a plain `call`.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int out_fd = -1;
static volatile sig_atomic_t handler_runs;
volatile long callee_runs;
volatile long spin_counter;
int *volatile null_pointer;

static void say(const char *text)
{
    size_t n = strlen(text);
    if (write(out_fd, text, n) != (ssize_t)n || write(out_fd, "\n", 1) != 1)
        _exit(98);
}

static void on_usr1(int sig)
{
    (void)sig;
    handler_runs++;
    say("handler");
}

__attribute__((noipa)) int do_segv(void)
{
    int value;
    __asm__ volatile(".globl segv_insn\n"
                     "segv_insn:\n\t"
                     "movl (%1), %0\n"
                     : "=r"(value)
                     : "r"(null_pointer)
                     : "memory");
    return value;
}

__attribute__((noipa)) void spin_loop(void)
{
    for (;;)
        spin_counter++;
}

static void *worker(void *arg)
{
    (void)arg;
    say("worker");
    return NULL;
}

__attribute__((noipa)) void step_callee(void)
{
    callee_runs++;
}

__attribute__((noipa)) void step_caller(void)
{
    __asm__ volatile(".globl step_break\n"
                     "step_break:\n\t"
                     "int3\n"
                     ".globl step_start\n"
                     "step_start:\n\t"
                     "nop\n\t"
                     "xor %%eax, %%eax\n\t"
                     "add $1, %%eax\n"
                     ::: "rax", "cc", "memory");
    step_callee();
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 90;
    const char *mode = argv[1];
    out_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0)
        return 91;
    char line[64];
    if (strcmp(mode, "exit") == 0) {
        int code = argc > 3 ? atoi(argv[3]) : 0;
        snprintf(line, sizeof line, "exit %d", code);
        say(line);
        exit(code);
    }
    if (strcmp(mode, "segv") == 0) {
        say("segv");
        return do_segv();
    }
    if (strcmp(mode, "usr1") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL) != 0)
            return 92;
        raise(SIGUSR1);
        snprintf(line, sizeof line, "raised %d", (int)handler_runs);
        say(line);
        return handler_runs;
    }
    if (strcmp(mode, "sigint") == 0) {
        raise(SIGINT);
        say("survived");
        return 0;
    }
    if (strcmp(mode, "spin") == 0) {
        say("spin");
        spin_loop();
    }
    if (strcmp(mode, "thread") == 0) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, NULL) != 0)
            return 95;
        pthread_join(thread, NULL);
        say("joined");
        exit(7);
    }
    if (strcmp(mode, "fork") == 0) {
        pid_t child = fork();
        if (child < 0)
            return 93;
        if (child == 0) {
            say("child");
            _exit(5);
        }
        int status;
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
            return 94;
        say("parent");
        return 10 + WEXITSTATUS(status);
    }
    if (strcmp(mode, "steps") == 0) {
        step_caller();
        snprintf(line, sizeof line, "callee_runs %ld", callee_runs);
        say(line);
        return (int)callee_runs;
    }
    return 99;
}
