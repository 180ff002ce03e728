/* memcmds: memory for the memory command tests (d*, e*, f, s, c, !address).
 *
 * argv[1] is a file the target writes its own view of its memory to, one fact a line:
 *     addr NAME HEXADDRESS            where each object is
 *     bytes NAME HEXBYTES             its bytes, as the program reads them
 * It writes the addresses and the first dump, then calls checkpoint(1) (the tests break
 * there and run commands), dumps again what the commands may have changed, and calls
 * checkpoint(2).  Objects:
 *     pattern   256 bytes, byte i = i
 *     text      "Hello, memory commands!"      wide  the same as UTF-16 (u"...")
 *     longtext  300 letters a..z repeated, then a NUL
 *     values    four qwords of known value     pointers  into the program's own code
 *     scratch   64 zero bytes to write to      cmp_a/cmp_b  64 bytes, differing at 3, 40
 *     needles   a buffer with "needle" at offsets 5, 40 and 41..  (overlapping "QQQQQ")
 *     hole      three pages; the middle one unmapped      noaccess  a PROT_NONE page
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <uchar.h>
#include <unistd.h>

unsigned char pattern[256];
char text[] = "Hello, memory commands!";
char16_t wide[] = u"Wide \u00e9 string";
char longtext[301];
uint64_t values[4] = {0x1122334455667788ULL, 0xfedcba9876543210ULL, 0, 0x8000000000000001ULL};
void *pointers[4];
unsigned char scratch[64];
unsigned char cmp_a[64];
unsigned char cmp_b[64];
unsigned char needles[128];
unsigned char *hole;
unsigned char *noaccess;
static FILE *out;

__attribute__((noipa)) void checkpoint(int n)
{
    __asm__ volatile("" ::: "memory");
    (void)n;
}

__attribute__((noipa)) int helper(int x)
{
    return x * 3 + 1;
}

static void fact(const char *name, const void *address)
{
    fprintf(out, "addr %s %lx\n", name, (unsigned long)(uintptr_t)address);
}

static void dump(const char *name, const unsigned char *p, size_t n)
{
    fprintf(out, "bytes %s ", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", p[i]);
    fprintf(out, "\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    out = fopen(argv[1], "w");
    if (out == NULL)
        return 3;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 256; i++)
        pattern[i] = (unsigned char)i;
    for (int i = 0; i < 300; i++)
        longtext[i] = (char)('a' + i % 26);
    pointers[0] = (void *)checkpoint;
    pointers[1] = (void *)((char *)helper + 5);
    pointers[2] = &pattern[16];
    pointers[3] = NULL;
    for (int i = 0; i < 64; i++) {
        cmp_a[i] = (unsigned char)(i * 5);
        cmp_b[i] = (unsigned char)(i * 5);
    }
    cmp_a[3] = 0xff;
    cmp_b[40] = 0x11;
    memcpy(needles + 5, "needle", 6);
    memcpy(needles + 40, "needle", 6);
    memcpy(needles + 64, "QQQQQ", 5);
    needles[80] = 0x34;
    needles[81] = 0x12; /* the word 0x1234 at an even address */
    needles[91] = 0x34;
    needles[92] = 0x12; /* and at an odd one */
    /* The PROT_NONE page first: mapped after the hole, it would land in it. */
    noaccess = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (noaccess == MAP_FAILED)
        return 5;
    hole = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hole == MAP_FAILED || munmap(hole + page, page) != 0)
        return 4;
    memset(hole, 0x5a, page);
    memset(hole + 2 * page, 0xa5, page);

    fact("pattern", pattern);
    fact("text", text);
    fact("wide", wide);
    fact("longtext", longtext);
    fact("values", values);
    fact("pointers", pointers);
    fact("scratch", scratch);
    fact("cmp_a", cmp_a);
    fact("cmp_b", cmp_b);
    fact("needles", needles);
    fact("hole", hole);
    fact("noaccess", noaccess);
    fact("checkpoint", (void *)checkpoint);
    fact("helper", (void *)helper);
    fprintf(out, "page %lx\n", (unsigned long)page);
    dump("pattern", pattern, sizeof pattern);
    dump("values", (unsigned char *)values, sizeof values);
    dump("hole_end", hole + page - 16, 16);
    fflush(out);

    checkpoint(1);

    dump("scratch", scratch, sizeof scratch);
    dump("hole_end", hole + page - 16, 16);
    dump("hole_next", hole + 2 * page, 16);
    dump("values", (unsigned char *)values, sizeof values);
    dump("text", (unsigned char *)text, sizeof text);
    fprintf(out, "helper %d\n", helper(2));
    fflush(out);

    checkpoint(2);
    return 0;
}
