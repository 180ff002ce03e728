/* Target for the ELF symbol and line tests: static and global functions, a cold path
 * (gcc -O2 splits it into `compute.cold`), data in .data/.bss/.rodata, a weak symbol,
 * a name with `__` (gdb prints it Ada-decoded), calls through the PLT, and a libc
 * function whose address the code takes (a non-PIE build gives it a canonical PLT
 * address, i.e. a dynamic symbol with a value). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int counter;
int global_data = 42;
const char *greeting = "hello";
static double table[64];
__attribute__((weak)) int weak_knob = 3;

__attribute__((noinline)) static int helper(int x) {
    return x * 3 + counter; /* LINE_HELPER */
}

__attribute__((noinline, cold)) void rarely(const char *why) {
    fprintf(stderr, "rare: %s\n", why);
    abort();
}

__attribute__((noinline)) int compute(int n) {
    int acc = 0;
    for (int i = 0; i < n; i++) {
        acc += helper(i); /* LINE_LOOP */
        if (acc < 0)
            rarely("overflow");
    }
    return acc;
}

__attribute__((noinline)) int odd__name(int x) {
    return x ^ weak_knob;
}

int (*fp)(const char *) = puts;

int main(int argc, char **argv) {
    for (int i = 0; i < 64; i++)
        table[i] = sqrt((double)i);
    counter = argc;
    char *buf = malloc(64);
    strcpy(buf, argv[0]);
    printf("%d %s %f %d\n", compute(argc * 10), buf, table[3], odd__name(argc));
    printf("%p\n", (void *)&strlen);
    fp(greeting);
    free(buf);
    return global_data - 42;
}
