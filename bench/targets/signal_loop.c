/* Target for the `signal` workload: raises SIGUSR1 at itself in an endless loop.
 *
 * Each raise() produces one signal-delivery-stop; the tracer resumes with the signal so
 * the handler runs, as a debugger passing the signal through would.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>

volatile sig_atomic_t bench_handled;  /* read by the engine-signal-filtered workload */

static void on_usr1(int sig)
{
    (void)sig;
    bench_handled++;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    for (;;)
        raise(SIGUSR1);
}
