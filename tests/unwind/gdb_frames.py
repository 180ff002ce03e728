"""A gdb Python script (run by gdb's own interpreter, not collected by pytest): stop where
the unwind tests stop and print gdb's view of the stack.

Set before it runs, with `-ex 'python ...'`: UNWIND_LIBRARY, the path of the mapped file to
break in, UNWIND_OFFSET, the file offset of the break site, and UNWIND_ARGS, the program's
arguments quoted for the shell.  It catches library loads
until that file is mapped (its address is only known then), breaks on the runtime address,
continues to it, runs `bt`, then prints one `UNWIND-FRAME pc type` line per frame and one
`UNWIND-MAP start end perms offset path` line per mapping, and kills the program.
"""

import gdb

import __main__

# `-ex 'python NAME = ...'` and this script share gdb's __main__ namespace.
LIBRARY = __main__.UNWIND_LIBRARY
OFFSET = __main__.UNWIND_OFFSET
ARGS = __main__.UNWIND_ARGS


def _maps(pid):
    rows = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else ""
            rows.append((start, end, parts[1], int(parts[2], 16), path))
    return rows


def _site(pid):
    for start, end, _, offset, path in _maps(pid):
        if path == LIBRARY and offset <= OFFSET < offset + (end - start):
            return start + OFFSET - offset
    return None


def main():
    gdb.execute("catch load")
    # `run ARGS` replaces the arguments --args gave (and gdb 13's gdb.parameter("args")
    # reads them as ''), so the caller passes them again, quoted for the shell.
    gdb.execute(f"run {ARGS} > /dev/null")
    while True:
        pid = gdb.selected_inferior().pid
        if pid == 0:
            print("UNWIND-ERROR the program ended before", LIBRARY, "was mapped")
            return
        site = _site(pid)
        if site is not None:
            break
        gdb.execute("continue")
    gdb.execute("delete")
    gdb.execute(f"break *{site:#x}")
    gdb.execute("continue")
    pid = gdb.selected_inferior().pid
    if pid == 0 or gdb.selected_frame().pc() != site:
        print("UNWIND-ERROR the program did not stop at", hex(site))
        return
    gdb.execute("bt")
    frame = gdb.newest_frame()
    while frame is not None:
        print(f"UNWIND-FRAME {frame.pc():#x} {_type_name(frame.type())}")
        frame = frame.older()
    for start, end, perms, offset, path in _maps(pid):
        print(f"UNWIND-MAP {start:x} {end:x} {perms} {offset:x} {path}")
    gdb.execute("kill")


def _type_name(kind):
    for name in ("NORMAL_FRAME", "SIGTRAMP_FRAME", "INLINE_FRAME", "TAILCALL_FRAME"):
        if kind == getattr(gdb, name):
            return name
    return str(kind)


main()
