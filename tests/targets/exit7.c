/* exit7: four worker threads plus main; the process exits with status 7 in one of three
 * ways, each passing a breakpoint site first so a tracer can stop everything there.
 *
 * Usage: exit7 group|threads|leader
 *   group    workers sleep forever; main calls about_to_exit() then exit(7): exit_group
 *            takes the (possibly ptrace-stopped) workers with it.
 *   threads  each worker calls worker_exit() and returns; main joins them, then
 *            about_to_exit() and exit(7).
 *   leader   main calls pthread_exit() (zombie leader, hazards §6.2); the first worker
 *            waits until the leader is a zombie, calls about_to_exit() and exit(7).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *mode;
static pid_t leader;

__attribute__((noipa)) void about_to_exit(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noipa)) void worker_exit(void)
{
    __asm__ volatile("" ::: "memory");
}

static int leader_is_zombie(void)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)leader);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'Z';
}

static void *worker(void *arg)
{
    long index = (long)arg;
    if (strcmp(mode, "threads") == 0) {
        worker_exit();
        return NULL;
    }
    if (strcmp(mode, "leader") == 0 && index == 0) {
        while (!leader_is_zombie())
            usleep(1000);
        about_to_exit();
        exit(7);
    }
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "group";
    leader = getpid();
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 2;
    if (strcmp(mode, "leader") == 0)
        pthread_exit(NULL);
    if (strcmp(mode, "threads") == 0)
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
    about_to_exit();
    exit(7);
}
