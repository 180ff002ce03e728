/* Source-line target: line breakpoints, listing and line stepping (tests/source).
   Line numbers are found by the LINE_* markers, never hard-coded in the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An assembly function: no line info, so a source-line step into it steps out again. */
int plain_add(int a, int b);
__asm__(".text\n"
        ".globl plain_add\n"
        ".type plain_add, @function\n"
        "plain_add:\n"
        "    leal (%rdi,%rsi), %eax\n"
        "    ret\n"
        ".size plain_add, .-plain_add\n");

__attribute__((noinline)) static int fact(int n) /* LINE_FACT_HEAD */
{
    if (n <= 1) /* LINE_FACT_BASE */
        return 1;
    return n * fact(n - 1); /* LINE_FACT_REC */
}

__attribute__((noinline)) static int twice(int x)
{
    int y = x * 2; /* LINE_TWICE_BODY */
    return y;
}

int main(void)
{
    int total = 0; /* LINE_MAIN_FIRST */
    char buf[32];

    /* a blank line follows, then code: LINE_NO_CODE is the comment line */
    total += twice(3); /* LINE_CALL_TWICE */
    snprintf(buf, sizeof buf, "%d", total); /* LINE_LIBC_CALL */
    total += (int)strlen(buf);
    total = plain_add(total, 1); /* LINE_PLAIN_CALL */
    total += fact(4); /* LINE_CALL_FACT */
    for (int i = 0; i < 2; i++) /* LINE_LOOP */
        total += i;
    printf("total %d\n", total); /* LINE_PRINT */
    return 0;
}
