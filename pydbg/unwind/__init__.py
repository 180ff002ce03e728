"""Stack unwinding for x86_64 Linux: call stacks from a stopped thread's registers and memory.

`unwind(regs, read_memory, module_at)` walks the frames with DWARF CFI (`cfi`), falling back
to the frame-pointer chain, and passes through signal frames (`unwinder`); the frames and
their vocabulary are in `frames`.  Pure Python over callbacks, so it serves a live tracee,
a core file or a test fake alike:

    frames = unwind(
        tracer.get_regs(tid).as_dict(),
        lambda address, size: tracer.read_memory(pid, address, size),
        module_at,  # address -> ModuleInfo(path, bias, debug_path) or None
    )
    for frame in frames:
        print(frame.number, hex(frame.pc), frame.method.value)
    if frames[-1].best_effort:
        print("stopped:", frames[-1].stop.value, frames[-1].error or "")
"""

from pydbg.unwind.cfi import CfaRule, CfiRow, ElfCfi, RegisterRule, RuleKind, load_cfi
from pydbg.unwind.frames import Frame, FrameMethod, ModuleInfo, UnwindError, UnwindStop
from pydbg.unwind.unwinder import unwind

__all__ = [
    "CfaRule",
    "CfiRow",
    "ElfCfi",
    "Frame",
    "FrameMethod",
    "ModuleInfo",
    "RegisterRule",
    "RuleKind",
    "UnwindError",
    "UnwindStop",
    "load_cfi",
    "unwind",
]
