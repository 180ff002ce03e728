"""Fixtures of the C-expression tests: the cexpr target built -O0 -g (PIE), a client
stopped at its start, and gdb in batch mode (tests.dwarf.conftest.gdb_batch) as the oracle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest

from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.support import TARGET_SOURCES

SOURCE = os.path.join(TARGET_SOURCES, "cexpr.c")


@pytest.fixture(scope="session")
def cexpr_binary(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the cexpr target")
    out = str(tmp_path_factory.mktemp("cexpr") / "cexpr")
    cmd = ["gcc", "-Wall", "-Wextra", "-Werror", "-g", "-O0", "-fPIE", "-pie", SOURCE, "-o", out]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def source_line(marker: str) -> int:
    """The line of cexpr.c holding `marker`."""
    with open(SOURCE) as f:
        for number, line in enumerate(f, 1):
            if marker in line:
                return number
    raise AssertionError(f"{marker!r} is not in {SOURCE}")


@pytest.fixture
def session(client, output, cexpr_binary) -> Callable[[str], str]:
    """run(command) -> its output, on the cexpr target stopped at its initial break."""
    client.create_process([cexpr_binary])
    assert wait(client)
    output.take()

    def run(command: str) -> str:
        client.control.execute(command)
        return output.take()

    return run


def go(client) -> bool:
    """Run to the next event; False when the process ended."""
    client.control.set_execution_status(DEBUG_STATUS_GO)
    return wait(client) and bool(client.system_objects.get_number_processes())
