/* branches: real library code for the branch-classification tests.
 *
 * work() runs libc's strlen, memcpy, memchr and strcmp (whatever variants the dynamic
 * linker picked for this CPU), a `loop` instruction and a system call, on fixed data, and
 * returns a checksum; main prints it ("sum N") and exits 0.  Running work() again from its
 * entry with the same registers follows the same path (it only writes its own buffers,
 * with the same values).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char text[] = "the quick brown fox jumps over the lazy dog, again and again";
static char copy[sizeof text];

__asm__(".text\n"
        ".globl counted_loop\n"
        ".type counted_loop, @function\n"
        "counted_loop:\n"
        "    mov $3, %ecx\n"
        "    xor %eax, %eax\n"
        "1:  add $2, %eax\n"
        "    loop 1b\n"
        "    ret\n"
        ".size counted_loop, .-counted_loop\n");

int counted_loop(void);

__attribute__((noinline)) long work(void)
{
    long sum = (long)strlen(text);
    memcpy(copy, text, sizeof text);
    const char *p = memchr(copy, 'z', sizeof copy);
    sum += p ? p - copy : -1;
    sum += strcmp(copy, text) == 0;
    sum += counted_loop();
    sum += getppid() > 0;
    return sum;
}

int main(void)
{
    printf("sum %ld\n", work());
    return 0;
}
