/* Target of the C-expression tests (tests/cexpr): a list walked in a loop (C conditions
 * on breakpoints), functions returning every kind of value the SysV ABI returns (`gu`'s
 * return value, against gdb's `finish`), and a global and a struct field changed several
 * times (watchpoints' old and new values).  Built -O0 -g; gdb is the oracle. */
#include <stdio.h>
#include <string.h>

struct node {
    struct node *next;
    int value;
};

enum mood { CALM, ANGRY = 7, SLEEPY };
struct pair { int a; int b; };
struct dpair { double x; double y; };
struct big { long v[5]; };

struct node nodes[8];
struct node *g_list;
int counter;
struct { int hits; long total; } stats;
long double g_ld[5] = {7.0L / 3, -2.5L, 1e-30L, 1.0L / 300000, 1e25L};

__attribute__((noinline)) int ret_int(int x) { return x * 3 - 100; }
__attribute__((noinline)) char ret_char(int x) { return (char)('a' + x); }
__attribute__((noinline)) unsigned long ret_ulong(int x) { return 0xfffffffffffffff0UL + (unsigned long)x; }
__attribute__((noinline)) double ret_double(int x) { return x / 4.0 + 0.1; }
__attribute__((noinline)) float ret_float(int x) { return (float)x * 1.5f; }
__attribute__((noinline)) struct node *ret_pointer(int x) { return &nodes[x]; }
__attribute__((noinline)) enum mood ret_enum(int x) { return x ? ANGRY : CALM; }
__attribute__((noinline)) struct pair ret_pair(int x) { struct pair p = {x, -x}; return p; }
__attribute__((noinline)) struct dpair ret_dpair(int x) { struct dpair p = {x + 0.5, x * 2.25}; return p; }
__attribute__((noinline)) struct big ret_big(int x) {
    struct big b;
    for (int i = 0; i < 5; i++) b.v[i] = x * 10 + i;
    return b;
}
__attribute__((noinline)) void ret_void(int x) { counter += x; }
__attribute__((noinline)) long double ret_ldouble(int x) { return x / 3.0L; }

static void build(void)
{
    for (int i = 0; i < 8; i++) {
        nodes[i].value = i * i;
        nodes[i].next = i == 7 ? NULL : &nodes[i + 1];
    }
    /* A break in the chain: node 3 ends a first run. */
    nodes[3].next = NULL;
    g_list = &nodes[0];
}

static int walk(void)
{
    int count = 0;
    for (int i = 0; i < 8; i++) {
        struct node *p = &nodes[i];
        count += p->value % 5;
        counter++; /* walk-line */
    }
    return count;
}

static void changes(void)
{
    counter = 1;
    stats.hits = 10;
    counter = 2;
    stats.hits += 5;
    stats.total = 1234567890123L;
    counter = counter * 21;
    counter = 42; /* the same value: gdb's watch does not stop */
    stats.hits = -3;
}

int main(void)
{
    build();
    int total = walk();
    counter = 0;
    changes();
    long sink = ret_int(7) + ret_char(2) + (long)ret_ulong(3) + (long)ret_double(5) +
                (long)ret_float(3) + ret_pointer(2)->value + ret_enum(1) + ret_pair(4).a +
                (long)ret_dpair(3).y + ret_big(2).v[4] + (long)ret_ldouble(7);
    ret_void(1);
    printf("%d %ld %d\n", total, sink, counter);
    return 0;
}
