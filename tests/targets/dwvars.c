/* Variables and types for the DWARF tests (tests/dwarf): every kind of C type the type
 * reader and value printer handle, held in locals, parameters and globals of a small
 * recursion that stops in `checkpoint`.  Built -O0 and -O2; gdb is the oracle. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef unsigned int uint_t;
typedef int (*binop_t)(int, int);

enum color { RED, GREEN = 5, BLUE };
enum flags { F_A = 1, F_B = 2, F_C = 4 };

struct point {
    int x;
    int y;
};

struct bits {
    unsigned a : 3;
    signed b : 5;
    unsigned c : 1;
    unsigned long long d : 40;
    char tail;
};

union number {
    int i;
    float f;
    unsigned char raw[4];
};

struct node {
    struct node *next;
    const char *label;
    double weight;
    struct point where;
    enum color color;
    union number num;
    struct bits b;
    short grid[2][3];
    binop_t op;
    volatile uint_t counter;
};

struct packet {
    uint32_t length;
    unsigned char data[];
};

__thread int tls_counter = 17;
struct node global_nodes[2];
int global_counter = 42;
const char *global_label = "global";
static volatile int sink;

__attribute__((noinline)) static int add(int a, int b) { return a + b; }

__attribute__((noinline)) void checkpoint(int depth) {
    sink = depth;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) int with_vla(int n) {
    int vla[n];
    for (int i = 0; i < n; i++)
        vla[i] = i * i;
    checkpoint(-1);
    sink = vla[n - 1];
    return vla[0];
}

__attribute__((noinline)) int recurse(struct node *head, int depth, char tag) {
    int local = depth * 10;
    long scaled = (long)depth * 1000;
    if (depth > 0) {
        int inner = local + 1;
        sink = inner;
        return recurse(head->next ? head->next : head, depth - 1, (char)(tag + 1)) + inner;
    }
    tls_counter += 1;
    checkpoint(depth);
    sink = (int)scaled;
    return local + (int)scaled;
}

int main(int argc, char **argv) {
    struct node second;
    struct node first;
    struct packet *pkt;
    enum flags fl = F_A | F_C;
    uint_t count = 3;
    unsigned char buf[sizeof(struct packet) + 4];
    float ratio = 2.5f;
    _Bool ok = 1;

    memset(&first, 0, sizeof first);
    memset(&second, 0, sizeof second);
    first.next = &second;
    first.label = "first";
    first.weight = 1.5;
    first.where.x = 3;
    first.where.y = -4;
    first.color = GREEN;
    first.num.i = 0x41424344;
    first.b.a = 5;
    first.b.b = -3;
    first.b.c = 1;
    first.b.d = 0x123456789aULL;
    first.b.tail = 'z';
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            first.grid[i][j] = (short)(i * 10 + j);
    first.op = add;
    first.counter = 7;
    second.label = "second";
    second.color = BLUE;
    second.num.f = 0.25f;
    second.weight = -3.0;
    global_nodes[0] = first;
    global_nodes[1].label = "g1";
    pkt = (struct packet *)buf;
    pkt->length = 4;
    memcpy(pkt->data, "abcd", 4);
    sink = add(argc, (int)count) + (int)fl + (int)ratio + ok;
    int total = recurse(&first, 3, 'a');
    total += with_vla(argc + 4);
    printf("%d %s %u\n", total, argv[0], pkt->length);
    return 0;
}
