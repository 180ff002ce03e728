/* churn: creates short-lived threads non-stop (two creators, each starting and joining
 * batches of 4 threads that exit at once) until stdin reaches EOF; then exits 0.
 *
 * Exercises stop-all against threads that appear and vanish meanwhile (hazards §6.1,
 * scenario 19).  `created` counts threads that ran.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int quit;
volatile long created;

static void *short_lived(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&created, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void *creator(void *arg)
{
    (void)arg;
    while (!quit) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, short_lived, NULL) != 0)
                exit(2);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
    }
    return NULL;
}

int main(void)
{
    pthread_t c[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&c[i], NULL, creator, NULL) != 0)
            return 2;
    char buf[64];
    ssize_t r;
    while ((r = read(0, buf, sizeof buf)) > 0)
        ;
    quit = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    return r == 0 && created > 0 ? 0 : 3;
}
