/* C++ source-line target (tests/source): methods, templates, libstdc++ headers.
   Built by tests/source/conftest.py with g++; lines found by the LINE_* markers. */
#include <cstdio>
#include <vector>

namespace ns {
struct K {
    int base;
    int f(int x) const /* LINE_K_F */
    {
        int y = x + base;
        return y * 2;
    }
};
template <typename T> T twice(T v)
{
    return v + v;
}
}  // namespace ns

int main()
{
    ns::K k{3}; /* LINE_CPP_MAIN */
    std::vector<int> v;
    v.push_back(k.f(1));
    int t = ns::twice(v[0]);
    double d = ns::twice(1.5);
    std::printf("%d %g\n", t, d);
    return 0;
}
