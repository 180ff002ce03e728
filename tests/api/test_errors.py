"""The public errors: every class of pydbg.errors is exported from `pydbg` and is a PydbgError
(the session's, the symbol errors and the unwinder's included), and a symbol that no module
defines, or several define, raises its typed error through the public calls, against real
processes.
"""

from __future__ import annotations

import pytest

import pydbg
import pydbg.engine.session
import pydbg.errors
import pydbg.unwind
from pydbg.commands.errors import ExpressionError
from pydbg.symbols import UnknownModuleError
from tests.api.helpers import WAIT_LIMIT

PUBLIC = [name for name in pydbg.errors.__all__ if name != "from_errno"]


def test_the_session_and_symbol_errors_import_from_pydbg() -> None:
    from pydbg import (
        AmbiguousSymbolError,
        EngineError,
        InsideWaitError,
        NoTargetError,
        PydbgError,
        SessionFailedError,
        SymbolError,
        TargetRunningError,
        UnknownSymbolError,
    )

    for cls in (NoTargetError, InsideWaitError, TargetRunningError, SessionFailedError):
        assert issubclass(cls, EngineError)
        assert issubclass(cls, PydbgError)
    for cls in (UnknownSymbolError, AmbiguousSymbolError):
        assert issubclass(cls, SymbolError)
        assert issubclass(cls, PydbgError)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_error_class_is_exported_from_pydbg_and_is_a_pydbg_error(name: str) -> None:
    cls = getattr(pydbg.errors, name)
    assert getattr(pydbg, name) is cls
    assert name in pydbg.__all__
    assert issubclass(cls, pydbg.PydbgError)


@pytest.mark.parametrize(
    "name",
    ["EngineError", "NoTargetError", "InsideWaitError", "TargetRunningError", "SessionFailedError"],
)
def test_the_engine_module_still_exports_the_same_classes(name: str) -> None:
    assert getattr(pydbg.engine.session, name) is getattr(pydbg.errors, name)
    assert name in pydbg.engine.session.__all__


def test_unwind_error_is_a_pydbg_error() -> None:
    assert issubclass(pydbg.unwind.UnwindError, pydbg.PydbgError)
    with pytest.raises(pydbg.PydbgError, match="rip and rsp"):
        pydbg.unwind.unwind({}, lambda address, size: b"", lambda address: None)


def test_a_session_call_without_a_target_raises_no_target_error(client) -> None:
    with pytest.raises(pydbg.NoTargetError):
        client.control.wait_for_event(timeout=0)


def test_an_unknown_symbol_raises_unknown_symbol_error(client, targets) -> None:
    client.create_process([targets["loop"].path, "1"])
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)
    assert client.control.evaluate("tick") == client.symbols.get_offset_by_name("tick")

    with pytest.raises(pydbg.UnknownSymbolError, match="unknown symbol 'no_such_symbol'") as info:
        client.control.evaluate("no_such_symbol + 1")
    assert info.value.name == "no_such_symbol"
    assert isinstance(info.value, ExpressionError)  # still a bad expression for the commands

    with pytest.raises(pydbg.UnknownSymbolError) as info:
        client.symbols.get_offset_by_name("no_such_symbol")
    assert info.value.name == "no_such_symbol"

    # A module that is not loaded: an unknown symbol (a later load may define it), and for
    # get_offset_by_name also the unknown module it is.
    with pytest.raises(pydbg.UnknownSymbolError) as info:
        client.control.evaluate("libnotyet_so!f")
    assert info.value.name == "libnotyet_so!f"
    with pytest.raises(pydbg.UnknownSymbolError) as info:
        client.symbols.get_offset_by_name("libnotyet_so!f")
    assert isinstance(info.value, UnknownModuleError)

    with pytest.raises(pydbg.UnknownSymbolError):
        client.control.execute("? no_such_symbol")
    # The session is unharmed: a good expression still evaluates.
    assert client.control.evaluate("tick") == client.symbols.get_offset_by_name("tick")


def test_a_symbol_two_namespaces_define_raises_ambiguous_symbol_error(
    client, procs, targets, libraries
) -> None:
    # dlopen and dlmopen load libplugin twice, at two addresses, and the main image does
    # not define plugin_value: the bare name is ambiguous, and the error names the copies.
    proc = procs.start([targets["dlopen"].path, libraries["libplugin"]], ready=b"ready")
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"open\nmopen\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"opened\n"
    assert proc.stdout.readline() == b"mopened\n"
    client.attach_process(proc.pid)
    assert client.control.wait_for_event(timeout=WAIT_LIMIT)

    with pytest.raises(pydbg.AmbiguousSymbolError, match="ambiguous") as info:
        client.symbols.get_offset_by_name("plugin_value")
    assert info.value.name == "plugin_value"
    assert len(info.value.candidates) == 2
    assert all(c.endswith("!plugin_value") for c in info.value.candidates)
    with pytest.raises(pydbg.AmbiguousSymbolError):
        client.control.evaluate("plugin_value")
