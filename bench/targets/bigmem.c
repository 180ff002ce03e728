/* Target for the `read16m` workload: 16 MiB of initialised memory at a known symbol.
 *
 * The buffer is filled before bench_ready() so every page is really mapped (reading
 * never-touched pages would only map the shared zero page and flatter both readers).
 */
#include <string.h>

#define BENCH_BUF_SIZE (16u << 20)

char bench_buf[BENCH_BUF_SIZE] __attribute__((aligned(4096)));

__attribute__((noinline)) void bench_ready(void) { __asm__ volatile("" ::: "memory"); }

int main(void)
{
    memset(bench_buf, 0x5a, sizeof bench_buf);
    bench_ready();
    for (;;)
        __asm__ volatile("pause");
}
