/* Target for the `syscall-count` workload: raw getpid system calls in an endless loop.
 *
 * Under PTRACE_SYSCALL each call is two stops (entry and exit); the tracers count them.
 */
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    for (;;)
        syscall(SYS_getpid);
}
