/* Target for the `int3` and `hwbp` workloads: calls bench_hit() in an endless loop.
 *
 * The tracer puts a software or a hardware execute breakpoint on bench_hit and counts
 * hits; the loop body is tiny so the measured rate is the cost of the stop itself.
 */
#include <stdint.h>

volatile uint64_t bench_counter;

__attribute__((noinline)) void bench_hit(void) { bench_counter++; }

int main(void)
{
    for (;;)
        bench_hit();
}
