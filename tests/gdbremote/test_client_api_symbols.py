"""The symbols tier (tests/symbols) re-run unchanged with the
session's targets served by `gdbserver --multi` through the RSP client; what cannot pass
through a GDB-remote server is in UNSUPPORTED, reported as skipped with the reason."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gdbremote.client_support import multi_server_client, skipped
from tests.symbols.test_modules import *  # noqa: F403
from tests.symbols.test_stack_and_symbols import *  # noqa: F403

pytestmark = pytest.mark.skipif(shutil.which("gdbserver") is None, reason="needs gdbserver")

UNSUPPORTED: dict[str, str] = {
    "test_deferred_breakpoint_in_a_library_resolves_at_each_load": (
        "a Z0 site in a library that is unloaded and loaded again: gdbserver keeps "
        "its record of the lost int3 and the next insertion does not reach memory"
    ),
}

for _name, _reason in UNSUPPORTED.items():
    globals()[_name] = skipped(_name, _reason)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    with multi_server_client(tmp_path) as c:
        yield c
