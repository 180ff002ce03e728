"""The README's Scripting examples run as written (each in a fresh interpreter, from a
directory holding the `script` target as ./script), and print what the programs did."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.support import ROOT


def _examples() -> list[str]:
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("\n## Scripting\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


@pytest.fixture
def run_example(targets, tmp_path):
    shutil.copy(targets["script"].path, tmp_path / "script")

    def run(code: str) -> str:
        env = dict(os.environ, PYTHONPATH=ROOT)
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def test_the_readme_has_the_three_examples():
    assert len(_examples()) == 3


def test_malloc_histogram(run_example):
    (line,) = run_example(_examples()[0]).splitlines()
    match = re.fullmatch(r"(\d+) calls; most asked: (\[.*\])", line)
    assert match, line
    histogram = eval(match.group(2))  # noqa: S307 - a list of (size, count) we printed
    assert int(match.group(1)) >= sum(count for _, count in histogram) > 0


def test_which_function_writes_a_global(run_example):
    lines = run_example(_examples()[1]).splitlines()
    assert lines[-1] == "exit code 0"
    writes = [line for line in lines if "->" in line]
    assert [w.split(": ")[1] for w in writes] == ["0 -> 5", "5 -> 9"]
    assert all(w.startswith("script!writer+0x") for w in writes)
    assert "watched 9" in lines  # the program's own line (same stdout)


def test_instruction_count(run_example):
    (line,) = run_example(_examples()[2]).splitlines()
    match = re.fullmatch(r"(\d+) instructions", line)
    assert match and int(match.group(1)) > 1000, line
