"""The layer boundary (DESIGN.md, "Rules of the boundary"): only csrc/ talks to the kernel.

No Python file under pydbg/ may call ptrace, waitpid or any os.wait*, process_vm_readv/
writev or tgkill, nor open /proc/PID/mem; the compiled extension is the one exception.
The check parses the sources, so prose in docstrings and comments that *mentions* these
calls is fine.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = Path(ROOT) / "pydbg"
FORBIDDEN_CALLS = {
    "ptrace",
    "waitpid",
    "wait",
    "wait3",
    "wait4",
    "waitid",
    "process_vm_readv",
    "process_vm_writev",
    "tgkill",
    "tkill",
    "pidfd_send_signal",
}


# `wait` is also the name of the native tracer's own wait (Tracer.wait, Backend.wait), which
# the engine must call; it is forbidden only as the os/posix/libc function.
OS_ONLY = {"wait"}
OS_MODULES = {"os", "posix", "libc", "_libc"}


def _python_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyi"))


def _name_of(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _string_parts(node: ast.expr) -> str:
    """The literal text of a str constant or f-string (holes left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "{}".join(_string_parts(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _string_parts(node.left)  # "/proc/%d/mem" % pid
    if isinstance(node, ast.BinOp):
        return _string_parts(node.left) + "{}" + _string_parts(node.right)
    return ""


def _opens_proc_mem(node: ast.Call) -> bool:
    if _name_of(node.func) not in ("open", "fdopen", "Path"):
        return False
    if not node.args:
        return False
    text = _string_parts(node.args[0]).replace("{}{}", "{}")
    return text.startswith("/proc/") and text.rstrip("/").endswith("/mem")


def violations(source: str, filename: str) -> list[str]:
    found = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name_of(node.func)
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            if (
                name in OS_ONLY
                and isinstance(receiver, ast.expr)
                and not (isinstance(receiver, ast.Name) and receiver.id in OS_MODULES)
            ):
                pass  # a method of some object: the native tracer's wait
            elif name in FORBIDDEN_CALLS:
                found.append(f"{filename}:{node.lineno}: calls {name}()")
            if _opens_proc_mem(node):
                found.append(f"{filename}:{node.lineno}: opens /proc/PID/mem")
            # getattr(libc, "ptrace") and ctypes lookups by name.
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value in FORBIDDEN_CALLS:
                    found.append(f"{filename}:{node.lineno}: looks up {arg.value!r}")
        if isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and key.value in FORBIDDEN_CALLS:
                found.append(f"{filename}:{node.lineno}: looks up {key.value!r}")
    return found


def test_no_kernel_calls_outside_the_extension():
    files = _python_files()
    assert files, "pydbg/ has no Python sources to check"
    found = []
    for path in files:
        found += violations(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        "os.waitpid(-1, 0)",
        "os.wait()",
        "wait()",
        "libc.wait(None)",
        "libc.ptrace(16, pid, 0, 0)",
        "getattr(libc, 'process_vm_readv')",
        "libc['tgkill']",
        "open(f'/proc/{pid}/mem', 'rb')",
        "open('/proc/%d/mem' % pid, 'rb')",
        "open('/proc/' + str(pid) + '/mem')",
    ],
)
def test_the_checker_catches(snippet):
    assert violations(snippet, "example.py")


def test_the_checker_allows_mentions():
    source = '"""This module never calls ptrace or waitpid; see /proc/PID/mem."""\n'
    source += "open(f'/proc/{pid}/status')\n"
    source += "self.backend.wait(0.5)\n"
    assert violations(source, "example.py") == []


def test_extension_is_the_only_binary():
    binaries = [p.name for p in PACKAGE.rglob("*") if p.suffix == ".so"]
    assert all(name.startswith("_native.") for name in binaries), binaries
    assert os.path.isdir(PACKAGE)
