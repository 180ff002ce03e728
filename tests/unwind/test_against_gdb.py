"""Acceptance: at a breakpoint in libc, the frames we unwind are the frames gdb's `bt` shows for
the same stop of the same program.

Each case runs the program twice, traced by us and under gdb, both with ASLR off, and
compares the frames as (file, file offset) pairs, which do not depend on load addresses.
The rules of the comparison:

- gdb runs with `backtrace past-main on`, so it goes on past main like we do, through
  __libc_start_call_main and __libc_start_main_impl to _start, whose CFI ends the stack
  (`test_gdb_default_stops_at_main` shows gdb's default: the same list cut after main);
- gdb's inline frames (an inlined call, shown at its caller's pc) and tail-call frames
  (rebuilt from DWARF call-site information) are left out: they have no stack frame, and
  appear only because gdb has libc's debug information;
- a signal handler's frames go through gdb's `<signal handler called>` (a SIGTRAMP_FRAME),
  which is our frame with `signal_trampoline`.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from pydbg.unwind import FrameMethod, UnwindStop
from tests.unwind.helpers import elf_symbols, gdb_keys, gdb_stop, stop_in

pytestmark = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is the reference")

ARGS = {"nest": ["nest", "3"], "qsort": ["qsort"], "signal": ["signal"], "altstack": ["altstack"]}


def _check_chain(frames):
    """Each caller is where its callee returns to, and stacks grow down."""
    for callee, caller in zip(frames[:-1], frames[1:], strict=True):
        assert callee.return_address == caller.pc
        assert callee.frame_offset == caller.stack_offset
        if not callee.signal_trampoline:
            assert caller.stack_offset > callee.stack_offset


def _functions(stop, frames):
    """The program's function names of the frames, '-' for frames in other files."""
    symbols = sorted((value, name) for name, value in elf_symbols(stop.argv[0]).items())
    names = []
    for frame in frames:
        path, offset = stop.modules.key(frame.lookup_pc)
        if path != os.path.realpath(stop.argv[0]):
            names.append("-")
            continue
        module = stop.modules.module_at(frame.lookup_pc)
        assert module is not None
        link = frame.lookup_pc - module.bias
        names.append(max((v, n) for v, n in symbols if v <= link)[1])
    return names


@pytest.mark.parametrize("mode", ["nest", "qsort", "signal"])
@pytest.mark.parametrize("build", ["O0", "O0-nopie", "O2", "O2-omit-fp", "O2-keep-fp"])
def test_own_target(tracer, driver, unwind_builds, build, mode):
    argv = [unwind_builds[build], *ARGS[mode]]
    stop = stop_in(tracer, driver, argv, "libc.so.6", "write")
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST and not frames[-1].best_effort
    assert frames[0].method is FrameMethod.CONTEXT
    _check_chain(frames)
    names = _functions(stop, frames)
    expected = {
        "nest": ["-", "leaf", *["recurse"] * 4, "middle", "outer", "main", "-", "-", "_start"],
        "signal": ["-", "leaf", "in_handler", "on_sigill", "-", "raise_sigill", "outer_sig"],
    }
    if mode == "nest":
        assert names == expected["nest"]
    elif mode == "signal":
        # At -O2 main tail-calls run_signal: main has no frame of its own.
        assert names[:7] == expected["signal"] and names[-3:] == ["-", "-", "_start"]
        assert names[-4] in ("main", "run_signal")
        assert frames[4].signal_trampoline and frames[5].method is FrameMethod.SIGNAL
    else:
        assert names[:3] == ["-", "leaf", "compare"] and "sort_numbers" in names
    assert stop.keys(frames) == gdb_keys(stop, pass_signals=["SIGILL"])


def test_signal_on_an_alternate_stack(tracer, driver, unwind_builds):
    stop = stop_in(tracer, driver, [unwind_builds["O2"], "altstack"], "libc.so.6", "write")
    frames = stop.unwind(tracer)
    _check_chain(frames)
    trampoline = next(f for f in frames if f.signal_trampoline)
    interrupted = frames[trampoline.number + 1]
    stack = [(start, end) for start, end, *_, path in stop.modules.rows if path == "[stack]"]
    on_stack = [any(s <= f.stack_offset < e for s, e in stack) for f in frames]
    # The handler ran on the malloc'ed alternate stack, the interrupted code on the stack.
    assert not any(on_stack[: trampoline.number + 1])
    assert all(on_stack[interrupted.number :])
    assert frames[-1].stop is UnwindStop.OUTERMOST
    assert stop.keys(frames) == gdb_keys(stop, pass_signals=["SIGILL"])


@pytest.mark.parametrize("build", ["O2-debug-frame", "O2-split", "O0-no-cfi"])
def test_other_sources_of_unwind_information(tracer, driver, unwind_builds, build):
    """CFI from .debug_frame, from a separate debug file, and none (frame pointers)."""
    path = unwind_builds[build]
    debug = {os.path.realpath(path): unwind_builds["O2-split.debug"]} if build == "O2-split" else {}
    stop = stop_in(tracer, driver, [path, "nest", "3"], "libc.so.6", "write", debug_paths=debug)
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST
    _check_chain(frames)
    methods = {f.method for f in frames[1:]}
    if build == "O0-no-cfi":
        assert FrameMethod.FRAME_POINTER in methods
    else:
        assert methods == {FrameMethod.CFI}
    assert stop.keys(frames) == gdb_keys(stop)


def test_ls(tracer, driver):
    """A stripped PIE from the system: /bin/ls listing a directory breaks on libc's write."""
    stop = stop_in(tracer, driver, ["/bin/ls", "-l", "/"], "libc.so.6", "write")
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST
    assert len(frames) > 5
    _check_chain(frames)
    assert stop.keys(frames) == gdb_keys(stop)


def test_ls_opendir(tracer, driver):
    stop = stop_in(tracer, driver, ["/bin/ls", "/"], "libc.so.6", "opendir")
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST
    assert stop.keys(frames) == gdb_keys(stop)


PYTHON_CODE = {
    "write": "import os; os.write(1, b'x')",
    # map() is a C call, so the C stack grows with the recursion: ~170 frames of libpython.
    # One line: gdb's `run` takes the arguments on its command line.
    "deep": (
        "import os; f = lambda n: os.write(1, b'x') if n == 0 else [*map(f, [n - 1])][0]; f(30)"
    ),
}


@pytest.mark.parametrize("case", PYTHON_CODE)
def test_python(tracer, driver, case):
    argv = [sys.executable, "-c", PYTHON_CODE[case]]
    stop = stop_in(tracer, driver, argv, "libc.so.6", "write")
    frames = stop.unwind(tracer)
    assert frames[-1].stop is UnwindStop.OUTERMOST
    assert len(frames) > (100 if case == "deep" else 10)
    _check_chain(frames)
    assert stop.keys(frames) == gdb_keys(stop)


def test_gdb_default_stops_at_main(tracer, driver, unwind_builds):
    """With its default `backtrace past-main off`, gdb's list is ours cut after main."""
    stop = stop_in(tracer, driver, [unwind_builds["O0"], "nest", "1"], "libc.so.6", "write")
    ours = stop.keys(stop.unwind(tracer))
    theirs = gdb_stop(stop.argv, stop.path, stop.offset, past_main=False).keys()
    assert _functions(stop, stop.unwind(tracer))[len(theirs) - 1] == "main"
    assert ours[: len(theirs)] == theirs
    assert len(ours) == len(theirs) + 3  # __libc_start_call_main, __libc_start_main_impl, _start
