/* C functions that gcc -O2 clones: constant propagation (.constprop), interprocedural SRA
 * (.isra), partial inlining (.part) and hot/cold splitting (.cold).  Built -O0 too, where
 * nothing is cloned.  Prints a sum so that the calls are not optimised away. */
#include <stdio.h>
#include <stdlib.h>

struct pair {
    long a, b, c, d;
};

volatile int sink;

/* Always called with scale 3: gcc propagates the constant into a .constprop clone. */
__attribute__((noinline)) static long scaled(long v, int scale) {
    long s = 0;
    for (int i = 0; i < scale; i++)
        s += v * i + sink;
    return s;
}

/* Only p->b is used: IPA-SRA passes it by value in a .isra clone. */
__attribute__((noinline)) static long pick(const struct pair *p) {
    return p->b * 2 + sink;
}

__attribute__((cold, noinline)) static void complain(int v) {
    fprintf(stderr, "bad value %d\n", v);
}

/* An error path that calls a cold function: gcc moves it to check.cold. */
static long check(int v) {
    if (v > 1000) {
        complain(v);
        abort();
    }
    if (v < 0)
        return 0;
    long s = 0;
    for (int i = 0; i < v; i++)
        s += (long)i * i + sink;
    return s;
}

static int table[64];

/* A cheap, likely test in front of a big body: partial inlining puts the test in the
 * callers and outlines the body as slow.part.0. */
static long slow(int v) {
    if (__builtin_expect(v < 0, 1))
        return 0;
    long s = 0;
    for (int i = 0; i < v; i++) {
        s += (long)i * i + sink;
        table[i & 63] += (int)s;
        if (table[(i * 7) & 63] > 100)
            s ^= table[(i * 3) & 63];
    }
    printf("slow %ld\n", s);
    return s;
}

int main(int argc, char **argv) {
    (void)argv;
    struct pair p = {1, argc + 1, 3, 4};
    long total = scaled(argc, 3) + scaled(argc + 1, 3) + pick(&p) + check(argc * 10) +
                 check(argc - 5) + check(argc * 7) + slow(argc - 5) + slow(argc - 9) +
                 slow(argc * 3) + slow(argc * 2);
    printf("total %ld\n", total);
    return 0;
}
