"""pydbg.status: the precedence of execution-status votes, and which statuses may be set.

The precedence order and the numeric codes are written here from spec/dbgeng-model.md §1.1
(not imported from pydbg), so the table in pydbg/status.py is checked against the spec, pair by
pair. Engine tier: no processes.
"""

from __future__ import annotations

import itertools

import pytest

from pydbg.constants import DebugStatus
from pydbg.status import INSTRUCTING, PRECEDENCE, combine, is_settable, precedence

# §1.1 codes.
NO_CHANGE, GO, GO_HANDLED, GO_NOT_HANDLED, STEP_OVER, STEP_INTO, BREAK = 0, 1, 2, 3, 4, 5, 6
NO_DEBUGGEE, STEP_BRANCH, IGNORE_EVENT, RESTART_REQUESTED = 7, 8, 9, 10
REVERSE_GO, REVERSE_STEP_BRANCH, REVERSE_STEP_OVER, REVERSE_STEP_INTO = 11, 12, 13, 14
OUT_OF_SYNC, WAIT_INPUT, TIMEOUT = 15, 16, 17
# §1.2 flag bits.
INSIDE_WAIT, WAIT_TIMEOUT = 0x100000000, 0x200000000

# §1.1, highest first: BREAK > STEP_INTO > STEP_BRANCH > STEP_OVER > GO_NOT_HANDLED
#                      > GO_HANDLED > GO > IGNORE_EVENT > RESTART_REQUESTED > NO_CHANGE
ORDER = [
    BREAK,
    STEP_INTO,
    STEP_BRANCH,
    STEP_OVER,
    GO_NOT_HANDLED,
    GO_HANDLED,
    GO,
    IGNORE_EVENT,
    RESTART_REQUESTED,
    NO_CHANGE,
]
# The spec's "Precedence rank (pydbg)" column.
RANKS = {
    BREAK: 9,
    STEP_INTO: 8,
    STEP_BRANCH: 7,
    STEP_OVER: 6,
    GO_NOT_HANDLED: 5,
    GO_HANDLED: 4,
    GO: 3,
    IGNORE_EVENT: 2,
    RESTART_REQUESTED: 1,
    NO_CHANGE: 0,
}
REPORTING_ONLY = {
    NO_DEBUGGEE: "DEBUG_STATUS_NO_DEBUGGEE",
    OUT_OF_SYNC: "DEBUG_STATUS_OUT_OF_SYNC",
    WAIT_INPUT: "DEBUG_STATUS_WAIT_INPUT",
    TIMEOUT: "DEBUG_STATUS_TIMEOUT",
}
REVERSE = {
    REVERSE_GO: "DEBUG_STATUS_REVERSE_GO",
    REVERSE_STEP_BRANCH: "DEBUG_STATUS_REVERSE_STEP_BRANCH",
    REVERSE_STEP_OVER: "DEBUG_STATUS_REVERSE_STEP_OVER",
    REVERSE_STEP_INTO: "DEBUG_STATUS_REVERSE_STEP_INTO",
}
UNRANKED = {**REPORTING_ONLY, **REVERSE}
# §1.3: SetExecutionStatus accepts precedence GO..STEP_INTO inclusive.
SETTABLE = {GO, GO_HANDLED, GO_NOT_HANDLED, STEP_OVER, STEP_BRANCH, STEP_INTO}


def _winner(a: int, b: int) -> int:
    """The higher-ranked of two instructing codes, by position in the spec's list."""
    return a if ORDER.index(a) < ORDER.index(b) else b


# ---- the table ------------------------------------------------------------------------------


def test_table_is_the_documented_order() -> None:
    assert [int(status) for status in PRECEDENCE] == ORDER
    assert all(type(status) is DebugStatus for status in PRECEDENCE)


def test_instructing_codes_are_exactly_the_ranked_ones() -> None:
    assert {int(status) for status in INSTRUCTING} == set(ORDER)


@pytest.mark.parametrize("status", ORDER)
def test_rank_matches_spec(status: int) -> None:
    assert precedence(status) == RANKS[status]


def test_precedence_is_not_numeric_order() -> None:
    # §10.3: STEP_BRANCH (8) sits between STEP_INTO (5) and STEP_OVER (4); RESTART_REQUESTED
    # (10) only beats NO_CHANGE; IGNORE_EVENT (9) loses to GO (1).
    assert precedence(STEP_INTO) > precedence(STEP_BRANCH) > precedence(STEP_OVER)
    assert precedence(RESTART_REQUESTED) == precedence(NO_CHANGE) + 1
    assert precedence(GO) > precedence(IGNORE_EVENT) > precedence(RESTART_REQUESTED)
    assert all(precedence(BREAK) > precedence(s) for s in ORDER if s != BREAK)


# ---- combine: every ordered pair --------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    list(itertools.permutations(ORDER, 2)),
    ids=lambda s: DebugStatus(s).name,
)
def test_pair_picks_higher_precedence(a: int, b: int) -> None:
    expected = _winner(a, b)
    assert combine([a, b]) == expected
    assert combine([b, a]) == expected


@pytest.mark.parametrize("status", ORDER, ids=lambda s: DebugStatus(s).name)
def test_pair_of_equal_votes(status: int) -> None:
    assert combine([status, status]) == status


@pytest.mark.parametrize("status", ORDER, ids=lambda s: DebugStatus(s).name)
def test_single_vote_wins(status: int) -> None:
    assert combine([status]) == status


def test_many_votes_in_any_order() -> None:
    # Drop the winner each round: the next one in the spec's order must win, whatever the order
    # of the votes.
    for top in range(len(ORDER)):
        votes = ORDER[top:]
        for rotation in range(len(votes)):
            rotated = votes[rotation:] + votes[:rotation]
            assert combine(rotated) == ORDER[top]
            assert combine(reversed(rotated)) == ORDER[top]


def test_result_is_a_debug_status() -> None:
    assert type(combine([GO, STEP_OVER])) is DebugStatus
    assert combine([GO, STEP_OVER]) is DebugStatus.STEP_OVER
    assert type(combine([])) is DebugStatus


def test_accepts_any_iterable_once() -> None:
    votes = iter([GO, BREAK, None, STEP_INTO])
    assert combine(votes) == BREAK
    assert combine(v for v in (IGNORE_EVENT, GO_HANDLED)) == GO_HANDLED
    assert combine((DebugStatus.GO, DebugStatus.STEP_BRANCH)) == STEP_BRANCH


# ---- None ----------------------------------------------------------------------------------


def test_no_votes_is_no_change() -> None:
    assert combine([]) == NO_CHANGE


def test_none_counts_as_no_change() -> None:
    assert combine([None]) == NO_CHANGE
    assert combine([None, None]) == NO_CHANGE
    assert precedence(None) == precedence(NO_CHANGE) == 0


@pytest.mark.parametrize("status", ORDER, ids=lambda s: DebugStatus(s).name)
def test_none_never_beats_a_vote(status: int) -> None:
    assert combine([None, status]) == status
    assert combine([status, None]) == status
    assert combine([None, status, None]) == status


def test_none_ties_with_no_change() -> None:
    assert combine([None, NO_CHANGE]) == NO_CHANGE
    assert combine([NO_CHANGE, None]) == NO_CHANGE


# ---- masking of the flag bits ------------------------------------------------------------------


@pytest.mark.parametrize("flags", [INSIDE_WAIT, WAIT_TIMEOUT, INSIDE_WAIT | WAIT_TIMEOUT])
@pytest.mark.parametrize("status", ORDER, ids=lambda s: DebugStatus(s).name)
def test_flag_bits_are_masked(status: int, flags: int) -> None:
    result = combine([status | flags])
    assert result == status
    assert result & flags == 0  # the flags never leak into the decision
    assert precedence(status | flags) == RANKS[status]


def test_flag_bits_do_not_change_the_winner() -> None:
    assert combine([GO | INSIDE_WAIT, STEP_OVER]) == STEP_OVER
    assert combine([GO, STEP_OVER | WAIT_TIMEOUT]) == STEP_OVER
    assert combine([BREAK | WAIT_TIMEOUT, STEP_INTO | INSIDE_WAIT]) == BREAK
    # NO_CHANGE with a flag is still NO_CHANGE, not a vote that beats RESTART_REQUESTED.
    assert combine([NO_CHANGE | INSIDE_WAIT, RESTART_REQUESTED]) == RESTART_REQUESTED


def test_mask_is_0x1f_not_0xf() -> None:
    # With the pre-10.0 mask 0xf, WAIT_INPUT (16) would read as NO_CHANGE and TIMEOUT (17) as
    # GO (§10.2); with 0x1f they stay reporting-only codes and are refused.
    with pytest.raises(ValueError, match="WAIT_INPUT"):
        combine([WAIT_INPUT])
    with pytest.raises(ValueError, match="TIMEOUT"):
        combine([TIMEOUT])


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(UNRANKED), ids=lambda c: UNRANKED[c])
def test_unranked_code_raises_naming_it(code: int) -> None:
    name = UNRANKED[code]
    with pytest.raises(ValueError, match=rf"{name} \({code}\)"):
        combine([code])
    with pytest.raises(ValueError, match=name):
        precedence(code)


@pytest.mark.parametrize("code", sorted(REPORTING_ONLY), ids=lambda c: REPORTING_ONLY[c])
def test_reporting_only_message_says_so(code: int) -> None:
    with pytest.raises(ValueError, match="reporting-only"):
        combine([code])


@pytest.mark.parametrize("code", sorted(REVERSE), ids=lambda c: REVERSE[c])
def test_reverse_message_says_so(code: int) -> None:
    with pytest.raises(ValueError, match="reverse"):
        combine([code])


@pytest.mark.parametrize("code", sorted(UNRANKED), ids=lambda c: UNRANKED[c])
def test_unranked_code_raises_even_beside_break(code: int) -> None:
    # A bad vote is a bug in whoever cast it; a BREAK elsewhere must not hide it.
    with pytest.raises(ValueError, match=UNRANKED[code]):
        combine([BREAK, code])
    with pytest.raises(ValueError, match=UNRANKED[code]):
        combine([code, BREAK])


def test_unranked_code_with_flag_bits_names_code_and_word() -> None:
    with pytest.raises(ValueError, match=r"DEBUG_STATUS_NO_DEBUGGEE \(7\).*0x100000007"):
        combine([NO_DEBUGGEE | INSIDE_WAIT])


@pytest.mark.parametrize("value", [18, 0x1F, 0x3F, 0x100000012])
def test_undefined_code_raises(value: int) -> None:
    code = value & 0x1F
    with pytest.raises(ValueError, match=rf"execution status {code}\b.*not a DEBUG_STATUS_"):
        combine([value])


@pytest.mark.parametrize("value", [-1, -6, 1 << 64])
def test_out_of_range_word_raises(value: int) -> None:
    with pytest.raises(ValueError, match="ULONG64"):
        combine([value])


@pytest.mark.parametrize("value", [True, False, 1.0, "GO", b"\x01", object()])
def test_non_int_vote_raises_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="DEBUG_STATUS_"):
        combine([value])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        precedence(value)  # type: ignore[arg-type]


# ---- SetExecutionStatus legality --------------------------------------------------------------


@pytest.mark.parametrize("code", range(32))
def test_is_settable_exactly_go_to_step_into(code: int) -> None:
    assert is_settable(code) is (code in SETTABLE)


def test_settable_is_the_precedence_range_go_to_step_into() -> None:
    in_range = {s for s in ORDER if RANKS[GO] <= RANKS[s] <= RANKS[STEP_INTO]}
    assert in_range == SETTABLE


def test_is_settable_takes_enum_members() -> None:
    assert is_settable(DebugStatus.STEP_BRANCH)
    assert not is_settable(DebugStatus.BREAK)
    assert not is_settable(DebugStatus.IGNORE_EVENT)


@pytest.mark.parametrize("value", [GO | INSIDE_WAIT, STEP_INTO | WAIT_TIMEOUT, None, True, "1"])
def test_is_settable_refuses_without_raising(value: object) -> None:
    # Flag bits only appear in notifications; a request carrying them is not a bare status.
    assert is_settable(value) is False
