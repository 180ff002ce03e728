"""C++ virtual bases (diamond inheritance): the shared base's members are read at the
offset the object's vtable gives, as gdb shows them in `info locals`."""

from __future__ import annotations

import os
import re

import pytest

from pydbg.constants import DEBUG_STATUS_GO
from tests.api.helpers import wait
from tests.dwarf.conftest import _build, gdb_batch, needs_gdb
from tests.dwarf.test_variables_vs_gdb import _section, normalize
from tests.support import TARGET_SOURCES


@pytest.fixture(scope="module")
def vbase(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("vbase") / "vbase")
    _build(os.path.join(TARGET_SOURCES, "vbase.cpp"), out, "O0-pie")
    return out


@needs_gdb
def test_diamond_matches_gdb(client, output, vbase) -> None:
    text = gdb_batch(vbase, ["break checkpoint", "run", "up", "echo @@\\n", "info locals"])
    expected = _section(text.splitlines(), text.splitlines().index("@@") + 1)
    assert "a = 11" in expected["obj"] and "a = 5" in expected["lone"]
    client.create_process([vbase])
    assert wait(client)
    client.control.execute("bp checkpoint")
    client.control.set_execution_status(DEBUG_STATUS_GO)
    assert wait(client)
    client.symbols.set_scope_frame_by_index(1)
    ours = {e.name: e.value_text for e in client.symbols.get_scope_symbol_group().entries()}
    assert {k: normalize(v) for k, v in ours.items()} == {
        k: normalize(v) for k, v in expected.items()
    }
    obj = client.symbols.get_variable_value("obj")
    assert re.search(r"a = 11", ours["obj"]) and int(obj["a"]) == 11
    output.take()
    client.control.execute("?? obj.a")
    assert output.take() == "int 11\n"  # ?? reaches the virtual base's member by name
