"""Fixtures of the DWARF tests: the dwvars (C) and dwclasses (C++) targets built -O0 and
-O2, PIE and not, and gdb in batch mode as the oracle.

The targets are built here rather than by the session `targets` fixture: these tests
need -O2 and C++ builds of their own programs, and building only them keeps a run of
tests/dwarf short.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import TARGET_SOURCES

STRICT = ["-Wall", "-Wextra", "-Werror", "-g", "-pthread"]
FLAGS = {
    "O0-pie": ["-O0", "-fPIE", "-pie"],
    "O0-nopie": ["-O0", "-no-pie", "-fno-pie"],
    "O2-pie": ["-O2", "-fPIE", "-pie"],
    "O2-nopie": ["-O2", "-no-pie", "-fno-pie"],
}
BUILDS = [("dwvars", variant) for variant in FLAGS] + [
    ("dwclasses", "O0-pie"),
    ("dwclasses", "O2-nopie"),
]


def _build(source: str, out: str, variant: str) -> None:
    compiler = "g++" if source.endswith(".cpp") else "gcc"
    cmd = [compiler, *STRICT, *FLAGS[variant], source, "-o", out]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")


@pytest.fixture(scope="session")
def dw_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """{(name, variant): path} of every build in BUILDS."""
    if shutil.which("g++") is None or shutil.which("gcc") is None:
        pytest.skip("gcc and g++ are needed to build the DWARF targets")
    out_dir = str(tmp_path_factory.mktemp("dwarf-targets"))
    jobs = []
    for name, variant in BUILDS:
        ext = ".cpp" if name == "dwclasses" else ".c"
        source = os.path.join(TARGET_SOURCES, name + ext)
        jobs.append((source, os.path.join(out_dir, f"{name}-{variant}"), variant, name))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda j: _build(j[0], j[1], j[2]), jobs))
    return {(name, variant): out for _, out, variant, name in jobs}


def gdb_batch(target: str | list[str], commands: list[str], early: tuple[str, ...] = ()) -> str:
    """gdb's output for `commands` run in batch mode on `target` (a binary, or a command
    line as a list); `early` commands run before the file is loaded (-iex)."""
    argv = ["gdb", "-nx", "-batch"]
    for command in early:
        argv += ["-iex", command]
    argv += ["-ex", "set width 0", "-ex", "set pagination off"]
    for command in commands:
        argv += ["-ex", command]
    argv += ["--args", *target] if isinstance(target, list) else [target]
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    return proc.stdout


needs_gdb = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
