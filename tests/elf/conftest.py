"""Fixtures of the ELF file tests: the targets of tests/elf/targets/ built with gcc into a
temporary directory, once per session, in the variants the tests compare (PIE and
non-PIE, -O0 and -O2, DWARF 4 and 5, stripped, split into a debuglink'd pair, IBT PLT,
a versioned shared library).  Nothing is committed but the sources.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pydbg.elf import clear_cache

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, "targets")
SOURCE = os.path.join(TARGETS, "symbols.c")

VARIANTS = {
    "pie-O0": ["-O0", "-g", "-fPIE", "-pie"],
    "nopie-O0": ["-O0", "-g", "-fno-pie", "-no-pie"],
    "pie-O2": ["-O2", "-g", "-fPIE", "-pie"],
    "nopie-O2": ["-O2", "-g", "-fno-pie", "-no-pie"],
    "dwarf4-O2": ["-O2", "-gdwarf-4", "-fPIE", "-pie"],
    "ibt-O2": ["-O2", "-g", "-fPIE", "-pie", "-fcf-protection=full", "-Wl,-z,ibtplt"],
    "now-O2": ["-O2", "-g", "-fPIE", "-pie", "-Wl,-z,now"],
}


def _run(cmd: list[str], cwd: str | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")


@dataclass(frozen=True)
class Built:
    """Paths of the built targets, by variant name."""

    root: str
    paths: dict[str, str]

    def __getitem__(self, variant: str) -> str:
        return self.paths[variant]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: the ELF tests build their targets")
    root = str(tmp_path_factory.mktemp("elf-targets"))
    paths: dict[str, str] = {}
    for name, flags in VARIANTS.items():
        out = os.path.join(root, name)
        _run(["gcc", "-Wall", "-Wextra", "-Werror", *flags, SOURCE, "-o", out, "-lm"])
        paths[name] = out
    # Stripped: no .symtab, no DWARF; only .dynsym and the PLT are left.
    paths["stripped"] = os.path.join(root, "stripped")
    _run(["strip", "--strip-all", "-o", paths["stripped"], paths["pie-O2"]])
    # Split: the debug info in split.debug, the binary stripped, joined by a debuglink.
    split_dir = os.path.join(root, "split")
    os.mkdir(split_dir)
    split = os.path.join(split_dir, "split")
    shutil.copy(paths["pie-O2"], split)
    _run(["objcopy", "--only-keep-debug", "split", "split.debug"], cwd=split_dir)
    _run(["strip", "--strip-all", "split"], cwd=split_dir)
    _run(["objcopy", "--add-gnu-debuglink=split.debug", "split"], cwd=split_dir)
    paths["split"] = split
    paths["split.debug"] = os.path.join(split_dir, "split.debug")
    # A shared library with versioned symbols, and the same stripped.
    lib = os.path.join(root, "libversioned.so")
    _run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-O1",
            "-g",
            f"-Wl,--version-script={os.path.join(TARGETS, 'versioned.map')}",
            os.path.join(TARGETS, "versioned.c"),
            "-o",
            lib,
        ]  # fmt: skip
    )
    paths["versioned"] = lib
    paths["versioned-stripped"] = os.path.join(root, "libversioned-stripped.so")
    _run(["strip", "--strip-all", "-o", paths["versioned-stripped"], lib])
    return Built(root, paths)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Every test starts with an empty image cache (tests rewrite files in place)."""
    clear_cache()
    yield
    clear_cache()


def source_line(marker: str) -> int:
    """The 1-based line of symbols.c that carries a `/* MARKER */` comment."""
    with open(SOURCE) as f:
        for number, text in enumerate(f, 1):
            if f"/* {marker} */" in text:
                return number
    raise LookupError(marker)
