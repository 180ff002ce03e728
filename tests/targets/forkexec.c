/* forkexec: fork (or vfork) a child that execs PROGRAM ARGS..., wait for it, and exit with
 * the child's exit status (or 100 + its terminating signal).
 *
 * Usage: forkexec fork|vfork PROGRAM [ARGS...]
 * after_child() is a breakpoint site the parent reaches once the child is reaped.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noipa)) void after_child(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 90;
    pid_t child = strcmp(argv[1], "vfork") == 0 ? vfork() : fork();
    if (child < 0)
        return 91;
    if (child == 0) {
        execv(argv[2], &argv[2]);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) != child)
        return 92;
    after_child();
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 100 + WTERMSIG(status);
}
