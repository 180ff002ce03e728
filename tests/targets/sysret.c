/* sysret: makes one raw getpid system call at the global label getpid_insn (the `syscall`
 * instruction itself; after_getpid follows it) and exits 0 if the result is the real pid,
 * 42 if it is 1234 (a tracer rewrote the return value), 1 otherwise.
 */
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noipa)) long raw_getpid(void)
{
    long ret;
    __asm__ volatile("mov $39, %%eax\n"
                     ".globl getpid_insn\n"
                     "getpid_insn:\n\t"
                     "syscall\n"
                     ".globl after_getpid\n"
                     "after_getpid:\n\t"
                     "mov %%rax, %0\n"
                     : "=r"(ret)
                     :
                     : "rax", "rcx", "r11", "memory");
    return ret;
}

int main(void)
{
    long r = raw_getpid();
    if (r == 1234)
        return 42;
    return r == (long)syscall(SYS_getpid) ? 0 : 1;
}
