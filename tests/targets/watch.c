/* watch: writes each of four aligned globals of 1, 2, 4 and 8 bytes exactly once (in that
 * order, in do_writes), then reads r4 once (in do_reads), for hardware watchpoint tests.
 *
 * watch_ready() is a breakpoint site before any write.  Exit 0 when every value read
 * back is the one written.
 */
#include <stdint.h>

volatile uint8_t w1 __attribute__((aligned(8)));
volatile uint16_t w2 __attribute__((aligned(8)));
volatile uint32_t w4 __attribute__((aligned(8)));
volatile uint64_t w8 __attribute__((aligned(8)));
volatile uint32_t r4 __attribute__((aligned(8))) = 0x12345678;
volatile uint32_t sink;

__attribute__((noipa)) void watch_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void do_writes(void)
{
    w1 = 0x11;
    w2 = 0x2222;
    w4 = 0x44444444;
    w8 = 0x8888888888888888ULL;
}

__attribute__((noipa)) void do_reads(void)
{
    sink = r4;
}

int main(void)
{
    watch_ready();
    do_writes();
    do_reads();
    return w1 == 0x11 && w2 == 0x2222 && w4 == 0x44444444 && w8 == 0x8888888888888888ULL &&
                   sink == 0x12345678
               ? 0
               : 1;
}
