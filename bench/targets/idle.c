/* Target for the `idle` measurement: computes for about two seconds, then exits 0.
 *
 * While it runs the tracer has nothing to do but wait; the benchmark measures how much
 * CPU the tracer burns meanwhile (it must block, never poll).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile uint64_t bench_counter;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    double end = now() + seconds;
    while (now() < end)
        for (int i = 0; i < 100000; i++)
            bench_counter++;
    return 0;
}
