// Diamond inheritance through virtual bases: D's A subobject is found through the
// vtable, at an offset that differs between a complete B and the B inside a D.
#include <cstdio>

struct A {
    int a = 1;
};
struct B : virtual A {
    int b = 2;
};
struct C : virtual A {
    int c = 3;
};
struct D : B, C {
    int d = 4;
};

extern "C" __attribute__((noinline)) void checkpoint(void) { __asm__ volatile(""); }

int main(void) {
    D obj;
    obj.a = 11;
    obj.b = 22;
    obj.c = 33;
    obj.d = 44;
    B lone;
    lone.a = 5;
    lone.b = 6;
    checkpoint();
    std::printf("%d %d\n", obj.a, lone.a);
    return 0;
}
