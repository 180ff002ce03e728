"""Modules through the loader's rendezvous, end to end: LoadModule / UnloadModule at
dlopen / dlclose, deferred breakpoints in a library that is not loaded yet, and the
symbols facet's module queries, against real processes."""

from __future__ import annotations

import os

import pytest

import pydbg
from pydbg.breakpoints import BreakpointError
from pydbg.constants import (
    DEBUG_BREAKPOINT_DEFERRED,
    DEBUG_CSS_LOADS,
    DEBUG_CSS_UNLOADS,
    DEBUG_INVALID_OFFSET,
    DEBUG_STATUS_GO,
)
from pydbg.engine.images import module_name
from pydbg.symbols import UnknownModuleError
from tests.api.helpers import wait
from tests.api.recording import Recorder

EVENTS = 0x1FFF  # every DEBUG_EVENT_* bit, the module ones included


def go(client: pydbg.DebugClient) -> bool:
    client.control.set_execution_status(DEBUG_STATUS_GO)
    return wait(client)


@pytest.fixture
def plugin(libraries) -> str:
    return libraries["libplugin"]


def test_dlopen_and_dlclose_raise_one_load_and_one_unload(client, targets, plugin) -> None:
    recorder = Recorder(mask=EVENTS)
    client.set_event_callbacks(recorder)
    client.create_process([targets["dlcycle"].path, plugin, "1"])
    assert wait(client)  # the initial breakpoint
    at_start = [c[1] for c in recorder.take() if c[0] == "load_module"]
    assert "ld_linux_x86_64_so" in at_start and "vdso" in at_start
    assert not go(client)  # to the end
    calls = recorder.take()
    loads = [c[1] for c in calls if c[0] == "load_module"]
    unloads = [c[1] for c in calls if c[0] == "unload_module"]
    assert loads.count("libplugin_so") == 1
    assert unloads == [os.path.realpath(plugin)]
    plugin_load = next(
        args for args in recorder.args_of("load_module") if args[3] == "libplugin_so"
    )
    base = plugin_load[1]
    symbol_states = [c[1:] for c in calls if c[0] == "change_symbol_state"]
    assert (DEBUG_CSS_LOADS, base) in symbol_states
    assert (DEBUG_CSS_UNLOADS, base) in symbol_states
    assert client.get_exit_code() == 0


def test_deferred_breakpoint_in_a_library_resolves_at_each_load(client, targets, plugin) -> None:
    client.create_process([targets["dlcycle"].path, plugin, "3"])
    assert wait(client)
    client.control.execute("bu libplugin_so!plugin_value")
    bp = client.control.get_breakpoint_by_id(0)
    assert bp.get_flags() & DEBUG_BREAKPOINT_DEFERRED
    assert bp.get_offset() == DEBUG_INVALID_OFFSET
    for _ in range(3):
        assert go(client)  # stops in plugin_value, once per dlopen
        name, displacement = client.symbols.get_name_by_offset(client.registers.get_value("rip"))
        assert (name, displacement) == ("libplugin_so!plugin_value", 0)
        assert not bp.get_flags() & DEBUG_BREAKPOINT_DEFERRED
    assert not go(client)
    assert client.get_exit_code() == 0


def test_lm_lists_the_loaded_modules_with_build_ids(client, targets, output) -> None:
    binary = targets["dlcycle"]
    client.create_process([binary.path, "/nonexistent.so"])
    assert wait(client)
    client.control.execute("bp before_open; g")
    assert wait(client)
    modules = {m.module_name: m for m in client.symbols.modules()}
    main_name = module_name(binary.path)
    assert {main_name, "libc_so", "ld_linux_x86_64_so", "vdso"} <= set(modules)
    main = modules[main_name]
    assert main.image_name == os.path.realpath(binary.path)
    assert main.build_id and len(main.build_id) == 40
    index, base = client.symbols.get_module_by_module_name("libc_so")
    assert base == modules["libc_so"].base
    assert client.symbols.get_module_by_offset(base + 16) == (index, base)
    output.take()
    client.control.execute("lm")
    text = output.take()
    assert "libc_so" in text and main.build_id in text


def test_unknown_module_and_address_in_no_module(client, targets) -> None:
    client.create_process([targets["dlcycle"].path, "/nonexistent.so"])
    assert wait(client)
    with pytest.raises(UnknownModuleError, match="no module is named 'nosuch'"):
        client.symbols.get_module_by_module_name("nosuch")
    with pytest.raises(UnknownModuleError, match="no module contains"):
        client.symbols.get_module_by_offset(0x10)
    with pytest.raises(pydbg.symbols.SymbolError, match="in no module"):
        client.symbols.get_name_by_offset(0x10)
    with pytest.raises(BreakpointError):
        client.control.execute("bp 0x10")
    assert client.control.get_number_breakpoints() == 0
