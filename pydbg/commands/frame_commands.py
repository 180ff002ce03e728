"""The scope frame in commands: `.frame`, `.f+`, `.f-` (IDebugSymbols::SetScopeFrameByIndex).

    .frame              show the scope frame, as `kn` shows it
    .frame N            make frame N (a number as `kn` prints it, in the radix; inline
                        frames count) the scope: in an inline frame `dv` and `??` see
                        the inlined function's parameters and locals
    .frame /r [N]       the same, then the frame's registers and instruction, as `r` shows them
    .f+ / .f-           the next frame out (the caller) / back in (the callee)

After `.frame N`, `r` and register expressions (`? @rbp`) read that frame's registers as
the unwinder recovered them (pydbg.registers: rip, rsp and the callee-saved registers of a
caller; the others show as question marks; an inline frame has those of the physical frame
holding it), until the current thread changes or the targets run.  A frame beyond the
stack is an error and leaves the scope as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydbg.addresses import hex64
from pydbg.commands.errors import CommandError
from pydbg.commands.interpreter import command
from pydbg.control import DEBUG_CURRENT_DEFAULT, StackFrame
from pydbg.symbols import ScopeError

if TYPE_CHECKING:
    from pydbg.commands.interpreter import Interpreter

__all__ = ["frame_line"]


# The Child-SP and RetAddr columns of an inline frame, as cdb fills them.
INLINE_COLUMNS = "(Inline Function) --------`--------"


def frame_line(frame: StackFrame, numbered: bool = True, words: str = "") -> str:
    """One `k` line: [frame number], child-SP, return address, [words], call site with
    `[file @ line]` where the line is known.  An inline frame (get_stack_trace_ex) has
    no stack pointer or return address of its own: cdb's `(Inline Function)` columns,
    and blanks for the words."""
    number = f"{frame.frame_number:02x} " if numbered else ""
    site = frame.symbol or hex64(frame.instruction_offset)
    if frame.source:
        file, _, line = frame.source.rpartition(":")
        site += f" [{file} @ {line}]"
    if frame.inline:
        extra = f"{' ' * len(words)} " if words else ""
        return f"{number}{INLINE_COLUMNS} {extra}{site}"
    extra = f"{words} " if words else ""
    return f"{number}{hex64(frame.stack_offset)} {hex64(frame.return_offset)} {extra}{site}"


def _show(interp: Interpreter, frame: StackFrame, registers: bool) -> None:
    interp.out(frame_line(frame) + "\n")
    if registers:
        from pydbg.commands.state_display import PROMPT_PARTS, state_text

        interp.out(state_text(interp, DEBUG_CURRENT_DEFAULT, PROMPT_PARTS.keys()))


def _set(interp: Interpreter, index: int, registers: bool) -> None:
    try:
        frame = interp.client.symbols.set_scope_frame_by_index_ex(index)
    except ScopeError as exc:
        raise FrameError(str(exc)) from None
    _show(interp, frame, registers)


class FrameError(CommandError, IndexError):
    """A frame the stack does not have (`.frame 99`, `.f-` in frame 0)."""


@command(
    ".frame",
    summary="Show or select the scope frame; r then shows its registers",
    syntax=".frame [/r] [N]",
    example=".frame /r 1",
)
def _frame(interp: Interpreter, rest: str) -> None:
    text = rest.strip()
    registers = False
    if text[:2].lower() == "/r":
        registers, text = True, text[2:].strip()
    elif text.startswith("/"):
        raise CommandError(f".frame {rest}: unknown option {text.split()[0]!r} (only /r)")
    if text:
        _set(interp, interp.evaluate(text), registers)
    else:
        symbols = interp.client.symbols
        index = symbols.get_current_scope_frame_index_ex()
        frames = interp.client.control.get_stack_trace_ex(index + 1)
        _show(interp, frames[min(index, len(frames) - 1)], registers)


@command(
    ".f+",
    ".f-",
    ".f",
    summary="Select the next frame out (.f+, the caller) or in (.f-, the callee)",
    syntax=".f+ | .f-",
    example=".f+",
)
def _frame_step(interp: Interpreter, rest: str) -> None:
    # `.f+` reaches here as `.f` with "+" (a dot command's name is letters and digits).
    direction = rest.strip()
    if direction not in ("+", "-"):
        raise CommandError(f".f{rest}: expected .f+ or .f-")
    index = interp.client.symbols.get_current_scope_frame_index_ex()
    if direction == "+":
        _set(interp, index + 1, False)
    elif index == 0:
        raise FrameError(".f-: the scope is frame 0 already, the innermost")
    else:
        _set(interp, index - 1, False)
