/* fpu: loads known values into SSE/AVX/x87 registers and stops at a global label while
 * they are live, then stores other registers back to globals for the tracer to read.
 *
 *   sse_loaded   xmm0 = xmm_in, ST(0) = 1.0 (fld1); then xmm2 is stored to xmm_out
 *   avx_loaded   ymm1 = ymm_in (only when the CPU has AVX); then ymm3 -> ymm_out
 *   fpu_done()   called last (breakpoint site for reading the outputs)
 * Exit 0.
 */
#include <string.h>

unsigned char xmm_in[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                            0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
unsigned char ymm_in[32] = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
                            0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
                            0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};
unsigned char xmm_out[16];
unsigned char ymm_out[32];
int avx_ran;

__attribute__((noipa)) void fpu_sse(void)
{
    __asm__ volatile("movdqu xmm_in(%%rip), %%xmm0\n\t"
                     "pxor %%xmm2, %%xmm2\n\t"
                     "fld1\n"
                     ".globl sse_loaded\n"
                     "sse_loaded:\n\t"
                     "nop\n\t"
                     "movdqu %%xmm2, xmm_out(%%rip)\n\t"
                     "fstp %%st(0)\n"
                     ::: "xmm0", "xmm2", "memory");
}

__attribute__((noipa)) void fpu_avx(void)
{
    __asm__ volatile("vmovdqu ymm_in(%%rip), %%ymm1\n\t"
                     "vpxor %%ymm3, %%ymm3, %%ymm3\n"
                     ".globl avx_loaded\n"
                     "avx_loaded:\n\t"
                     "nop\n\t"
                     "vmovdqu %%ymm3, ymm_out(%%rip)\n\t"
                     "vzeroupper\n"
                     ::: "xmm1", "xmm3", "memory");
    avx_ran = 1;
}

__attribute__((noipa)) void fpu_done(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    fpu_sse();
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx"))
        fpu_avx();
    fpu_done();
    return 0;
}
