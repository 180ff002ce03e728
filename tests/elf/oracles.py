"""The reference tools the ELF tests compare pydbg.elf with: gdb (`info symbol`), nm,
readelf and addr2line, each run on the file and parsed; and the deterministic address
sampler of the gdb comparisons.

Nothing here knows an address in advance: sections come from `readelf -SW`, symbols from
`nm`, and the answers from gdb run in batch mode on the file (no process), with
auto-loading, debuginfod and the user's gdbinit off and the debug-file directory set to
the one pydbg.elf searches.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass

GDB = shutil.which("gdb")
TOOL_TIMEOUT = 120

_SECTION = re.compile(
    r"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+"
    r"([0-9a-f]+)\s+(\S*)\s+\d+\s+\d+\s+\d+\s*$"
)
# "NAME + OFF in section SEC" / "NAME in section SEC of FILE"; names may contain spaces.
_INFO = re.compile(
    r"^(?P<name>.*?)(?: \+ (?P<off>\d+))? in (?:load address range of )?"
    r"(?:.* overlay )?section (?P<sec>\S+)(?: of .*)?$"
)


@dataclass(frozen=True)
class SectionInfo:
    name: str
    addr: int
    size: int
    flags: str

    @property
    def is_exec(self) -> bool:
        return "X" in self.flags and "A" in self.flags

    @property
    def is_alloc(self) -> bool:
        return "A" in self.flags


@dataclass(frozen=True)
class NmSymbol:
    address: int
    size: int
    type: str
    name: str


def run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def readelf_sections(path: str) -> list[SectionInfo]:
    out = []
    for line in run(["readelf", "-SW", path]).splitlines():
        m = _SECTION.match(line)
        if m and m.group(2) != "NULL":
            out.append(
                SectionInfo(m.group(2), int(m.group(4), 16), int(m.group(6), 16), m.group(8))
            )
    return out


def nm_symbols(path: str, dynamic: bool = False) -> list[NmSymbol]:
    """Defined symbols, as `nm -S --defined-only [-D]` lists them (versions stripped)."""
    cmd = ["nm", "-S", "--defined-only", *(["-D"] if dynamic else []), path]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    out = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            addr, size, kind, name = parts
        elif len(parts) == 3:
            addr, kind, name = parts
            size = "0"
        else:
            continue
        out.append(NmSymbol(int(addr, 16), int(size, 16), kind, name.split("@")[0]))
    return out


def gdb_info_symbol(
    path: str, addresses: list[int], workdir: str
) -> dict[int, tuple[str, int] | None]:
    """gdb's `info symbol` for each address, all in one gdb run: (name, offset), or
    None for "No symbol matches"."""
    assert GDB is not None
    script = os.path.join(workdir, f"info-symbol-{os.getpid()}-{len(addresses)}.gdb")
    with open(script, "w") as f:
        for addr in addresses:
            f.write(f"echo @@{addr:#x}\\n\ninfo symbol {addr:#x}\n")
    env = dict(os.environ, DEBUGINFOD_URLS="")
    out = run(
        [
            GDB,
            "-batch",
            "-nx",
            "-iex",
            "set debuginfod enabled off",
            "-iex",
            "set auto-load off",
            "-iex",
            "set debug-file-directory /usr/lib/debug",
            "-x",
            script,
            path,
        ],  # fmt: skip
        env=env,
    )
    answers: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        if line.startswith("@@"):
            current = answers.setdefault(int(line[2:], 16), [])
        elif current is not None:
            current.append(line)
    result: dict[int, tuple[str, int] | None] = {}
    for addr in addresses:
        lines = answers.get(addr)
        if not lines:
            raise AssertionError(f"gdb said nothing about {addr:#x}")
        first = lines[0]
        if first.startswith("No symbol matches"):
            result[addr] = None
            continue
        m = _INFO.match(first)
        if m is None:
            raise AssertionError(f"unexpected gdb output for {addr:#x}: {first!r}")
        result[addr] = (m.group("name"), int(m.group("off") or 0))
    return result


def addr2line(path: str, addresses: list[int]) -> list[tuple[str, int] | None]:
    """addr2line's (file, line) per address, None where it knows no line."""
    out = run(["addr2line", "-e", path, *(hex(a) for a in addresses)]).splitlines()
    result: list[tuple[str, int] | None] = []
    for line in out:
        file, _, number = line.rpartition(":")
        number = number.split()[0] if number else ""
        if file == "??" or not number.isdigit() or number == "0":
            result.append(None)
        else:
            result.append((os.path.normpath(file), int(number)))
    return result


def sample_addresses(
    path: str, count: int, seed: int, *, extra_symbols: list[NmSymbol] | None = None
) -> list[int]:
    """`count` distinct addresses from the executable sections (fewer if they are
    smaller): symbol starts, addresses inside symbols, every PLT stub (its start and
    inside it), and addresses anywhere (padding and unnamed code included)."""
    rnd = random.Random(seed)
    sections = [s for s in readelf_sections(path) if s.is_exec and s.size]
    total = sum(s.size for s in sections)
    count = min(count, total)

    def in_exec(addr: int) -> bool:
        return any(s.addr <= addr < s.addr + s.size for s in sections)

    syms = nm_symbols(path) or nm_symbols(path, dynamic=True)
    syms = [s for s in syms + (extra_symbols or []) if in_exec(s.address)]
    picked: set[int] = set()
    for sec in sections:
        if sec.name.startswith(".plt"):
            for entry in range(sec.addr, sec.addr + sec.size, 8):
                picked.add(entry)
                picked.add(entry + rnd.randrange(1, 8))
    picked = set(rnd.sample(sorted(picked), min(len(picked), count // 4)))
    if syms:
        for sym in rnd.sample(syms, min(len(syms), count // 4)):
            picked.add(sym.address)
        sized = [s for s in syms if s.size > 1]
        for sym in rnd.sample(sized, min(len(sized), count // 4)):
            picked.add(sym.address + rnd.randrange(1, sym.size))
    while len(picked) < count:
        sec = rnd.choice(sections)
        picked.add(rnd.randrange(sec.addr, sec.addr + sec.size))
    out = sorted(a for a in picked if in_exec(a))
    if len(out) > count:
        out = sorted(rnd.sample(out, count))
    return out
