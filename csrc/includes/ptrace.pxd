# ptrace.pxd - C declarations for ptrace(2), its request and option constants, and the
# register structures it transfers.  Declarations only.

from libc.stdint cimport uint8_t, uint32_t, uint64_t
from posix.types cimport pid_t


cdef extern from "<sys/ptrace.h>" nogil:
    long ptrace(int request, pid_t pid, void *addr, void *data)

    enum:
        PTRACE_TRACEME
        PTRACE_PEEKUSER
        PTRACE_POKEUSER
        PTRACE_PEEKDATA
        PTRACE_POKEDATA
        PTRACE_CONT
        PTRACE_KILL
        PTRACE_SINGLESTEP
        PTRACE_GETREGS
        PTRACE_SETREGS
        PTRACE_DETACH
        PTRACE_SYSCALL
        PTRACE_SINGLEBLOCK
        PTRACE_GETEVENTMSG
        PTRACE_GETSIGINFO
        PTRACE_SETSIGINFO
        PTRACE_GETREGSET
        PTRACE_SETREGSET
        PTRACE_SEIZE
        PTRACE_INTERRUPT
        PTRACE_LISTEN
        PTRACE_GET_SYSCALL_INFO

        PTRACE_O_TRACESYSGOOD
        PTRACE_O_TRACEFORK
        PTRACE_O_TRACEVFORK
        PTRACE_O_TRACECLONE
        PTRACE_O_TRACEEXEC
        PTRACE_O_TRACEVFORKDONE
        PTRACE_O_TRACEEXIT
        PTRACE_O_TRACESECCOMP
        PTRACE_O_EXITKILL

        PTRACE_EVENT_FORK
        PTRACE_EVENT_VFORK
        PTRACE_EVENT_CLONE
        PTRACE_EVENT_EXEC
        PTRACE_EVENT_VFORK_DONE
        PTRACE_EVENT_EXIT
        PTRACE_EVENT_SECCOMP
        PTRACE_EVENT_STOP


cdef extern from "<sys/user.h>" nogil:
    struct user_regs_struct:
        unsigned long long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8
        unsigned long long rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags
        unsigned long long rsp, ss, fs_base, gs_base, ds, es, fs, gs


cdef extern from "<linux/elf.h>" nogil:
    enum:
        NT_PRSTATUS
        NT_X86_XSTATE


cdef extern from "<linux/ptrace.h>" nogil:
    enum:
        PTRACE_SYSCALL_INFO_NONE
        PTRACE_SYSCALL_INFO_ENTRY
        PTRACE_SYSCALL_INFO_EXIT
        PTRACE_SYSCALL_INFO_SECCOMP

    struct ptrace_syscall_info:
        uint8_t op
        uint32_t arch
        uint64_t instruction_pointer
        uint64_t stack_pointer
