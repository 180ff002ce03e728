"""The parts every report shows: the call stack of each thread (as `kn` shows it, inline
frames included: control.get_stack_trace_ex) and the module list (as `lm` shows it), built
from client.control, client.system_objects and client.symbols."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydbg.commands.frame_commands import frame_line
from pydbg.commands.symbol_commands import MODULES_HEADER, module_line
from pydbg.control import StackFrame
from pydbg.errors import PydbgError
from pydbg.symbols import Module

if TYPE_CHECKING:
    from pydbg.client import DebugClient

__all__ = [
    "ThreadStack",
    "frame_json",
    "module_json",
    "modules_text",
    "thread_stack",
    "thread_stacks",
]

# Frames walked per thread: deep enough for any sane stack, bounded for a stack overflow
# (whose recursion is tens of thousands of frames deep; the first ones tell the story).
MAX_FRAMES = 256


def _split_symbol(symbol: str) -> tuple[str, str, int]:
    """`crash!inner+0xc` -> ("crash", "inner", 12); `libc_so+0x1234` -> ("libc_so", "", ...)."""
    if not symbol:
        return "", "", 0
    name, plus, offset = symbol.rpartition("+0x")
    if not plus:
        name, offset = symbol, "0"
    module, bang, function = name.partition("!")
    return module, function if bang else "", int(offset, 16)


def frame_json(frame: StackFrame) -> dict[str, Any]:
    """One frame as the JSON reports write it (pydbg.reports.jsonl)."""
    module, function, offset = _split_symbol(frame.symbol)
    file, _, line = frame.source.rpartition(":")
    return {
        "number": frame.frame_number,
        "pc": frame.instruction_offset,
        "return_address": frame.return_offset,
        "stack_pointer": frame.stack_offset,
        "symbol": frame.symbol or None,
        "module": module or None,
        "function": function or None,
        "offset": offset if function else None,
        "file": file or None,
        "line": int(line) if line.isdigit() else None,
        "inline": frame.inline,
    }


@dataclass(frozen=True)
class ThreadStack:
    """One thread's call stack: engine id, tid, frames innermost first; `truncated` when
    the walk stopped at MAX_FRAMES, `error` when it could not be walked at all."""

    engine_id: int
    tid: int
    frames: tuple[StackFrame, ...]
    truncated: bool = False
    error: str = ""

    def text(self, title: str) -> str:
        lines = [f"{title}:"]
        if self.error:
            lines.append(f"  (no stack: {self.error})")
            return "\n".join(lines) + "\n"
        lines.append(" # Child-SP          RetAddr           Call Site")
        lines.extend(frame_line(frame) for frame in self.frames)
        last = self.frames[-1] if self.frames else None
        if self.truncated:
            lines.append(f"(only the first {len(self.frames)} frames are shown)")
        elif last is not None and last.best_effort:
            lines.append(f"(the walk stopped here: {last.note})")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "engine_id": self.engine_id,
            "tid": self.tid,
            "frames": [frame_json(frame) for frame in self.frames],
            "truncated": self.truncated,
            "error": self.error or None,
        }


def thread_stack(client: DebugClient) -> ThreadStack:
    """The current thread's stack."""
    objects = client.system_objects
    engine_id, tid = objects.get_current_thread_id(), objects.get_current_thread_system_id()
    try:
        frames = client.control.get_stack_trace_ex(MAX_FRAMES)
    except PydbgError as exc:
        return ThreadStack(engine_id, tid, (), error=str(exc))
    return ThreadStack(engine_id, tid, tuple(frames), truncated=len(frames) >= MAX_FRAMES)


def thread_stacks(client: DebugClient) -> list[ThreadStack]:
    """Every thread's stack in the current process, in engine-id order; the current thread
    is current again afterwards."""
    objects = client.system_objects
    current = objects.get_current_thread_id()
    stacks = []
    try:
        for engine_id in objects.get_thread_ids_by_index()[0]:
            objects.set_current_thread_id(engine_id)
            stacks.append(thread_stack(client))
    finally:
        objects.set_current_thread_id(current)
    return stacks


def module_json(module: Module) -> dict[str, Any]:
    """A loaded module as the JSON reports write it."""
    return {
        "name": module.module_name,
        "path": module.image_name,
        "base": module.base,
        "end": module.base + module.size,
        "build_id": module.build_id,
    }


def modules_text(modules: list[Module]) -> str:
    """`lm`, titled."""
    lines = ["Modules:", MODULES_HEADER]
    lines.extend(module_line(module) for module in modules)
    return "\n".join(lines) + "\n"
