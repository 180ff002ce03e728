/* Target for the `step` and `trace` workloads: one thread spinning in user space.
 *
 * The tracer runs it to bench_ready() (a breakpoint there), then single-steps from that
 * point.  Everything after bench_ready() is plain user-space arithmetic with no system
 * call, so every single step costs the same for the raw tracer and for pydbg and both
 * execute the identical instruction stream.
 */
#include <stdint.h>

volatile uint64_t bench_counter;

/* noinline + the asm barrier keep a real call with a symbol the tracer can address. */
__attribute__((noinline)) void bench_ready(void) { __asm__ volatile("" ::: "memory"); }

int main(void)
{
    bench_ready();
    for (;;)
        bench_counter++;
}
