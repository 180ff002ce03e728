"""Session fixtures: build the C targets, hand out tracers and helper processes, and make
sure the suite leaves no process behind.

Targets are compiled from tests/targets/*.c with strict flags into a temporary directory,
as PIE and non-PIE, plus -O2 and static builds where a test wants them, and the libraries
they dlopen from tests/targets/plugins/*.c (`libraries`); binaries are never committed.
Every test that starts a process kills and reaps it even when it fails: the
`tracer` fixture closes its Tracer (which kills what it spawned and detaches the rest) and
then kills and reaps any child the test left; at the end of the session a check fails the
run if any child, zombie, or process traced by us is still there.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil
import pytest

from tests.support import ROOT, TARGET_SOURCES, Binary, Driver, Targets

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

STRICT = ["-Wall", "-Wextra", "-Werror", "-g", "-pthread"]
VARIANT_FLAGS = {
    "pie": ["-O0", "-fPIE", "-pie"],
    "nopie": ["-O0", "-no-pie", "-fno-pie"],
    "pie-O2": ["-O2", "-fPIE", "-pie"],
    "static": ["-O0", "-static", "-no-pie", "-fno-pie"],
    "shared": ["-O0", "-shared", "-fPIC"],
}
# Shared libraries that targets dlopen; kept out of TARGET_SOURCES, whose every .c is a program.
LIBRARY_SOURCES = os.path.join(TARGET_SOURCES, "plugins")
# Every target is built as pie and nopie; these get more variants.
EXTRA_VARIANTS = {
    "loop": ("pie-O2", "static"),
    "block": ("pie-O2",),
    "threads": ("pie-O2",),
    "clones": ("pie-O2",),
    "cpp_names": ("pie-O2",),
    "inlines": ("pie-O2",),
    "inlinemulti": ("pie-O2",),
}

PR_SET_CHILD_SUBREAPER = 36


def _gcc(source: str, out: str, variant: str) -> None:
    compiler = "g++" if source.endswith(".cpp") else "gcc"
    cmd = [compiler, *STRICT, *VARIANT_FLAGS[variant], source, "-o", out]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")


def _static_works(tmp: str) -> bool:
    """gcc -static needs libc.a; build a static probe once and skip static tests without it."""
    src = os.path.join(tmp, "static_probe.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    cmd = ["gcc", "-static", src, "-o", os.path.join(tmp, "static_probe")]
    return subprocess.run(cmd, capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Targets:
    """Build every tests/targets/*.c, and *.cpp with g++ (session-scoped; a few seconds
    on two cores)."""
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is needed to build the test targets")
    out_dir = str(tmp_path_factory.mktemp("targets"))
    static_ok = _static_works(out_dir)
    jobs = []
    for entry in sorted(os.listdir(TARGET_SOURCES)):
        name, ext = os.path.splitext(entry)
        if ext not in (".c", ".cpp"):
            continue
        for variant in ("pie", "nopie", *EXTRA_VARIANTS.get(name, ())):
            if variant == "static" and not static_ok:
                continue
            out = os.path.join(out_dir, f"{name}-{variant}")
            jobs.append((name, variant, os.path.join(TARGET_SOURCES, entry), out))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda j: _gcc(j[2], j[3], j[1]), jobs))
    return Targets({(name, variant): Binary(name, variant, out) for name, variant, _, out in jobs})


@pytest.fixture(scope="session")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build every tests/targets/plugins/*.c as a shared library: {"libplugin": its .so path}."""
    out_dir = str(tmp_path_factory.mktemp("libraries"))
    built: dict[str, str] = {}
    for entry in sorted(os.listdir(LIBRARY_SOURCES)):
        if not entry.endswith(".c"):
            continue
        name = entry[:-2]
        built[name] = os.path.join(out_dir, f"{name}.so")
        _gcc(os.path.join(LIBRARY_SOURCES, entry), built[name], "shared")
    return built


def _reap_children(exclude: set[int]) -> list[str]:
    """SIGKILL and reap every direct child not in `exclude`; describe what was found."""
    found = []
    for child in psutil.Process().children():
        if child.pid in exclude:
            continue
        try:
            found.append(f"{child.pid} {child.name()} ({child.status()})")
            os.kill(child.pid, signal.SIGKILL)
        except (psutil.Error, ProcessLookupError):
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                break  # already reaped (by a Popen object or the tracer)
            if pid:
                break
            time.sleep(0.005)
    return found


class Procs:
    """Helper processes started with subprocess (not traced at start): attach targets,
    helper tracers.  Killed and reaped at teardown."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, argv: list[str], ready: bytes | None = None, **kw: Any
    ) -> subprocess.Popen[bytes]:
        kw.setdefault("stdin", subprocess.PIPE)
        kw.setdefault("stdout", subprocess.PIPE)
        proc = subprocess.Popen(argv, **kw)
        self.started.append(proc)
        if ready is not None:
            line = proc.stdout.readline() if proc.stdout else b""
            assert line.startswith(ready), f"{argv}: expected {ready!r}, got {line!r}"
        return proc

    def cleanup(self) -> None:
        for proc in self.started:
            # Never poll() a process that may still be traced: waitpid would take its ptrace
            # stops.  The tracer fixture closes (detaches) before this runs.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream:
                    stream.close()


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    try:
        yield p
    finally:
        p.cleanup()


@pytest.fixture
def tracer(procs: Procs) -> Iterator[Any]:
    """A Tracer owned by the test's (main) thread, closed after the test.

    Depends on `procs` so that it is torn down first: helper processes are detached before
    subprocess reaps them.  Children left after close (spawned with kill_on_exit=False, or
    orphans adopted through the subreaper) are killed and reaped here.
    """
    from pydbg._native import Tracer

    before = {c.pid for c in psutil.Process().children()}
    t = Tracer()
    try:
        yield t
    finally:
        try:
            t.close()
        finally:
            helpers = {p.pid for p in procs.started}
            _reap_children(before | helpers)


@pytest.fixture
def driver(tracer: Any) -> Driver:
    return Driver(tracer)


def _our_tids() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def _traced_by_us() -> list[int]:
    ours = _our_tids()
    traced = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("TracerPid:"):
                        if int(line.split()[1]) in ours:
                            traced.append(int(entry))
                        break
        except OSError:
            continue
    return traced


@pytest.fixture(scope="session", autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """Fail the run if the suite leaves a child, a zombie, or a traced process behind.

    The pytest process becomes a child subreaper so that orphans of targets (a fork child
    whose parent was killed) are re-parented to us and show up here instead of vanishing
    into init.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    yield
    problems = []
    traced = _traced_by_us()
    if traced:
        problems.append(f"still traced by this process: {traced}")
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            problems.append(f"left over: {child.pid} {child.name()} ({child.status()})")
    _reap_children(set())
    if threading.active_count() > 1:
        names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        problems.append(f"threads still running: {names}")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


# -- clients of the public API (the api, breakpoints and symbols tiers) ------------------------


@pytest.fixture
def client(procs: Procs) -> Iterator[Any]:
    """A client whose session always ends: its `with` block kills what it launched and
    detaches what it attached, before `procs` (which it depends on) reaps the helpers."""
    import pydbg

    with pydbg.create_client() as c:
        yield c


@pytest.fixture
def recorder(client: Any) -> Any:
    """Event callbacks on `client` that record every call (tests/api/recording.py)."""
    from tests.api.recording import Recorder

    r = Recorder()
    client.set_event_callbacks(r)
    return r


@pytest.fixture
def output(client: Any) -> Any:
    """Output callbacks on `client` that keep every piece of text."""
    from tests.api.recording import OutputRecorder

    o = OutputRecorder()
    client.set_output_callbacks(o)
    return o
