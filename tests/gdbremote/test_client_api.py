"""pydbg's own api-tier scenarios re-run with the session's targets served by a real
`gdbserver --multi` through the RSP client (pydbg.connect): the `client` fixture of this
module replaces tests/conftest.py's, so the tests imported below (unchanged, from
tests/api) launch their programs with vRun and drive them over the protocol.

Tests that cannot pass through a GDB-remote server are listed in UNSUPPORTED with the
reason, and reported as skipped under their own names.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import events, launch, out_file, start, threads_target  # noqa: F401
from tests.api.test_session import *  # noqa: F403
from tests.api.test_stepping import *  # noqa: F403
from tests.gdbremote.client_support import multi_server_client, skipped

pytestmark = pytest.mark.skipif(shutil.which("gdbserver") is None, reason="needs gdbserver")

_ONE = "one connection serves one process (a second target needs a second connection)"
UNSUPPORTED: dict[str, str] = {
    "test_target_killed_from_outside_while_broken_in": (
        "an all-stop server reports a death only when the target is resumed"
    ),
    "test_fork_child_is_debugged_with_debug_process": "fork events are not followed yet",
    "test_end_session_active_terminate_kills_every_target": _ONE,
    "test_end_session_active_detach_leaves_every_target_running": _ONE,
    "test_end_session_passive_kills_launched_and_detaches_attached": _ONE,
    "test_session_lasts_until_the_last_target_exits": _ONE,
    "test_thread_creation_and_exit_are_reported": (
        "threads are seen at the next stop (qfThreadInfo): gdbserver 13 drops the "
        "connection with QThreadEvents in all-stop"
    ),
    "test_step_branch_ends_at_the_branch_target": "branch stepping is not offered (no BTF)",
}


for _name, _reason in UNSUPPORTED.items():
    globals()[_name] = skipped(_name, _reason)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    """A session on a fresh `gdbserver --multi` (tests/gdbremote/client_support.py)."""
    with multi_server_client(tmp_path) as c:
        yield c
