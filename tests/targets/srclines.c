/* Source-line target: line breakpoints, listing and line stepping (tests/source).
   Line numbers are found by the LINE_* markers, never hard-coded in the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fact(int n) /* LINE_FACT_HEAD */
{
    if (n <= 1) /* LINE_FACT_BASE */
        return 1;
    return n * fact(n - 1); /* LINE_FACT_REC */
}

static int twice(int x)
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
    total += fact(4); /* LINE_CALL_FACT */
    for (int i = 0; i < 2; i++) /* LINE_LOOP */
        total += i;
    printf("total %d\n", total); /* LINE_PRINT */
    return 0;
}
