/* A shared library with symbol versions: func@VER_1 (hidden, old), func@@VER_2
 * (default) and zzz@@VER_2, written with .symver. */
int old_impl(int x) { return x + 1; }
int new_impl(int x) { return x + 2; }
int other(int x) { return x * 2; }
__asm__(".symver old_impl, func@VER_1");
__asm__(".symver new_impl, func@@VER_2");
__asm__(".symver other, zzz@@VER_2");
