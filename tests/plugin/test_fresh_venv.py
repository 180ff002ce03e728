"""The issue's bar: the plugin works in a fresh venv from installing the package alone.  A
copy of this checkout (so the in-tree build leaves the checkout as it is) is installed
with pip, without -e, into a new venv next to pytest; pytest there finds the plugin through
its `pytest11` entry point, with no -p and no PYTHONPATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.support import ROOT

SOURCE_IGNORED = shutil.ignore_patterns(
    ".git", "build", "*.so", "*.egg-info", "__pycache__", "*_cache", "tests", "bench"
)


@pytest.mark.timeout(900)
def test_the_plugin_works_from_a_plain_install(tmp_path, targets):
    src, venv = tmp_path / "src", tmp_path / "venv"
    shutil.copytree(ROOT, src, ignore=SOURCE_IGNORED)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(src), "pytest"],
        capture_output=True,
        text=True,
        env=env,
        timeout=800,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    work = tmp_path / "work"
    work.mkdir()
    (work / "test_native.py").write_text(
        textwrap.dedent(f"""
            from pydbg.testing import run

            def test_crash_test():
                assert run([{targets["crash"].path!r}, "segv"]).status == 0
        """)
    )

    def pytest_in_venv(*options: str) -> str:
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", *options],
            cwd=work,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    plain = pytest_in_venv()
    assert "assert 139 == 0" in plain and "pydbg crash report" not in plain
    reported = pytest_in_venv("--pydbg-crash-report")
    assert "pydbg crash report:" in reported and "!inner+0x" in reported
