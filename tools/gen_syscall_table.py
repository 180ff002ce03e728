"""Generate pydbg/syscall_table.py: x86_64 syscall numbers, names and argument counts.

    python tools/gen_syscall_table.py [/usr/include/x86_64-linux-gnu/asm/unistd_64.h]

Names and numbers come from the kernel's x86_64 list as the installed uapi header
<asm/unistd_64.h> states it (`#define __NR_name number`), completed by `NEWER`: calls
added to arch/x86/entry/syscalls/syscall_64.tbl after the header this was run against, so
that a target on a newer kernel still shows names.  Argument counts come from `ARGS`
below (the kernel's SYSCALL_DEFINEn, as strace's syscallent tables list them); a call
missing there gets 6, the most any call takes, and is named on stderr.

The header is read here only: pydbg ships the generated module and never parses headers at
run time.  Run this again after a kernel update and commit the result.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HEADER = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
OUT = Path(__file__).resolve().parent.parent / "pydbg" / "syscall_table.py"

# Added after 6.1 (syscall_64.tbl numbers; header entries take precedence).
NEWER = {
    451: "cachestat",
    452: "fchmodat2",
    453: "map_shadow_stack",
    454: "futex_wake",
    455: "futex_wait",
    456: "futex_requeue",
    457: "statmount",
    458: "listmount",
    459: "lsm_get_self_attr",
    460: "lsm_set_self_attr",
    461: "lsm_list_modules",
    462: "mseal",
    463: "setxattrat",
    464: "getxattrat",
    465: "listxattrat",
    466: "removexattrat",
    467: "open_tree_attr",
}

# Argument count -> calls taking that many (SYSCALL_DEFINEn).
_BY_COUNT = {
    0: """afs_syscall create_module epoll_ctl_old epoll_wait_old fork get_kernel_syms getegid
        geteuid getgid getpgrp getpid getpmsg getppid gettid getuid inotify_init munlockall
        nfsservctl pause putpmsg query_module restart_syscall rt_sigreturn sched_yield
        security setsid sync tuxcall vfork vhangup vserver""",
    1: """_sysctl acct adjtimex alarm brk chdir chroot close dup epoll_create epoll_create1
        eventfd exit exit_group fchdir fdatasync fsync get_thread_area getpgid getsid
        inotify_init1 io_destroy iopl memfd_secret mlockall mq_unlink personality pipe pipe2
        pkey_free rmdir rt_sigsuspend sched_get_priority_max sched_get_priority_min
        sched_getscheduler set_thread_area set_tid_address setfsgid setfsuid setgid setuid
        shmdt swapoff syncfs sysinfo time timer_delete timer_getoverrun times umask uname
        unlink unshare uselib userfaultfd""",
    2: """access arch_prctl capget capset chmod clock_adjtime clock_getres clock_gettime
        clock_settime clone3 creat delete_module dup2 eventfd2 fanotify_init fchmod flock
        fsopen fstat fstatfs ftruncate getcwd getgroups getitimer getpriority getrlimit
        getrusage gettimeofday inotify_rm_watch io_setup io_uring_setup ioprio_get kill link
        listen lstat msgget membarrier memfd_create mkdir mlock munlock munmap nanosleep pidfd_open
        pivot_root pkey_alloc process_mrelease rename rt_sigpending sched_getparam
        sched_rr_get_interval sched_setparam set_robust_list setdomainname setgroups
        sethostname setns setpgid setregid setreuid setrlimit settimeofday shutdown
        sigaltstack stat statfs swapon symlink sysfs timer_gettime timerfd_create
        timerfd_gettime tkill truncate umount2 ustat utime utimes""",
    3: """accept bind bpf chown close_range connect dup3 execve faccessat fchmodat fchown
        fcntl finit_module flistxattr fremovexattr fsmount fspick futimesat get_robust_list
        getcpu getdents getdents64 getpeername getrandom getresgid getresuid getsockname
        init_module inotify_add_watch io_cancel io_submit ioctl ioperm ioprio_set
        landlock_create_ruleset landlock_restrict_self lchown listxattr llistxattr
        lookup_dcookie lremovexattr lseek lsm_list_modules madvise map_shadow_stack mincore
        mkdirat mknod mlock2 modify_ldt mprotect mq_getsetattr mq_notify mseal msgctl
        msync open open_by_handle_at open_tree pidfd_getfd poll read readahead readlink
        readv recvmsg removexattr rt_sigqueueinfo sched_getaffinity sched_setaffinity
        sched_setattr sched_setscheduler seccomp semget semop sendmsg set_mempolicy
        setitimer setpriority setresgid setresuid shmat shmctl shmget socket symlinkat
        syslog tgkill timer_create unlinkat write writev""",
    4: """accept4 cachestat clock_nanosleep epoll_ctl epoll_wait faccessat2 fadvise64
        fallocate fchmodat2 fgetxattr futex_wake getxattr io_uring_register kexec_load
        landlock_add_rule lgetxattr listmount lsm_get_self_attr lsm_set_self_attr
        migrate_pages mknodat mq_open mremap msgsnd newfstatat openat openat2
        pidfd_send_signal pkey_mprotect pread64 prlimit64 ptrace pwrite64 quotactl
        quotactl_fd readlinkat reboot renameat request_key rseq rt_sigaction rt_sigprocmask
        rt_sigtimedwait rt_tgsigqueueinfo sched_getattr semctl semtimedop sendfile sendmmsg
        set_mempolicy_home_node signalfd signalfd4 socketpair sync_file_range tee
        timer_settime timerfd_settime utimensat vmsplice wait4""",
    5: """add_key clone epoll_pwait2 execveat fanotify_mark fchownat fsconfig fsetxattr
        futex_wait futex_waitv get_mempolicy getsockopt getxattrat io_getevents kcmp
        kexec_file_load keyctl linkat listxattrat lsetxattr mount mount_setattr move_mount
        mq_timedreceive mq_timedsend msgrcv name_to_handle_at open_tree_attr perf_event_open
        ppoll prctl process_madvise recvmmsg removexattrat renameat2 select setsockopt
        setxattr statmount statx waitid""",
    6: """copy_file_range epoll_pwait futex futex_requeue io_pgetevents io_uring_enter mbind
        mmap move_pages preadv preadv2 process_vm_readv process_vm_writev pselect6 pwritev
        pwritev2 recvfrom remap_file_pages sendto setxattrat splice""",
}


def arg_counts() -> dict[str, int]:
    out: dict[str, int] = {}
    for count, names in _BY_COUNT.items():
        for name in names.split():
            out[name] = count
    return out


def read_header(path: Path) -> dict[int, str]:
    numbers: dict[int, str] = {}
    for match in re.finditer(r"^#define __NR_(\w+)\s+(\d+)\s*$", path.read_text(), re.M):
        numbers[int(match.group(2))] = match.group(1)
    if not numbers:
        raise SystemExit(f"{path}: no __NR_ definitions found")
    return numbers


def render(names: dict[int, str], counts: dict[str, int]) -> str:
    lines = [
        '"""x86_64 Linux system calls: number -> (name, argument count).',
        "",
        "Generated by tools/gen_syscall_table.py from <asm/unistd_64.h> (and the calls newer",
        "kernels added); do not edit by hand.  pydbg reads no headers at run time.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
        "# number: (name, argument count)",
        "SYSCALLS: Final[dict[int, tuple[str, int]]] = {",
    ]
    for number in sorted(names):
        name = names[number]
        lines.append(f'    {number}: ("{name}", {counts.get(name, 6)}),')
    lines.append("}")
    lines.append("")
    lines.append("# name -> number")
    lines.append(
        "NUMBERS: Final[dict[str, int]] = {name: nr for nr, (name, _) in SYSCALLS.items()}"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    header = Path(argv[1]) if len(argv) > 1 else HEADER
    names = dict(NEWER)
    names.update(read_header(header))
    counts = arg_counts()
    missing = sorted(n for n in names.values() if n not in counts)
    if missing:
        print("no argument count (6 assumed): " + " ".join(missing), file=sys.stderr)
    OUT.write_text(render(names, counts))
    print(f"wrote {OUT}: {len(names)} system calls", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
