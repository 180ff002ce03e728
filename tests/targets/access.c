/* access: known register and memory values at every kind of debug event, for the tests that
 * read registers and memory inside event callbacks (tests/api/test_callback_access.py).
 *
 * Usage: access OUT MODE [ARGS]; lines go to the file OUT, one per step, with write(2).
 *   note N SPIN  if SPIN is 1, start spinner() (a thread that never blocks) first; then
 *                for i in 1..N call noted(1000 + 7 * i, "note i") (value in rdi, the text
 *                in rsi at its entry), which writes "noted VALUE TEXT"; write "done", exit 0.
 *   ill          start spinner(), then load 0x5eed into rdi and execute ud2 at the global
 *                label ill_insn (SIGILL; no handler, so it kills the process).
 *   thread       start worker((void *)0x7a7a): it stores its argument in worker_arg and
 *                0x3131 in worker_mark, writes "worker" and returns (the thread exits with
 *                the exit(2) system call, status 0); join it, write "joined", store 27 in
 *                exit_mark and exit(9).
 *   dl LIB       start spinner(), dlopen LIB, call its plugin_value(), dlclose it; write
 *                "plugin VALUE" and exit 0.
 *   spin         spinner() on the main thread: runs until killed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int out_fd = -1;
volatile long spin_counter;
volatile long worker_arg;
volatile long worker_mark;
volatile long exit_mark;

static void say(const char *text)
{
    size_t n = strlen(text);
    if (write(out_fd, text, n) != (ssize_t)n || write(out_fd, "\n", 1) != 1)
        _exit(98);
}

__attribute__((noipa)) void noted(long value, const char *text)
{
    char line[96];
    snprintf(line, sizeof line, "noted %ld %s", value, text);
    say(line);
}

__attribute__((noipa)) void *spinner(void *arg)
{
    (void)arg;
    for (;;)
        spin_counter++;
    return NULL;
}

static void start_spinner(void)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, spinner, NULL) != 0)
        _exit(95);
}

__attribute__((noipa)) void do_ill(void)
{
    __asm__ volatile("mov $0x5eed, %%rdi\n\t"
                     ".globl ill_insn\n"
                     "ill_insn:\n\t"
                     "ud2\n" ::: "rdi", "memory");
}

static void *worker(void *arg)
{
    worker_arg = (long)arg;
    worker_mark = 0x3131;
    say("worker");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 90;
    out_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0)
        return 91;
    const char *mode = argv[2];
    char text[32];
    if (strcmp(mode, "note") == 0 && argc > 4) {
        int n = atoi(argv[3]);
        if (atoi(argv[4]) == 1)
            start_spinner();
        for (int i = 1; i <= n; i++) {
            snprintf(text, sizeof text, "note %d", i);
            noted(1000 + 7L * i, text);
        }
        say("done");
        exit(0);
    }
    if (strcmp(mode, "ill") == 0) {
        start_spinner();
        do_ill();
        return 92;
    }
    if (strcmp(mode, "thread") == 0) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, (void *)0x7a7a) != 0)
            return 93;
        pthread_join(thread, NULL);
        say("joined");
        exit_mark = 27;
        exit(9);
    }
    if (strcmp(mode, "dl") == 0 && argc > 3) {
        start_spinner();
        void *handle = dlopen(argv[3], RTLD_NOW);
        if (handle == NULL)
            return 94;
        int (*value)(void) = (int (*)(void))dlsym(handle, "plugin_value");
        if (value == NULL)
            return 96;
        snprintf(text, sizeof text, "plugin %d", value());
        if (dlclose(handle) != 0)
            return 97;
        say(text);
        exit(0);
    }
    if (strcmp(mode, "spin") == 0)
        spinner(NULL);
    return 99;
}
