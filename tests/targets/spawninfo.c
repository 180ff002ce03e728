/* spawninfo: reports how it was started: one "argv=<arg>" line per argument, one
 * "env=<entry>" line per environment entry, "cwd=<dir>" and "pgid=<n> pid=<n>" on stdout,
 * and "stderr-line" on stderr.  Exit 0.
 */
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("argv=%s\n", argv[i]);
    for (char **e = environ; *e; e++)
        printf("env=%s\n", *e);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return 2;
    printf("cwd=%s\n", cwd);
    printf("pgid=%d pid=%d\n", (int)getpgrp(), (int)getpid());
    fflush(stdout);
    fprintf(stderr, "stderr-line\n");
    return 0;
}
