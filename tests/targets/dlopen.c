/* dlopen: load, call and unload a shared library one step at a time, driven by stdin.
 *
 * Usage: dlopen LIBRARY.so
 * After main starts it reports "ready".  Then each line read on stdin is one command:
 *
 *   open    dlopen(LIBRARY, RTLD_NOW)                 -> "opened" (or "error ...")
 *   call    dlsym("plugin_value") and call it         -> "called 4242"
 *   close   dlclose the handle                        -> "closed"
 *   mopen   dlmopen(LM_ID_NEWLM, LIBRARY, RTLD_NOW)   -> "mopened" (a second namespace)
 *   mclose  dlclose the dlmopen handle                -> "mclosed"
 *
 * and EOF ends the program with status 0 (1 if a command failed).  Every reply goes through
 * checkpoint(), a breakpoint site: a traced test stops there once the command is complete,
 * with the reply already written, so it never has to read a pipe while the target runs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

__attribute__((noipa)) void checkpoint(const char *reply)
{
    printf("%s\n", reply);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dlopen LIBRARY.so\n");
        return 2;
    }
    void *handle = NULL;
    void *mhandle = NULL;
    int failed = 0;
    char line[64];
    char reply[128];
    checkpoint("ready");
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "open") == 0) {
            handle = dlopen(argv[1], RTLD_NOW);
            snprintf(reply, sizeof reply, "%s", handle ? "opened" : "error open");
        } else if (strcmp(line, "call") == 0) {
            int (*fn)(void) = handle ? (int (*)(void))dlsym(handle, "plugin_value") : NULL;
            if (fn)
                snprintf(reply, sizeof reply, "called %d", fn());
            else
                snprintf(reply, sizeof reply, "error call");
        } else if (strcmp(line, "close") == 0) {
            int rc = handle ? dlclose(handle) : -1;
            handle = NULL;
            snprintf(reply, sizeof reply, "%s", rc == 0 ? "closed" : "error close");
        } else if (strcmp(line, "mopen") == 0) {
            mhandle = dlmopen(LM_ID_NEWLM, argv[1], RTLD_NOW);
            snprintf(reply, sizeof reply, "%s", mhandle ? "mopened" : "error mopen");
        } else if (strcmp(line, "mclose") == 0) {
            int rc = mhandle ? dlclose(mhandle) : -1;
            mhandle = NULL;
            snprintf(reply, sizeof reply, "%s", rc == 0 ? "mclosed" : "error mclose");
        } else {
            snprintf(reply, sizeof reply, "error unknown %.40s", line);
        }
        if (strncmp(reply, "error", 5) == 0)
            failed = 1;
        checkpoint(reply);
    }
    return failed;
}
