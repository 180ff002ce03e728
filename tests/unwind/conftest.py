"""Builds of the `unwind` target beyond the suite's -O0 pie/nopie ones: optimised code with and
without frame pointers, CFI only in .debug_frame, .debug_frame only in a separate debug file,
and no CFI at all.  Compiled once per session into a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support import TARGET_SOURCES, Targets

STRICT = ["-Wall", "-Wextra", "-Werror", "-g"]
PIE = ["-fPIE", "-pie"]
BUILDS = {
    "O2": ["-O2", *PIE],
    "O2-omit-fp": ["-O2", "-fomit-frame-pointer", *PIE],
    "O2-keep-fp": ["-O2", "-fno-omit-frame-pointer", *PIE],
    # gcc writes .debug_frame instead of .eh_frame when unwind tables are off and -g is on.
    "O2-debug-frame": ["-O2", "-fno-asynchronous-unwind-tables", *PIE],
    "O0-no-cfi": ["-O0", "-g0", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", *PIE],
}


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")


def _split_debug(source: str, out: str) -> str:
    """Copy `source` to `out` with its DWARF moved to out.debug (linked by .gnu_debuglink,
    so gdb finds it beside the program); return the debug file's path."""
    debug = out + ".debug"
    _run(["objcopy", "--only-keep-debug", source, debug])
    _run(["objcopy", "--strip-debug", f"--add-gnu-debuglink={debug}", source, out])
    return debug


@pytest.fixture(scope="session")
def unwind_builds(targets: Targets, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Build name -> path: the suite's O0 (pie) and O0-nopie, the BUILDS, and O2-split (the
    O2-debug-frame program with its DWARF in O2-split.debug)."""
    if shutil.which("objcopy") is None:
        raise RuntimeError("binutils (objcopy) is needed to build the unwind targets")
    out_dir = tmp_path_factory.mktemp("unwind")
    source = os.path.join(TARGET_SOURCES, "unwind.c")
    builds = {"O0": targets["unwind"].path}
    nopie = targets.get("unwind", "nopie")
    assert nopie is not None
    builds["O0-nopie"] = nopie.path
    for name, flags in BUILDS.items():
        out = str(out_dir / f"unwind-{name}")
        _run(["gcc", *STRICT, *flags, source, "-o", out])
        builds[name] = out
    split = str(out_dir / "unwind-O2-split")
    builds["O2-split.debug"] = _split_debug(builds["O2-debug-frame"], split)
    builds["O2-split"] = split
    return builds
