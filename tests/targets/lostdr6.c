/* lostdr6: a SIGTRAP that looks like a debug-register trap whose DR6 arrived empty.
 *
 * Usage: lostdr6 N
 *   N times, the thread queues itself SIGTRAP with si_code TRAP_BRKPT and si_addr
 *   slot_site, from a system call that returns to slot_site: the stop the kernel gives a
 *   tracer when KVM delivers an execute slot's #DB with DR6 clear (the pc at the slot's
 *   address, TRAP_BRKPT, RF not set).  Untraced, the first one kills the program.
 *   Prints "done N" and exits 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char slot_site[];

__attribute__((noinline, noipa)) static void fake_lost_trap(pid_t pid, pid_t tid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGTRAP;
    si.si_code = 1; /* TRAP_BRKPT */
    si.si_addr = slot_site;
    register long r10 __asm__("r10") = (long)&si;
    long ret;
    __asm__ volatile("syscall\n"
                     ".globl slot_site\n"
                     "slot_site: nop\n"
                     : "=a"(ret)
                     : "a"((long)SYS_rt_tgsigqueueinfo), "D"((long)pid), "S"((long)tid),
                       "d"((long)SIGTRAP), "r"(r10)
                     : "rcx", "r11", "memory");
    if (ret != 0) {
        fprintf(stderr, "rt_tgsigqueueinfo: %ld\n", ret);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1;
    pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
    for (long i = 0; i < n; i++)
        fake_lost_trap(pid, tid);
    printf("done %ld\n", n);
    return 0;
}
