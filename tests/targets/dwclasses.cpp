// C++ classes for the DWARF type tests (tests/dwarf): base classes, virtual functions,
// members of class type, references, a namespace, a template and a static member.
// Built with g++ by tests/dwarf/conftest.py; gdb's `ptype /o` is the oracle.
#include <cstdio>

namespace shapes {

struct Point {
    int x;
    int y;
};

class Shape {
  public:
    explicit Shape(int id) : id_(id) {}
    virtual ~Shape() = default;
    virtual int area() const { return 0; }
    int id_;
    static int count;
};

int Shape::count = 0;

class Circle : public Shape {
  public:
    Circle(int id, int r) : Shape(id), radius(r), center{1, 2} {}
    int area() const override { return 3 * radius * radius; }
    int radius;
    Point center;
    char tag[3] = {'c', 'i', 0};
};

struct Mixin {
    long weight = 9;
    short flags : 4;
    short level : 7;
};

class Fancy : public Circle, public Mixin {
  public:
    Fancy() : Circle(7, 2) { flags = 3; level = -5; }
    const Point &where = center;
    double scale = 0.5;
};

template <typename T, int N> struct Buffer {
    T items[N];
    int used;
};

}  // namespace shapes

extern "C" __attribute__((noinline)) void checkpoint(int depth) {
    std::printf("%d\n", depth);
}

__attribute__((noinline)) int measure(shapes::Fancy &fancy, shapes::Buffer<short, 4> *buffer) {
    int total = fancy.area() + buffer->used;
    checkpoint(total);
    return total;
}

int main() {
    shapes::Fancy fancy;
    shapes::Buffer<short, 4> buffer = {{1, 2, 3, 4}, 4};
    shapes::Shape::count = 2;
    return measure(fancy, &buffer) == 0;
}
