# cython: language_level=3
"""pydbg._native: the ptrace core of pydbg (the contract is pydbg/_native.pyi).

One extension module assembled from one source file per kernel concept:

    errors.pyx      errno -> pydbg.errors exception, the only place that happens
    events.pyx      Event records and the kinds of stop they describe
    table.pyx       the per-thread and per-process bookkeeping of the tracer
    registers.pyx   general, FP/SSE/AVX registers
    debugregs.pyx   DR0-DR7: hardware breakpoints and watchpoints
    memory.pyx      process_vm_readv/writev and /proc/PID/mem; breakpoint bytes
    wait.pyx        decoding wait statuses; the event wait; stop-all
    lifecycle.pyx   spawn, seize, detach, kill
    stepping.pyx    single step, step-over, trace loop, branch step
    breakpoints.pyx breakpoint tables, native conditions, the decision at a trap
    tracer.pyx      the public Tracer class: owner checks and thin wrappers

C declarations live in csrc/includes/*.pxd; compat.h holds what Cython cannot express.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport PyObject
from libc.errno cimport ECHILD, EFAULT, EINTR, EINVAL, EPERM, ESRCH, errno
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memmove, memset
from posix.types cimport pid_t

from compat cimport *
from kernel cimport *
from ptrace cimport *

include "errors.pyx"
include "events.pyx"
include "table.pyx"
include "registers.pyx"
include "debugregs.pyx"
include "memory.pyx"
include "wait.pyx"
include "lifecycle.pyx"
include "stepping.pyx"
include "breakpoints.pyx"
include "tracer.pyx"
