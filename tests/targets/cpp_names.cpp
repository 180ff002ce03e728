// C++ names for demangling tests: namespaces, a class with overloads, a template, operators,
// a lambda and an anonymous namespace.  main calls each once, then stops on ns::K::f(int)
// when a breakpoint is set there; the printed sum is the oracle that everything ran.
#include <cstdio>

namespace ns {

struct V {
    int x;
    V operator+(const V &o) const { return V{x + o.x}; }
    bool operator==(const V &o) const { return x == o.x; }
    bool operator!=(const V &o) const { return x != o.x; }
};

class K {
  public:
    explicit K(int base) : base_(base) {}
    __attribute__((noinline)) int f(int v) { return base_ + v; }
    __attribute__((noinline)) double f(double v) { return base_ * v; }
    __attribute__((noinline)) static int count() { return 42; }

  private:
    int base_;
};

template <typename T> struct Box {
    T value;
    __attribute__((noinline)) T get() const { return value; }
};

template <typename T> __attribute__((noinline)) T add(T a, T b) { return a + b; }

}  // namespace ns

namespace {
__attribute__((noinline)) int hidden(int v) { return v * 3; }
}  // namespace

int main() {
    ns::K k(2);
    ns::Box<int> bi{7};
    ns::Box<double> bd{1.5};
    ns::V a{1}, b{2};
    auto twice = [](int v) __attribute__((noinline)) { return v * 2; };
    int total = k.f(1) + static_cast<int>(k.f(2.0)) + ns::K::count() + bi.get() +
                static_cast<int>(bd.get()) + ns::add<int>(3, 4) + (a + b).x + (a == b) + (a != b) +
                hidden(5) + twice(6);
    std::printf("total %d\n", total);
    return 0;
}
