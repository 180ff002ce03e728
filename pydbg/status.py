"""Execution-status precedence: which DEBUG_STATUS_* instruction wins when several arrive.

After an event every interested callback, the matching event filter and a triggered
breakpoint's command each give a DEBUG_STATUS_* "vote"; DbgEng acts on the one with the highest
precedence (spec §1.1, §4.6). Precedence is not numeric order, so it is written down once here,
as `PRECEDENCE`, and everything else (`precedence`, `combine`, `is_settable`) is derived from it:

    BREAK > STEP_INTO > STEP_BRANCH > STEP_OVER > GO_NOT_HANDLED > GO_HANDLED > GO
          > IGNORE_EVENT > RESTART_REQUESTED > NO_CHANGE

As a rule of thumb higher precedence means less target execution, which is why a callback
cannot veto a BREAK that a filter asked for.

What happens after the vote (NO_CHANGE becoming GO, GO on an exception becoming handled or not
per the filter's continue option) is the dispatcher's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pydbg.constants import DEBUG_STATUS_MASK, DebugStatus
from pydbg.errors import InvalidStatusError

__all__ = [
    "PRECEDENCE",
    "INSTRUCTING",
    "REPORTING_ONLY",
    "REVERSE",
    "SETTABLE",
    "precedence",
    "combine",
    "is_settable",
]

# The one precedence table: highest first, exactly as documented (§1.1).
PRECEDENCE: Final[tuple[DebugStatus, ...]] = (
    DebugStatus.BREAK,
    DebugStatus.STEP_INTO,
    DebugStatus.STEP_BRANCH,
    DebugStatus.STEP_OVER,
    DebugStatus.GO_NOT_HANDLED,
    DebugStatus.GO_HANDLED,
    DebugStatus.GO,
    DebugStatus.IGNORE_EVENT,
    DebugStatus.RESTART_REQUESTED,
    DebugStatus.NO_CHANGE,
)

# Rank 0 is NO_CHANGE, the lowest; the highest is len(PRECEDENCE) - 1 (BREAK).
_RANK: Final[dict[int, int]] = {
    int(status): len(PRECEDENCE) - 1 - index for index, status in enumerate(PRECEDENCE)
}

# Codes a callback, filter or breakpoint command may return.
INSTRUCTING: Final[frozenset[DebugStatus]] = frozenset(PRECEDENCE)

# Codes the engine reports but nobody may instruct with (the docs mark them N/A, §1.1).
REPORTING_ONLY: Final[frozenset[DebugStatus]] = frozenset(
    {
        DebugStatus.NO_DEBUGGEE,
        DebugStatus.OUT_OF_SYNC,
        DebugStatus.WAIT_INPUT,
        DebugStatus.TIMEOUT,
    }
)

# Time-travel instructions: DbgEng documents no precedence for them and pydbg cannot run a
# Linux process backwards (§9.3), so they are rejected rather than guessed at.
REVERSE: Final[frozenset[DebugStatus]] = frozenset(
    {
        DebugStatus.REVERSE_GO,
        DebugStatus.REVERSE_STEP_BRANCH,
        DebugStatus.REVERSE_STEP_OVER,
        DebugStatus.REVERSE_STEP_INTO,
    }
)

# SetExecutionStatus accepts the codes whose precedence lies between GO and STEP_INTO
# inclusive (§1.3): GO, GO_HANDLED, GO_NOT_HANDLED, STEP_OVER, STEP_BRANCH, STEP_INTO.
SETTABLE: Final[frozenset[DebugStatus]] = frozenset(
    status
    for status in PRECEDENCE
    if _RANK[DebugStatus.GO] <= _RANK[status] <= _RANK[DebugStatus.STEP_INTO]
)

# A status word is at most a ULONG64: the ChangeEngineState argument that carries the flag bits.
_ULONG64_MAX: Final = (1 << 64) - 1


def _plain_votes() -> dict[int | None, DebugStatus]:
    votes: dict[int | None, DebugStatus] = {code: DebugStatus(code) for code in _RANK}
    votes[None] = DebugStatus.NO_CHANGE
    return votes


def _instruction(status: int | None) -> DebugStatus:
    """The instructing code in `status`, flag bits stripped; raise if it is not one."""
    if status is None:
        # A Python callback that falls off its end returns None: "no opinion".
        return DebugStatus.NO_CHANGE
    # bool is an int, and True would silently vote GO; a callback returning True/False almost
    # certainly meant something else, so refuse it instead of guessing.
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(
            f"an execution status must be a DEBUG_STATUS_* int or None, "
            f"not {type(status).__name__} {status!r}"
        )
    if not 0 <= status <= _ULONG64_MAX:
        raise InvalidStatusError(f"execution status {status:#x} is not a ULONG64 status word")
    code = status & DEBUG_STATUS_MASK
    if code in _RANK:
        return DebugStatus(code)
    try:
        member = DebugStatus(code)
    except ValueError:
        raise InvalidStatusError(
            f"execution status {code}{_masked_from(status, code)} is not a DEBUG_STATUS_* code "
            f"(defined codes are 0..{max(DebugStatus)})"
        ) from None
    if member in REVERSE:
        why = "a reverse-execution (time-travel) status, which pydbg does not support"
    else:
        why = "a reporting-only status, not an instruction"
    raise InvalidStatusError(
        f"DEBUG_STATUS_{member.name} ({code}){_masked_from(status, code)} is {why}"
    )


def _masked_from(status: int, code: int) -> str:
    """For messages: name the status word `code` was masked out of, when they differ."""
    return "" if status == code else f" (masked from {status:#x})"


def precedence(status: int | None) -> int:
    """The rank of an instructing status: 0 for NO_CHANGE (or None) up to 9 for BREAK.

    Flag bits above DEBUG_STATUS_MASK (DEBUG_STATUS_INSIDE_WAIT, DEBUG_STATUS_WAIT_TIMEOUT) are
    ignored. Reporting-only and reverse codes have no rank: ValueError.
    """
    return _RANK[_instruction(status)]


_NO_CHANGE = DebugStatus.NO_CHANGE


def combine(votes: Iterable[int | None]) -> DebugStatus:
    """The winning instruction among `votes`: the one with the highest precedence.

    None counts as NO_CHANGE, and no votes at all give NO_CHANGE. Each vote is masked with
    DEBUG_STATUS_MASK first, so flag bits never change the outcome and never appear in the
    result. A reporting-only or reverse code (or a value that is no DEBUG_STATUS_* code at all)
    raises ValueError naming it: a vote that cannot be ranked is a bug in whoever cast it (the
    spec's reference combine treats it as E_INVALIDARG).
    """
    best = _NO_CHANGE  # (a module constant: enum class attributes are slow to read)
    best_rank = 0
    for vote in votes:
        # The common votes (bare codes, None) are looked up; anything else is checked.
        kind = vote.__class__
        status = (
            PLAIN_VOTES.get(vote) if kind is int or kind is DebugStatus or vote is None else None
        )
        if status is None:
            status = _instruction(vote)
        rank = _RANK[status]
        if rank > best_rank:
            best, best_rank = status, rank
    return best


def is_settable(status: object) -> bool:
    """Whether SetExecutionStatus accepts `status` (GO..STEP_INTO by precedence, §1.3).

    The value must be the bare code: the INSIDE_WAIT / WAIT_TIMEOUT bits only appear in
    notifications, so a request carrying them is not legal. Never raises.
    """
    return isinstance(status, int) and not isinstance(status, bool) and status in SETTABLE


# Vote -> instruction for the votes that need no checking: each bare instructing code, and
# None.  Callers look up only ints, DebugStatus members and None: True and 1.0 equal 1 and
# would hash like GO.
PLAIN_VOTES: Final[dict[int | None, DebugStatus]] = _plain_votes()
