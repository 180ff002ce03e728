// Small member functions and std::vector, inlined by g++ -O2, around a call that is
// not inlined: tests/source/test_inline_stepping.py steps through run() with gdb as
// the oracle.
#include <cstdio>
#include <vector>

volatile int sink;

__attribute__((noinline)) void note(int v) {
    sink = v;
}

struct Counter {
    int total = 0;
    void add(int v) {
        total += v;
        note(total);
    }
    int get() const {
        return total;
    }
};

__attribute__((noinline)) int run(int n) {
    std::vector<int> values;
    Counter counter;
    for (int i = 0; i < n; i++) {
        values.push_back(i * 2);
        counter.add(values[i]);
    }
    int size = static_cast<int>(values.size());
    return counter.get() + size;
}

int main(int argc, char **argv) {
    (void)argv;
    std::printf("%d\n", run(argc + 2));
    return 0;
}
