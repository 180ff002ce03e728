/* sigcount: raises SIGUSR1 at itself, counts what its own handler saw, and says so.
 *
 * Usage: sigcount MODE OUT N
 *   caught    install a SIGUSR1 handler, raise(SIGUSR1) N times (N = 0: forever), write
 *             "handled K" to OUT (K = handler runs) and exit 0.
 *   uncaught  no handler (SIGUSR1's default action kills): raise(SIGUSR1) N times, then
 *             write "survived" and exit 0 (only when every signal was suppressed).
 *
 * The handler count is also the global `handled`, for a debugger to read.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t handled;
volatile long raised;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 90;
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return 91;
    long n = atol(argv[3]);
    int caught = strcmp(argv[1], "caught") == 0;
    if (caught) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL) != 0)
            return 92;
    }
    for (raised = 0; n == 0 || raised < n; raised++)
        raise(SIGUSR1);
    char line[64];
    if (caught)
        snprintf(line, sizeof line, "handled %d\n", (int)handled);
    else
        snprintf(line, sizeof line, "survived\n");
    size_t len = strlen(line);
    if (write(fd, line, len) != (ssize_t)len)
        return 93;
    return 0;
}
