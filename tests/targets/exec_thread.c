/* exec_thread: three threads; the third (a non-leader) calls execv(PROGRAM, ARGS...) while
 * main and a sleeper thread are still alive (hazards §6.2, scenario 21).
 *
 * Usage: exec_thread PROGRAM [ARGS...]
 * The sleeper is created first, the exec'ing thread second, so a tracer can tell the old
 * tid of the exec'ing thread from the order of CLONE events.  old_image_only() is a
 * breakpoint site that exists only in this image.
 */
#include <pthread.h>
#include <unistd.h>

static char **exec_argv;

__attribute__((noipa)) void old_image_only(void)
{
    __asm__ volatile("" ::: "memory");
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void *execer(void *arg)
{
    (void)arg;
    usleep(20 * 1000);
    execv(exec_argv[0], exec_argv);
    _exit(127);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 90;
    exec_argv = &argv[1];
    pthread_t a, b;
    if (pthread_create(&a, NULL, sleeper, NULL) != 0)
        return 2;
    if (pthread_create(&b, NULL, execer, NULL) != 0)
        return 2;
    for (;;) {
        old_image_only();
        pause();
    }
}
