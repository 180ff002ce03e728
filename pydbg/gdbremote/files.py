"""vFile: read-only access to the target's files, so gdb can load the program and its
libraries from the server's side (its default sysroot, `target:`).

    vFile:setfs:PID            accepted (the server shares the target's mount namespace)
    vFile:open:HEXPATH,FLAGS,MODE   -> F<fd>     only O_RDONLY; anything else: EACCES
    vFile:pread:FD,COUNT,OFFSET     -> F<n>;<binary data>
    vFile:close:FD                  -> F0
    vFile:fstat:FD                  -> F<64>;<struct stat in gdb's File-I/O layout>
    vFile:readlink:HEXPATH          -> F<n>;<target>
    vFile:unlink / pwrite / ...     -> F-1,EACCES (writes are refused)

Errors are F-1,<errno> with gdb's File-I/O errno values (gdb manual, "Errno Values").
"""

from __future__ import annotations

import errno
import os
import stat
import struct

from pydbg.gdbremote.packets import escape

__all__ = ["FileServer"]

_FILEIO_ERRNO = {
    errno.EPERM: 1,
    errno.ENOENT: 2,
    errno.EINTR: 4,
    errno.EBADF: 9,
    errno.EACCES: 13,
    errno.EFAULT: 14,
    errno.EBUSY: 16,
    errno.EEXIST: 17,
    errno.ENODEV: 19,
    errno.ENOTDIR: 20,
    errno.EISDIR: 21,
    errno.EINVAL: 22,
    errno.ENFILE: 23,
    errno.EMFILE: 24,
    errno.EFBIG: 27,
    errno.ENOSPC: 28,
    errno.ESPIPE: 29,
    errno.EROFS: 30,
    errno.ENAMETOOLONG: 91,
}
_FILEIO_EUNKNOWN = 9999
_MAX_OPEN = 64
_MAX_PREAD = 0x1F00  # escaped, it still fits one PacketSize (0x4000) reply


def _error(code: int) -> bytes:
    return b"F-1,%x" % _FILEIO_ERRNO.get(code, _FILEIO_EUNKNOWN)


def _fileio_stat(st: os.stat_result) -> bytes:
    """struct stat as gdb's File-I/O protocol defines it: big-endian, 32-bit fields but
    for the 64-bit size, block size and block count."""
    return struct.pack(
        ">IIIIIIIQQQIII",
        st.st_dev & 0xFFFFFFFF,
        st.st_ino & 0xFFFFFFFF,
        st.st_mode & 0xFFFFFFFF,
        st.st_nlink & 0xFFFFFFFF,
        st.st_uid & 0xFFFFFFFF,
        st.st_gid & 0xFFFFFFFF,
        st.st_rdev & 0xFFFFFFFF,
        st.st_size,
        st.st_blksize,
        st.st_blocks,
        int(st.st_atime) & 0xFFFFFFFF,
        int(st.st_mtime) & 0xFFFFFFFF,
        int(st.st_ctime) & 0xFFFFFFFF,
    )


class FileServer:
    """The open files of one connection; close_all() when it ends."""

    def __init__(self) -> None:
        self._fds: set[int] = set()

    def close_all(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()

    def handle(self, request: bytes) -> bytes:
        """The reply to `vFile:` + request; ValueError for a malformed request."""
        op, _, args = request.partition(b":")
        if op == b"setfs":
            int(args, 16)
            return b"F0"
        if op == b"open":
            path, flags, _mode = args.split(b",")
            return self._open(bytes.fromhex(path.decode()), int(flags, 16))
        if op == b"pread":
            fd, count, offset = (int(x, 16) for x in args.split(b","))
            return self._pread(fd, count, offset)
        if op == b"close":
            fd = int(args, 16)
            if fd not in self._fds:
                return _error(errno.EBADF)
            self._fds.discard(fd)
            os.close(fd)
            return b"F0"
        if op == b"fstat":
            fd = int(args, 16)
            if fd not in self._fds:
                return _error(errno.EBADF)
            data = _fileio_stat(os.fstat(fd))
            return b"F%x;" % len(data) + escape(data)
        if op == b"readlink":
            try:
                target = os.fsencode(os.readlink(bytes.fromhex(args.decode())))
            except OSError as exc:
                return _error(exc.errno or 0)
            return b"F%x;" % len(target) + escape(target)
        if op in (b"pwrite", b"unlink"):
            return _error(errno.EACCES)
        return b""

    def _open(self, path: bytes, flags: int) -> bytes:
        if flags != 0:  # gdb's O_RDONLY is 0; every other flag asks to write or create
            return _error(errno.EACCES)
        if len(self._fds) >= _MAX_OPEN:
            return _error(errno.EMFILE)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            return _error(exc.errno or 0)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)  # a fifo or device could block the server or have side effects
            return _error(errno.EACCES)
        self._fds.add(fd)
        return b"F%x" % fd

    def _pread(self, fd: int, count: int, offset: int) -> bytes:
        if fd not in self._fds:
            return _error(errno.EBADF)
        try:
            data = os.pread(fd, min(count, _MAX_PREAD), offset)
        except OSError as exc:
            return _error(exc.errno or 0)
        return b"F%x;" % len(data) + escape(data)
