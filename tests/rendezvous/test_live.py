"""Module lists of real processes from the loader's rendezvous: at the first instruction,
at main, across dlopen / dlclose / dlmopen with a breakpoint on r_brk, for static programs,
and for a process seized while it runs.  Every list is checked against what the kernel
shows in /proc/PID/maps and against the files themselves.
"""

from __future__ import annotations

import os

import pytest

from pydbg._native import EventKind
from pydbg.engine.images import image_facts
from pydbg.engine.rendezvous import (
    AT_SYSINFO_EHDR,
    RState,
    breakpoint_address,
    diff_objects,
    find_r_debug,
    loaded_objects,
    loader_symbol,
    locate_r_debug,
    main_image,
    read_r_debug,
)
from tests.rendezvous.conftest import (
    DlopenTarget,
    file_build_id,
    mapped_objects,
    mapped_span,
    reader,
)
from tests.support import auxv

ADD, CONSISTENT, DELETE = RState.ADD, RState.CONSISTENT, RState.DELETE


def _check_against_maps(pid: int, objects) -> None:
    """Every mapped ELF file and the vDSO listed once, with the kernel's extent and the
    file's build id."""
    listed = [o.path for o in objects]
    assert sorted(listed) == sorted(mapped_objects(pid))
    for obj in objects:
        assert (obj.base, obj.size) == mapped_span(pid, obj.path), obj
        if obj.is_vdso:
            assert obj.module_name == "vdso" and obj.base == auxv(pid)[AT_SYSINFO_EHDR]
            assert obj.build_id is None or len(obj.build_id) == 40
        else:
            assert obj.build_id == file_build_id(obj.path), obj


def test_first_instruction_lists_what_the_kernel_mapped(dlopen_target: DlopenTarget):
    # `at_exec` was read in the exec stop, before the loader ran one instruction.
    target = dlopen_target
    first = target.at_exec
    assert first.source == "auxv" and first.complete and first.consistent
    # The loader's r_debug exists but is still zero: no version, no list, no r_brk.
    assert first.r_debug is not None and not first.r_debug.initialized
    main, loader, vdso = first.objects
    assert main.is_main and main.name == os.readlink(f"/proc/{target.pid}/exe")
    assert loader.name == main_image(target.pid, target.read).interpreter
    assert loader.module_name.startswith("ld_linux")
    assert vdso.is_vdso and vdso.name == "linux-vdso.so.1" and vdso.path == "[vdso]"


def test_list_at_main_matches_maps(dlopen_target: DlopenTarget):
    target = dlopen_target
    pid, read = target.pid, target.read
    now = loaded_objects(pid, read)
    assert now.source == "rendezvous" and now.complete and now.consistent
    _check_against_maps(pid, now.objects)
    main = now.objects[0]
    facts = image_facts(pid)
    assert main.is_main and main.name == main.path == facts.image_name
    assert (main.base, main.size, main.module_name) == (facts.base, facts.size, facts.module_name)
    assert main.bias == main_image(pid, read).bias
    names = {o.module_name for o in now.objects}
    assert {"libc_so", "vdso", main.module_name} <= names
    assert any(n.startswith("ld_linux") for n in names)
    # DT_DEBUG is set now, and it is the loader's own _r_debug; r_brk is _dl_debug_state.
    image = main_image(pid, read)
    assert find_r_debug(pid, read) == loader_symbol(pid, "_r_debug", image)
    assert locate_r_debug(pid, read) == now.r_debug.address
    assert now.r_debug.brk == target.brk == loader_symbol(pid, "_dl_debug_state", image)
    assert now.r_debug.ldbase == image.interpreter_base
    assert breakpoint_address(pid, read) == target.brk


def test_startup_adds_libc_between_two_loader_stops(dlopen_target: DlopenTarget):
    target = dlopen_target
    # Breaking on _dl_debug_state from the first instruction: once adding, once whole.
    assert target.startup.states == [[ADD], [CONSISTENT]]
    adding, whole = target.startup.hits
    # DT_DEBUG was already set at the first stop, before any library was mapped.
    assert adding.r_debug.address == whole.r_debug.address
    assert len(adding.objects) == 3  # the main program, the loader and the vDSO
    # The first consistent list differs from the exec-time one by libc alone: the main
    # program, loader and vDSO are recognised as the same objects.
    change = target.tracker.update(adding)
    assert change is None  # RT_ADD: nothing to report yet
    change = target.tracker.update(whole)
    assert [o.module_name for o in change.loaded] == ["libc_so"] and not change.unloaded


def test_dlopen_and_dlclose_each_show_one_object(dlopen_target: DlopenTarget):
    target = dlopen_target
    target.tracker.update(target.startup.hits[-1])
    plugin_path = os.path.realpath(target.library)

    opened = target.command("open")
    assert opened.text == "opened"
    assert opened.states == [[ADD], [CONSISTENT]]
    assert target.tracker.update(opened.hits[0]) is None
    change = target.tracker.update(opened.hits[1])
    assert len(change.loaded) == 1 and not change.unloaded
    plugin = change.loaded[0]
    assert plugin.name == target.library and plugin.path == plugin_path
    assert plugin.module_name == "libplugin_so" and plugin.namespace == 0
    assert plugin.build_id == file_build_id(plugin_path) and plugin.build_id
    assert (plugin.base, plugin.size) == mapped_span(target.pid, plugin_path)
    assert plugin.bias == plugin.base  # linked at 0
    _check_against_maps(target.pid, opened.hits[1].objects)

    called = target.command("call")
    assert called.text == "called 4242" and called.hits == []  # no loader activity

    closed = target.command("close")
    assert closed.text == "closed"
    assert closed.states == [[DELETE], [CONSISTENT]]
    assert target.tracker.update(closed.hits[0]) is None
    change = target.tracker.update(closed.hits[1])
    assert change.unloaded == (plugin,) and not change.loaded
    assert plugin_path not in mapped_objects(target.pid)
    _check_against_maps(target.pid, closed.hits[1].objects)
    assert target.finish() == 0


def test_dlmopen_namespace_has_its_own_state(dlopen_target: DlopenTarget):
    target = dlopen_target
    base = target.startup.hits[-1]
    assert base.r_debug.version == 1 and len(base.namespaces) == 1

    opened = target.command("mopen")
    assert opened.text == "mopened"
    # glibc links a second r_debug through r_next and bumps r_version to 2; the base
    # namespace stays RT_CONSISTENT while the new one goes RT_ADD -> RT_CONSISTENT.
    assert opened.states == [[CONSISTENT, ADD], [CONSISTENT, CONSISTENT]]
    whole = opened.hits[1]
    assert whole.r_debug.version == 2 and not opened.hits[0].consistent and whole.consistent
    change = diff_objects(base.objects, whole.objects)
    assert [(o.module_name, o.namespace) for o in change.loaded] == [("libplugin_so", 1)]
    _check_against_maps(target.pid, whole.objects)

    closed = target.command("mclose")
    assert closed.states == [[CONSISTENT, DELETE], [CONSISTENT, CONSISTENT]]
    change = diff_objects(whole.objects, closed.hits[1].objects)
    assert [(o.module_name, o.namespace) for o in change.unloaded] == [("libplugin_so", 1)]
    assert not change.loaded
    assert target.finish() == 0


def test_static_program_has_no_rendezvous(tracer, driver, targets):
    binary = targets.get("loop", "static")
    if binary is None:
        pytest.skip("gcc -static does not work here (no libc.a)")
    pid = tracer.spawn([binary.path, "-1"])
    read = reader(tracer, pid)
    image = main_image(pid, read)
    assert image.interpreter is None and image.interpreter_base == 0
    assert breakpoint_address(pid, read) is None
    at_exec = loaded_objects(pid, read)
    tick = binary.addr(pid, "tick")
    tracer.insert_breakpoint(pid, tick)
    tracer.cont(pid)
    driver.until(lambda e: e.kind == EventKind.BREAKPOINT and e.address == tick)
    running = loaded_objects(pid, read)
    assert running == at_exec
    assert find_r_debug(pid, read) is None and locate_r_debug(pid, read) is None
    assert running.source == "static" and running.r_debug is None and running.complete
    main, vdso = running.objects
    assert main.is_main and main.path == binary.path and main.bias == 0 and main.dynamic == 0
    assert vdso.is_vdso
    _check_against_maps(pid, running.objects)


def test_seized_process_lists_the_same_modules(tracer, procs, targets, libraries):
    binary = targets["dlopen"]
    proc = procs.start([binary.path, libraries["libplugin"]], ready=b"ready")
    proc.stdin.write(b"open\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"opened\n"
    tracer.seize(proc.pid)
    read = reader(tracer, proc.pid)
    found = loaded_objects(proc.pid, read)
    assert found.source == "rendezvous" and found.complete and found.consistent
    _check_against_maps(proc.pid, found.objects)
    assert found.objects[0].is_main and found.objects[0].path == binary.path
    assert "libplugin_so" in {o.module_name for o in found.objects}
    assert breakpoint_address(proc.pid, read) == found.r_debug.brk != 0
    assert read_r_debug(read, found.r_debug.address).map == found.r_debug.map
