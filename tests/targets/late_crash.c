/* late_crash: a process to attach to that crashes, exits or hangs when told.
 *
 * Usage: late_crash
 * Prints "ready" once started, then reads one line from stdin:
 *   segv       main -> outer -> middle -> inner, which writes to the unmapped CRASH_ADDRESS
 *   exit N     exit(N)
 *   (nothing)  blocks in read(): a hang, until a line or EOF comes
 * After the line it acts on it; at EOF it exits 9.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRASH_ADDRESS ((uintptr_t)0xdead0)

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

__attribute__((noipa)) int wait_for_order(char *line, size_t size)
{
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t n = read(0, line + used, 1);
        if (n <= 0)
            return -1;
        if (line[used] == '\n')
            break;
        used++;
    }
    line[used] = '\0';
    return 0;
}

int main(void)
{
    char line[64];
    printf("ready\n");
    fflush(stdout);
    if (wait_for_order(line, sizeof line) != 0)
        return 9;
    if (!strcmp(line, "segv"))
        outer();
    else if (!strncmp(line, "exit ", 5))
        return atoi(line + 5);
    return 8;
}
