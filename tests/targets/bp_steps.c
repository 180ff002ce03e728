/* bp_steps: code of known shape for the stepping commands.
 *
 * Usage: bp_steps OUT MODE [N]; the result line goes to the file OUT.
 *   shapes     call step_here() once and write "leaf L inner I"; exit 0 when both are 2.
 *              step_here (assembly): 12 plain instructions, a taken `jmp` over a `ud2`,
 *              `call step_leaf`, a `cmp`, `call step_leaf` again, `ret`.
 *              step_leaf counts itself in leaf_calls and calls step_inner, which counts
 *              itself in inner_calls; each has one `ret`.
 *   busy       call busy_caller(): it calls busy(), a loop of 1,000,002 instructions, then
 *              counts busy_done; write "busy D"; exit 0 when D == 1.
 *   block      call straight_block(): 1000 `nop`s, a `jmp` over a few int3 to a `ret`;
 *              write "block"; exit 0.
 *   recurse N  call recurse(N), a recursive function (depth counts the live frames);
 *              write "recurse R depth D"; exit 0 when R == N and D == 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile long leaf_calls;
volatile long inner_calls;
volatile long busy_done;
volatile long depth;

__asm__(".text\n"
        ".globl step_here\n"
        ".type step_here, @function\n"
        "step_here:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "    nop\n"
        "    mov $1, %eax\n"
        "    add $2, %eax\n"
        "    sub $1, %eax\n"
        "    xor %edx, %edx\n"
        "    add %eax, %edx\n"
        "    mov %edx, %ecx\n"
        "    shl $1, %ecx\n"
        "    lea 4(%rcx), %r8\n"
        "    mov %r8, %r9\n"
        "    jmp 1f\n"
        "    ud2\n"
        "1:  call step_leaf\n"
        "    cmp $5, %eax\n"
        "    call step_leaf\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size step_here, .-step_here\n"
        "\n"
        ".globl step_leaf\n"
        ".type step_leaf, @function\n"
        "step_leaf:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "    incq leaf_calls(%rip)\n"
        "    call step_inner\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size step_leaf, .-step_leaf\n"
        "\n"
        ".globl step_inner\n"
        ".type step_inner, @function\n"
        "step_inner:\n"
        "    incq inner_calls(%rip)\n"
        "    mov $3, %eax\n"
        "    ret\n"
        ".size step_inner, .-step_inner\n"
        "\n"
        ".globl busy\n"
        ".type busy, @function\n"
        "busy:\n"
        "    mov $500000, %ecx\n"
        "2:  dec %ecx\n"
        "    jnz 2b\n"
        "    ret\n"
        ".size busy, .-busy\n"
        "\n"
        ".globl busy_caller\n"
        ".type busy_caller, @function\n"
        "busy_caller:\n"
        "    push %rbp\n"
        "    mov %rsp, %rbp\n"
        "    call busy\n"
        "    incq busy_done(%rip)\n"
        "    pop %rbp\n"
        "    ret\n"
        ".size busy_caller, .-busy_caller\n"
        "\n"
        ".globl straight_block\n"
        ".type straight_block, @function\n"
        "straight_block:\n"
        "    .rept 1000\n"
        "    nop\n"
        "    .endr\n"
        "    jmp 3f\n"
        "    .rept 8\n"
        "    int3\n"
        "    .endr\n"
        "3:  ret\n"
        ".size straight_block, .-straight_block\n");

void step_here(void);
void busy_caller(void);
void straight_block(void);

__attribute__((noipa)) long recurse(long n)
{
    long r;
    depth++;
    r = n == 0 ? 0 : recurse(n - 1) + 1;
    depth--;
    return r;
}

static const char *out_path;

static void result(const char *text)
{
    FILE *f = fopen(out_path, "w");
    if (f == NULL)
        exit(100);
    fputs(text, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    char line[128];
    if (argc < 3)
        return 99;
    out_path = argv[1];
    const char *mode = argv[2];
    if (strcmp(mode, "shapes") == 0) {
        step_here();
        snprintf(line, sizeof line, "leaf %ld inner %ld\n", leaf_calls, inner_calls);
        result(line);
        return leaf_calls == 2 && inner_calls == 2 ? 0 : 1;
    }
    if (strcmp(mode, "busy") == 0) {
        busy_caller();
        snprintf(line, sizeof line, "busy %ld\n", busy_done);
        result(line);
        return busy_done == 1 ? 0 : 1;
    }
    if (strcmp(mode, "block") == 0) {
        straight_block();
        result("block\n");
        return 0;
    }
    if (strcmp(mode, "recurse") == 0) {
        long n = argc > 3 ? atol(argv[3]) : 5;
        long r = recurse(n);
        snprintf(line, sizeof line, "recurse %ld depth %ld\n", r, depth);
        result(line);
        return r == n && depth == 0 ? 0 : 1;
    }
    return 99;
}
