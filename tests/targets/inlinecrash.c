/* A crash inside a function gcc inlined (always_inline, so at -O0 too): the crash
 * report's stack shows the inlined function as a frame of its own, as gdb's bt does. */
#include <stddef.h>

volatile int *volatile target;

static inline __attribute__((always_inline)) int poke(int v) {
    *target = v; /* the crash: target is NULL */
    return v + 1;
}

__attribute__((noinline)) int crasher(int v) {
    return poke(v * 2);
}

int main(int argc, char **argv) {
    (void)argv;
    target = NULL;
    return crasher(argc);
}
