"""Builds of tests/targets/srclines.c beyond the session's pie/nopie ones: bound at load
(`-z now`, so that a step into a libc call goes through a resolved PLT slot, as it does
for gdb after the first call), at -O0 and -O2; and of the C++ target srccpp.cpp."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.source.support import SOURCE
from tests.support import TARGET_SOURCES

FLAGS = ["-Wall", "-Wextra", "-Werror", "-g"]


@pytest.fixture(scope="session")
def srclines_now(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """{"O0": path, "O2": path} of srclines built with -Wl,-z,now."""
    out = tmp_path_factory.mktemp("srclines")
    built = {}
    for level in ("O0", "O2"):
        path = os.path.join(out, f"srclines-{level}-now")
        cmd = ["gcc", *FLAGS, f"-{level}", "-Wl,-z,now", SOURCE, "-o", path]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        built[level] = path
    return built


@pytest.fixture(scope="session")
def srccpp(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/targets/srccpp.cpp built with g++ -O0 (skips the test without g++)."""
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    path = os.path.join(tmp_path_factory.mktemp("srccpp"), "srccpp")
    source = os.path.join(TARGET_SOURCES, "srccpp.cpp")
    subprocess.run(["g++", *FLAGS, "-O0", source, "-o", path], check=True, capture_output=True)
    return path
