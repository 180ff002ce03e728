/* Target for the `branch1000` workload: 1000 straight-line instructions, then a jmp.
 *
 * bench_block is written in assembly so the compiler cannot reorder, unroll or branch
 * inside it: a branch step from its first instruction must cross exactly 1000
 * non-branch instructions and stop at bench_block_target, the jmp's destination.
 * bench_block_jmp marks the jmp itself.  The ud2 between them is never executed; it only
 * makes sure the jmp's target is not its fall-through.
 */
__asm__(
    ".text\n"
    ".globl bench_block\n"
    ".type bench_block, @function\n"
    "bench_block:\n"
    ".rept 1000\n"
    "    addq $1, %rax\n"
    ".endr\n"
    ".globl bench_block_jmp\n"
    "bench_block_jmp:\n"
    "    jmp bench_block_target\n"
    "    ud2\n"
    ".globl bench_block_target\n"
    "bench_block_target:\n"
    "    ret\n"
    ".size bench_block, . - bench_block\n");

void bench_block(void);

int main(void)
{
    for (;;)
        bench_block();
}
