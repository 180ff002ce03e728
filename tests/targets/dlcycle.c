/* dlcycle: dlopen a library, call its plugin_value(), dlclose it, COUNT times; exit 0 if
 * every call returned 4242.
 *
 * Usage: dlcycle LIBRARY.so [COUNT]
 * Before each dlopen it calls before_open() and after each dlclose after_close(): breakpoint
 * sites for tests that look at the module list between the two.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noipa)) void before_open(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void after_close(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dlcycle LIBRARY.so [COUNT]\n");
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 1;
    for (int i = 0; i < count; i++) {
        before_open();
        void *handle = dlopen(argv[1], RTLD_NOW);
        if (handle == NULL) {
            fprintf(stderr, "dlopen: %s\n", dlerror());
            return 1;
        }
        int (*value)(void) = (int (*)(void))dlsym(handle, "plugin_value");
        if (value == NULL || value() != 4242)
            return 1;
        if (dlclose(handle) != 0)
            return 1;
        after_close();
    }
    return 0;
}
