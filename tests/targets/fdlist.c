/* fdlist: reports the file descriptors it was started with.
 *
 * Prints one "fd=N" line per open descriptor (read from /proc/self/fd, the directory's
 * own fd left out), then "tty=0|1" for each of fds 0-2 ("tty0=1" ...), then copies one
 * line of stdin as "stdin=<line>" (or "stdin=EOF").  Exit 0.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 2;
    int own = dirfd(dir);
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        if (d->d_name[0] < '0' || d->d_name[0] > '9')
            continue;
        int fd = atoi(d->d_name);
        if (fd != own)
            printf("fd=%d\n", fd);
    }
    closedir(dir);
    for (int fd = 0; fd < 3; fd++)
        printf("tty%d=%d\n", fd, isatty(fd));
    char line[256];
    if (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        printf("stdin=%s\n", line);
    } else {
        printf("stdin=EOF\n");
    }
    fflush(stdout);
    return 0;
}
