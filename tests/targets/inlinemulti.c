/* One always_inline function inlined into three callers: `bp inlinemulti.c:LINE` on a line
 * of its body has code in three places (gdb: one breakpoint, three locations). */
#include <stdio.h>

volatile int sink;

static inline __attribute__((always_inline)) int twice(int v) {
    sink = v * 2; /* LINE_TWICE_BODY */
    return sink + 1;
}

__attribute__((noinline)) int first(int v) {
    return twice(v) + 1;
}

__attribute__((noinline)) int second(int v) {
    return twice(v + 7) * 3;
}

__attribute__((noinline)) int third(int v) {
    return twice(v - 2) - 5;
}

int main(int argc, char **argv) {
    (void)argv;
    printf("%d\n", first(argc) + second(argc) + third(argc));
    return 0;
}
