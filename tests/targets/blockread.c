/* blockread: prints "ready", blocks in read() on stdin, then echoes what it read as
 * "got:<data>" and exits 0.  A read that fails (EINTR after an attach) exits 2.
 *
 * Used to check that attach/detach does not disturb a blocked read (hazards §2,
 * scenario 6) and as a quiet running target that produces no events.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char buf[256];
    printf("ready\n");
    fflush(stdout);
    ssize_t n = read(0, buf, sizeof buf - 1);
    if (n < 0) {
        printf("error:%s\n", strerror(errno));
        return 2;
    }
    buf[n] = 0;
    printf("got:%s", buf);
    return 0;
}
