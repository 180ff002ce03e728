"""The breakpoints tier (tests/breakpoints: hits and steps) re-run unchanged with the
session's targets served by `gdbserver --multi` through the RSP client; what cannot pass
through a GDB-remote server is in UNSUPPORTED, reported as skipped with the reason."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.breakpoints.conftest import launch, out_file  # noqa: F401
from tests.breakpoints.test_hits import *  # noqa: F403
from tests.breakpoints.test_steps import *  # noqa: F403
from tests.gdbremote.client_support import multi_server_client, skipped

pytestmark = pytest.mark.skipif(shutil.which("gdbserver") is None, reason="needs gdbserver")

UNSUPPORTED: dict[str, str] = {}

for _name, _reason in UNSUPPORTED.items():
    globals()[_name] = skipped(_name, _reason)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    with multi_server_client(tmp_path) as c:
        yield c
