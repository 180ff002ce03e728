/* memory: memory layouts for the read/write tests, published through global pointers.
 *
 *   guard_page  a readable page filled with (i * 7 + 3) & 0xff; the next page is PROT_NONE
 *   hole_page   a readable page with the same fill; the next page is unmapped
 *   big         big_size (16 MiB) bytes, byte i = i % 251
 *   scratch     64 writable bytes
 * main calls mem_ready() (breakpoint site) once all of it exists, then exits with
 * answer() (1 unless a test patched its text) + 100 if scratch starts with `magic`.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

unsigned char scratch[64];
unsigned char *guard_page;
unsigned char *hole_page;
unsigned char *big;
unsigned long big_size = 16UL << 20;
const char magic[16] = "written-by-test";

__attribute__((noipa)) int answer(void)
{
    return 1;
}

__attribute__((noipa)) void mem_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

static unsigned char *map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        exit(90);
    return p;
}

int main(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    big = map(big_size);
    for (unsigned long i = 0; i < big_size; i++)
        big[i] = (unsigned char)(i % 251);
    guard_page = map(2 * page);
    if (mprotect(guard_page + page, page, PROT_NONE) != 0)
        return 91;
    /* Three pages with the middle one unmapped: a hole that later mmaps will not fill. */
    hole_page = map(3 * page);
    if (munmap(hole_page + page, page) != 0)
        return 92;
    for (size_t i = 0; i < page; i++)
        guard_page[i] = hole_page[i] = (unsigned char)((i * 7 + 3) & 0xff);
    mem_ready();
    return answer() + (memcmp(scratch, magic, sizeof magic) == 0 ? 100 : 0);
}
