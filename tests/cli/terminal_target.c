/* terminal_target: a program that uses the terminal it shares with the debugger.
 *
 * Usage: terminal_target read     prompt "name? " (no newline), read a line, print
 *                                 "hello <line>" and exit 0
 *        terminal_target raw      put the terminal in raw mode, print "partial" (no
 *                                 newline), stop at an int3; when resumed, print
 *                                 "still raw" if the mode is still raw (else "cooked"),
 *                                 restore the terminal and exit 0
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int do_read(void)
{
    char line[256];
    fputs("name? ", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return 3;
    line[strcspn(line, "\r\n")] = 0;
    printf("hello %s\n", line);
    return 0;
}

static int do_raw(void)
{
    struct termios saved, raw, now;
    if (tcgetattr(0, &saved) < 0)
        return 4;
    raw = saved;
    cfmakeraw(&raw);
    if (tcsetattr(0, TCSANOW, &raw) < 0)
        return 5;
    fputs("partial", stdout);
    fflush(stdout);
    __asm__ volatile("int3");
    if (tcgetattr(0, &now) < 0)
        return 6;
    fputs((now.c_lflag & ICANON) || (now.c_oflag & OPOST) ? "cooked\r\n" : "still raw\r\n",
          stdout);
    fflush(stdout);
    tcsetattr(0, TCSANOW, &saved);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "read") == 0)
        return do_read();
    if (argc > 1 && strcmp(argv[1], "raw") == 0)
        return do_raw();
    return 2;
}
