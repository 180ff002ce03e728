/* forker: fork a child that sleeps until it is killed, stop at forked() while both live,
 * then kill and reap the child and exit 0.
 *
 * Usage: forker OUTFILE [wait]
 *   wait: read one byte from stdin before forking (so that a debugger can attach first).
 * Lines written to OUTFILE (each flushed at once, O_APPEND, so parent and child interleave
 * whole lines): "parent PID", "child PID" (by the child), "forked PID" (by the parent, after
 * fork), "reaped SIGNAL" once the child is gone.  forked() and reaped() are breakpoint
 * sites in the parent.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int out = -1;

static void say(const char *word, long value)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%s %ld\n", word, value);
    if (write(out, line, (size_t)n) != n)
        _exit(93);
}

__attribute__((noipa)) void forked(pid_t child)
{
    __asm__ volatile("" ::"r"(child) : "memory");
}

__attribute__((noipa)) void reaped(int status)
{
    __asm__ volatile("" ::"r"(status) : "memory");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 90;
    out = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out < 0)
        return 91;
    say("parent", (long)getpid());
    if (argc > 2 && strcmp(argv[2], "wait") == 0) {
        char byte;
        if (read(0, &byte, 1) != 1)
            return 92;
    }
    pid_t child = fork();
    if (child < 0)
        return 94;
    if (child == 0) {
        say("child", (long)getpid());
        for (;;)
            pause();
    }
    say("forked", (long)child);
    forked(child);
    int status;
    kill(child, SIGKILL);
    if (waitpid(child, &status, 0) != child)
        return 95;
    say("reaped", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    reaped(status);
    return 0;
}
