# errors.pyx - the one place an errno becomes a Python exception.
#
# The mapping itself (which class, what explanation) is pydbg.errors.from_errno, in Python,
# so that the text a user reads is maintained next to the exception classes.  The core
# only reports what failed: errno, the request, pid/tid and address.

from pydbg import errors as _errors

cdef object _from_errno = _errors.from_errno
cdef object _NotStoppedError = _errors.NotStoppedError
cdef object _WrongThreadError = _errors.WrongThreadError
cdef object _TracerClosedError = _errors.TracerClosedError
cdef object _NoSuchProcessError = _errors.NoSuchProcessError
cdef object _ProcessExitedError = _errors.ProcessExitedError
cdef object _MemoryAccessError = _errors.MemoryAccessError
cdef object _InvalidRegisterError = _errors.InvalidRegisterError
cdef object _InvalidArgumentError = _errors.InvalidArgumentError


cdef int raise_errno(int err, str request, long pid=0, long tid=0, object address=None,
                     bint exited=False) except -1:
    raise _from_errno(err, request, pid, tid, address, exited=exited)


cdef int raise_gone(str request, long pid, long tid, bint known) except -1:
    """A pid/tid the tracer does not hold: exited (known before) or never traced."""
    if known:
        raise _ProcessExitedError(ESRCH, "process has exited", request=request, pid=pid, tid=tid)
    raise _NoSuchProcessError(ESRCH, "not traced by this tracer", request=request, pid=pid,
                              tid=tid)
