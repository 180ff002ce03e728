/* block: a straight-line block of 1000 `add $1, %rax` instructions followed by a jmp, then
 * a few short blocks ending in a not-taken jnz, a taken jmp, a call and a ret.  Global
 * labels mark every boundary so stepping tests find them by symbol:
 *
 *   block_start   first of the 1000 adds (rax = x on arrival)
 *   block_end     the `jmp block_target` after the adds
 *   block_target  xor/test, then `not_taken: jnz block_bad` (never taken), nop, nop,
 *                 `jmp second_target`
 *   second_target sub $128,%rsp (skip the red zone), `call block_callee`
 *   after_call    add $128,%rsp; the result leaves in rax
 *   block_callee  a lone `ret`
 *
 * main exits 0 when run_block(5) returned 1005, i.e. every add ran exactly once.
 */
__asm__(".text\n"
        ".globl block_callee\n"
        ".type block_callee, @function\n"
        "block_callee:\n\t"
        "ret\n"
        ".size block_callee, .-block_callee\n");

__attribute__((noipa)) long run_block(long x)
{
    long out;
    __asm__ volatile("mov %1, %%rax\n"
                     ".globl block_start\n"
                     "block_start:\n\t"
                     ".rept 1000\n\t"
                     "add $1, %%rax\n\t"
                     ".endr\n"
                     ".globl block_end\n"
                     "block_end:\n\t"
                     "jmp block_target\n\t"
                     "ud2\n\t"
                     "ud2\n"
                     ".globl block_target\n"
                     "block_target:\n\t"
                     "xor %%ecx, %%ecx\n\t"
                     "test %%ecx, %%ecx\n"
                     ".globl not_taken\n"
                     "not_taken:\n\t"
                     "jnz block_bad\n\t"
                     "nop\n\t"
                     "nop\n\t"
                     "jmp second_target\n"
                     ".globl block_bad\n"
                     "block_bad:\n\t"
                     "ud2\n"
                     ".globl second_target\n"
                     "second_target:\n\t"
                     "sub $128, %%rsp\n\t"
                     "call block_callee\n"
                     ".globl after_call\n"
                     "after_call:\n\t"
                     "add $128, %%rsp\n\t"
                     "mov %%rax, %0\n"
                     : "=r"(out)
                     : "r"(x)
                     : "rax", "rcx", "cc", "memory");
    return out;
}

int main(void)
{
    return run_block(5) == 1005 ? 0 : 1;
}
