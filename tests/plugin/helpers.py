"""Running an inner pytest session in a subprocess, as a CI job would run the user's tests:
a test file written to a temporary directory, the plugin loaded with `-p` from this
checkout (PYTHONPATH), entry-point autoloading off so the result does not depend on what
else is installed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT

INNER_LIMIT = 120  # seconds; an inner run that takes longer is broken


@dataclass
class InnerRun:
    returncode: int
    output: str
    junit: Path
    basetemp: Path

    def properties(self) -> list[tuple[str, str]]:
        """Every (name, value) JUnit XML property of every test case."""
        root = ET.parse(self.junit).getroot()
        return [(p.get("name", ""), p.get("value", "")) for p in root.iter("property")]


def run_inner(tmp_path: Path, source: str, *options: str) -> InnerRun:
    """Write `source` as test_inner.py in tmp_path and run pytest on it in a subprocess."""
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(source))
    junit = tmp_path / "junit.xml"
    basetemp = tmp_path / "basetemp"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "pydbg.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            f"--junitxml={junit}",
            f"--basetemp={basetemp}",
            "--rootdir",
            str(tmp_path),
            *options,
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=INNER_LIMIT,
    )
    return InnerRun(proc.returncode, proc.stdout + proc.stderr, junit, basetemp)
