"""Syscall events (pydbg extension): the `sys` filter rows, the `syscall` callback under
DEBUG_EVENT_SYSCALL, entry / exit from PTRACE_GET_SYSCALL_INFO, and the one rule that says
which threads resume with PTRACE_SYSCALL.  Engine tier: scripted native records, no
processes.
"""

from __future__ import annotations

import pytest

from pydbg._native import EventKind
from pydbg.callbacks import EventCallbacks
from pydbg.constants import (
    DEBUG_EVENT_SYSCALL,
    DEBUG_STATUS_BREAK,
    DEBUG_STATUS_GO,
    DEBUG_STATUS_GO_HANDLED,
    FilterHandling,
    FilterStatus,
)
from pydbg.control import LastEventSyscall
from pydbg.errors import EngineError
from pydbg.filters import EventFilters, FilterError, SpecificFilterParameters
from pydbg.syscall_table import NUMBERS, SYSCALLS
from tests.engine.fake_backend import TIMEOUT, FakeEvent
from tests.engine.recording import PID, TID2, Recorder, Rig, ces_status, int3, launch, notice

OPENAT, GETPID, CLOSE = 257, 39, 3
ENTRY, EXIT = 1, 2
AT_FDCWD = 0xFFFFFF9C
PATH = 0x7FFD_0000_2000
ARGS = (AT_FDCWD, PATH, 0, 0)  # openat takes four


def entry(nr: int, tid: int = PID) -> FakeEvent:
    return FakeEvent(EventKind.SYSCALL, tid, PID, signal=5, syscall_op=ENTRY, syscall_nr=nr)


def exit_(ret: int, tid: int = PID) -> FakeEvent:
    return FakeEvent(EventKind.SYSCALL, tid, PID, signal=5, syscall_op=EXIT, syscall_ret=ret)


def with_args(rig: Rig, tid: int = PID, nr: int = OPENAT) -> None:
    regs = rig.fake.regs[tid]
    regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9 = (*ARGS, 0x55, 0x66)
    regs.orig_rax = nr


def broken_in(rig: Rig) -> None:
    launch(rig)
    with_args(rig)
    assert rig.client.control.wait_for_event()
    rig.client.control.set_execution_status(DEBUG_STATUS_GO)
    rig.take()


def syscall_rig(vote: object = DEBUG_STATUS_GO) -> Rig:
    """A rig whose only callback interest is syscalls, voting `vote`."""
    rig = Rig(mask=DEBUG_EVENT_SYSCALL)
    rig.reply("syscall", vote)
    return rig


# -- the table ------------------------------------------------------------------------------------


def test_table_agrees_with_the_kernel_numbers_and_argument_counts() -> None:
    # Oracle: syscall(2) / the x86_64 syscall_64.tbl, by hand.
    assert SYSCALLS[0] == ("read", 3)
    assert SYSCALLS[GETPID] == ("getpid", 0)
    assert SYSCALLS[OPENAT] == ("openat", 4)
    assert SYSCALLS[59] == ("execve", 3)
    assert SYSCALLS[9] == ("mmap", 6)
    assert SYSCALLS[231] == ("exit_group", 1)
    assert SYSCALLS[230] == ("clock_nanosleep", 4)
    assert NUMBERS["openat"] == OPENAT
    assert all(0 <= count <= 6 for _, count in SYSCALLS.values())


# -- the filter rows ------------------------------------------------------------------------------


def test_syscall_rows_follow_the_dbgeng_filters_and_keep_their_counts() -> None:
    filters = EventFilters()
    counts = filters.get_number_event_filters()
    assert filters.get_number_syscall_filters() == 1
    everything = filters.index_of_name("sys")
    assert everything == sum(counts)
    assert filters.name_of(everything) == "sys"
    assert filters.get_syscall_filter_parameters(everything).execution_option == FilterStatus.IGNORE
    row = filters.index_of_name("sys:openat")
    assert row == everything + 1
    assert filters.index_of_name("sys:257") == row  # a number names the same row
    assert filters.index_of_name("SYS:OpenAt") == row
    assert filters.name_of(row) == "sys:openat"
    assert filters.get_number_event_filters() == counts  # DbgEng's parts are unchanged
    assert filters.get_number_syscall_filters() == 2
    assert not filters.syscalls_wanted()


def test_a_row_governs_its_call_and_sys_the_rest() -> None:
    filters = EventFilters()
    row = filters.index_of_name("sys:openat")
    filters.set_syscall_filter_parameters(
        row, SpecificFilterParameters(FilterStatus.BREAK, FilterHandling.GO_NOT_HANDLED)
    )
    assert filters.syscall(OPENAT).execution_option == FilterStatus.BREAK
    assert filters.syscall(GETPID).execution_option == FilterStatus.IGNORE
    assert filters.syscalls_wanted()
    filters.reset()
    assert filters.get_number_syscall_filters() == 1
    assert not filters.syscalls_wanted()


def test_an_arbitrary_exception_filter_renumbers_the_syscall_rows_not_its_own() -> None:
    filters = EventFilters()
    row = filters.index_of_name("sys:getpid")
    added = filters.index_of_name("c0000096")  # a new arbitrary exception filter
    assert added == row - 1  # it took the place after the DbgEng filters...
    assert filters.index_of_name("sys:getpid") == row + 1  # ...and the rows moved on
    assert filters.name_of(added) == "c0000096"


@pytest.mark.parametrize("name", ["sys:nosuchcall", "sys:", "sys:-1", "sys:x12"])
def test_a_bad_syscall_name_is_a_filter_error(name: str) -> None:
    with pytest.raises(FilterError):
        EventFilters().index_of_name(name)


def test_an_unknown_number_gets_a_row_of_its_own() -> None:
    filters = EventFilters()
    row = filters.index_of_name("sys:999")
    assert filters.name_of(row) == "sys:999"
    assert filters.index_of_name("sys:0x3e7") == row


# -- who runs under PTRACE_SYSCALL -----------------------------------------------------------------


def test_nobody_listening_resumes_with_plain_cont() -> None:
    rig = Rig()
    broken_in(rig)
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    assert rig.fake.actions("cont_all") == [("cont_all", {})]


def test_a_syscall_callback_traces_every_thread_and_hears_entry_and_exit() -> None:
    rig = syscall_rig()
    broken_in(rig)
    rig.fake.then(entry(OPENAT)).then(exit_(3))
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    log = rig.take()
    assert ("syscall", PID, OPENAT, "openat", ARGS, False, None) in log
    assert ("syscall", PID, OPENAT, "openat", ARGS, True, 3) in log
    # One thread, nobody listening to state changes: the syscall loop (fastpaths) resumes
    # it with PTRACE_SYSCALL after the first resume.
    assert rig.fake.actions("cont_all", "syscall") == [
        ("cont_all", {}, [PID]),
        ("syscall", PID, 0),
        ("syscall", PID, 0),
    ]


def test_a_syscall_filter_that_breaks_reports_the_line_and_the_last_event() -> None:
    rig = Rig()
    broken_in(rig)
    control = rig.client.control
    control.execute("sxe sys:openat")
    rig.take()
    rig.fake.then(entry(GETPID)).then(entry(OPENAT))
    assert control.wait_for_event() is True
    assert rig.take()[:2] == [
        notice(f"({PID:x}.{PID:x}): Syscall openat(0xffffff9c, 0x7ffd00002000, 0x0, 0x0)"),
        ces_status(DEBUG_STATUS_BREAK),
    ]
    info = control.get_last_event_information()
    assert info is not None and info.type == DEBUG_EVENT_SYSCALL
    assert info.extra == LastEventSyscall(OPENAT, "openat", ARGS, False, None)
    control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(exit_(-2))
    assert control.wait_for_event() is True
    assert (
        notice(
            f"({PID:x}.{PID:x}): Syscall openat(0xffffff9c, 0x7ffd00002000, 0x0, 0x0) = -2 (ENOENT)"
        )
        in rig.take()
    )
    assert control.get_last_event_information().extra == LastEventSyscall(  # type: ignore[union-attr]
        OPENAT, "openat", ARGS, True, -2
    )
    # Off again: the next resume is a plain PTRACE_CONT.
    control.execute("sxi sys:openat")
    control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert control.wait_for_event() is False
    assert rig.fake.actions("cont_all")[-1] == ("cont_all", {})


def test_an_exit_without_its_entry_takes_the_number_from_orig_rax() -> None:
    # Tracing began while the thread sat in a blocking call: the first stop is an exit.
    rig = syscall_rig()
    broken_in(rig)
    with_args(rig, nr=CLOSE)
    rig.fake.then(exit_(0)).then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    assert ("syscall", PID, CLOSE, "close", (AT_FDCWD,), True, 0) in rig.take()


def test_a_syscall_stop_is_never_an_exception_and_a_vote_counts() -> None:
    rig = Rig(mask=DEBUG_EVENT_SYSCALL | 0x2)  # syscalls and exceptions
    rig.reply("syscall", DEBUG_STATUS_BREAK)
    broken_in(rig)
    rig.fake.then(entry(GETPID))
    assert rig.client.control.wait_for_event() is True
    log = rig.take()
    assert [e[0] for e in log if e[0] in ("syscall", "exception")] == ["syscall"]
    assert ("syscall", PID, GETPID, "getpid", (), False, None) in log


def test_threads_created_later_are_traced_too() -> None:
    rig = syscall_rig()
    broken_in(rig)
    rig.fake.then(FakeEvent(EventKind.CLONE, PID, PID, message=TID2))
    rig.fake.then(entry(GETPID, tid=TID2))
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    assert ("syscall", TID2, GETPID, "getpid", (), False, None) in rig.take()
    assert ("cont_all", {}, [PID, TID2]) in rig.fake.actions("cont_all")


def test_the_syscall_bit_is_a_valid_interest_and_the_default_mask_finds_the_method() -> None:
    rig = Rig()
    rig.client.set_event_callbacks(Recorder([], DEBUG_EVENT_SYSCALL | 0x1FFF))
    with pytest.raises(EngineError):
        rig.client.set_event_callbacks(Recorder([], DEBUG_EVENT_SYSCALL << 1))

    class Counting(EventCallbacks):
        def syscall(self, *args: object) -> int:
            return DEBUG_STATUS_GO

    assert Counting().get_interest_mask() == DEBUG_EVENT_SYSCALL


# -- what the native core is told to report ---------------------------------------------------


def test_only_the_wanted_rows_are_reported_when_no_callback_listens() -> None:
    rig = Rig()
    broken_in(rig)
    control = rig.client.control
    control.execute("sxe sys:openat; sxn sys:close")
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert control.wait_for_event() is False
    assert rig.fake.syscall_report == [CLOSE, OPENAT]


def test_a_callback_or_the_sys_row_has_every_call_reported() -> None:
    rig = syscall_rig()
    broken_in(rig)
    rig.client.control.execute("sxe sys:openat")
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    assert rig.fake.syscall_report is None
    rig = Rig()
    broken_in(rig)
    rig.client.control.execute("sxn sys")
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    assert rig.fake.syscall_report is None
    assert ("cont_all", {}, [PID]) in rig.fake.actions("cont_all")


def test_counting_traces_reports_nothing_and_adds_both_counts() -> None:
    rig = Rig()
    broken_in(rig)
    control = rig.client.control
    control.set_syscall_counting(True)
    rig.fake.passed_syscalls.update({GETPID: 7, CLOSE: 1})  # what the core passed on
    rig.fake.then(entry(GETPID)).then(exit_(PID))  # ...and one it reported
    rig.fake.then(TIMEOUT)
    assert control.wait_for_event(timeout=1.0) is False  # (the targets run on)
    assert rig.fake.syscall_report == []
    assert ("cont_all", {}, [PID]) in rig.fake.actions("cont_all")
    assert control.get_syscall_counts() == {"getpid": 8, "close": 1}


def test_the_syscall_loop_hands_a_signal_over_and_takes_the_calls_again() -> None:
    rig = Rig(mask=DEBUG_EVENT_SYSCALL | 0x2)  # syscalls and exceptions
    rig.reply("syscall", DEBUG_STATUS_GO)
    rig.reply("exception", DEBUG_STATUS_GO_HANDLED)
    broken_in(rig)
    usr1 = FakeEvent(EventKind.SIGNAL, PID, PID, signal=10, si_code=0)
    rig.fake.then(entry(GETPID)).then(usr1).then(exit_(PID))
    rig.fake.then(FakeEvent(EventKind.EXITED, PID, PID, exit_code=0))
    assert rig.client.control.wait_for_event() is False
    heard = [e[0] for e in rig.take() if e[0] in ("syscall", "exception")]
    assert heard == ["syscall", "exception", "syscall"]
    # The general loop resumed after the signal (handled: suppressed), still tracing.
    assert rig.fake.actions("cont_all", "syscall") == [
        ("cont_all", {}, [PID]),
        ("syscall", PID, 0),
        ("cont_all", {}, [PID]),
        ("syscall", PID, 0),
    ]


def test_path_arguments_are_shown_as_strings_when_readable() -> None:
    rig = Rig()
    broken_in(rig)
    long_name = "/" + "d" * 120
    rig.fake.memory[PID] = (PATH, bytearray(b'/tmp/a "b"\n\0' + long_name.encode() + b"\0"))
    control = rig.client.control
    control.execute("sxe sys:openat; sxe sys:rename")
    rig.fake.then(entry(OPENAT))
    assert control.wait_for_event() is True
    assert (
        notice(
            f"({PID:x}.{PID:x}): Syscall openat(0xffffff9c, 0x7ffd00002000 "
            '"/tmp/a \\"b\\"\\n", 0x0, 0x0)'
        )
        in rig.take()
    )
    # rename(old, new): both paths; the second is cut after 96 bytes.
    second = PATH + 12
    regs = rig.fake.regs[PID]
    regs.rdi, regs.rsi = PATH, second
    control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(exit_(3)).then(entry(82))
    assert control.wait_for_event() is True  # (the openat exit broke first)
    control.set_execution_status(DEBUG_STATUS_GO)
    assert control.wait_for_event() is True
    info = control.get_last_event_information()
    assert info is not None
    assert info.description == (
        f'({PID:x}.{PID:x}): Syscall rename(0x7ffd00002000 "/tmp/a \\"b\\"\\n", '
        f'{second:#x} "{long_name[:96]}...")'
    )


def test_an_entry_seen_before_tracing_stopped_does_not_name_a_later_exit() -> None:
    rig = Rig()
    broken_in(rig)
    control = rig.client.control
    control.execute("sxe sys")
    rig.fake.then(entry(OPENAT))  # an entry, then tracing ends before its exit
    assert control.wait_for_event() is True
    control.execute("sxi sys")
    control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(int3(PID))  # (it ran untraced, to a foreign int3 that breaks)
    assert control.wait_for_event() is True
    assert rig.fake.actions("cont_all")[-1] == ("cont_all", {})
    control.execute("sxe sys")  # traced again; the thread sat in close(2) meanwhile
    with_args(rig, nr=CLOSE)
    control.set_execution_status(DEBUG_STATUS_GO)
    rig.fake.then(exit_(0))
    assert control.wait_for_event() is True
    info = control.get_last_event_information()
    assert info is not None and info.extra == LastEventSyscall(CLOSE, "close", (AT_FDCWD,), True, 0)
