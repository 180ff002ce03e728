/* Functions gcc inlines (static inline, always_inline), two deep, around a call to a
 * function it may not inline: a breakpoint on probe() stops with the inlined frames
 * leaf <- middle in outer's body.  Built -O2 (the pie-O2 variant) for the inline-frame
 * tests; -O0 keeps every function whole. */
#include <stdio.h>

volatile int sink;

__attribute__((noinline)) void probe(int v) {
    sink = v;
}

static inline __attribute__((always_inline)) int leaf(int v) {
    probe(v * 3);
    return v + sink;
}

static inline __attribute__((always_inline)) int middle(int v) {
    int r = leaf(v + 1);
    return r * 2;
}

__attribute__((noinline)) int outer(int v) {
    int r = middle(v);
    sink = r;
    return r + 1;
}

int main(int argc, char **argv) {
    (void)argv;
    printf("result %d\n", outer(argc));
    return 0;
}
