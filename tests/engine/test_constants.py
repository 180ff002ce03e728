"""pydbg.constants: every DbgEng name has its dbgeng.h value, and the enums agree with the names.

The expected values below are copied by hand from the tables of spec/dbgeng-model.md (§ numbers
in the comments), never computed from the module under test, so a wrong value in
pydbg/constants.py cannot also make its own test pass. Engine tier: no processes.
"""

from __future__ import annotations

import enum
from functools import reduce
from operator import or_

import pytest

from pydbg import constants
from pydbg.constants import (
    AttachFlags,
    BreakAccess,
    BreakpointFlags,
    BreakpointType,
    CodeLevel,
    DataSpace,
    DebugEnd,
    DebugEvent,
    DebuggeeState,
    DebugInterrupt,
    DebugNotify,
    DebugSession,
    DebugStatus,
    DebugStatusFlags,
    EngCreateFlags,
    EngineOptions,
    EngineState,
    ExceptionCode,
    ExpressionSyntax,
    FilterHandling,
    FilterStatus,
    GetProcFlags,
    OutputMask,
    ProcDescFlags,
    ProcessOptions,
    RefreshReason,
    SpecificFilter,
    SymbolState,
)

EXPECTED: dict[str, int] = {
    # §1.1 execution status codes (newest headers: 0..17)
    "DEBUG_STATUS_NO_CHANGE": 0,
    "DEBUG_STATUS_GO": 1,
    "DEBUG_STATUS_GO_HANDLED": 2,
    "DEBUG_STATUS_GO_NOT_HANDLED": 3,
    "DEBUG_STATUS_STEP_OVER": 4,
    "DEBUG_STATUS_STEP_INTO": 5,
    "DEBUG_STATUS_BREAK": 6,
    "DEBUG_STATUS_NO_DEBUGGEE": 7,
    "DEBUG_STATUS_STEP_BRANCH": 8,
    "DEBUG_STATUS_IGNORE_EVENT": 9,
    "DEBUG_STATUS_RESTART_REQUESTED": 10,
    "DEBUG_STATUS_REVERSE_GO": 11,
    "DEBUG_STATUS_REVERSE_STEP_BRANCH": 12,
    "DEBUG_STATUS_REVERSE_STEP_OVER": 13,
    "DEBUG_STATUS_REVERSE_STEP_INTO": 14,
    "DEBUG_STATUS_OUT_OF_SYNC": 15,
    "DEBUG_STATUS_WAIT_INPUT": 16,
    "DEBUG_STATUS_TIMEOUT": 17,
    # §1.2 mask (newest: 0x1f, not the pre-10.0 0xf) and flag bits
    "DEBUG_STATUS_MASK": 0x1F,
    "DEBUG_STATUS_INSIDE_WAIT": 0x100000000,
    "DEBUG_STATUS_WAIT_TIMEOUT": 0x200000000,
    # §2.1 SessionStatus
    "DEBUG_SESSION_ACTIVE": 0,
    "DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE": 1,
    "DEBUG_SESSION_END_SESSION_ACTIVE_DETACH": 2,
    "DEBUG_SESSION_END_SESSION_PASSIVE": 3,
    "DEBUG_SESSION_END": 4,
    "DEBUG_SESSION_REBOOT": 5,
    "DEBUG_SESSION_HIBERNATE": 6,
    "DEBUG_SESSION_FAILURE": 7,
    # §2.3 DebugExtensionNotify
    "DEBUG_NOTIFY_SESSION_ACTIVE": 0,
    "DEBUG_NOTIFY_SESSION_INACTIVE": 1,
    "DEBUG_NOTIFY_SESSION_ACCESSIBLE": 2,
    "DEBUG_NOTIFY_SESSION_INACCESSIBLE": 3,
    # §3.1 interest mask
    "DEBUG_EVENT_BREAKPOINT": 0x00000001,
    "DEBUG_EVENT_EXCEPTION": 0x00000002,
    "DEBUG_EVENT_CREATE_THREAD": 0x00000004,
    "DEBUG_EVENT_EXIT_THREAD": 0x00000008,
    "DEBUG_EVENT_CREATE_PROCESS": 0x00000010,
    "DEBUG_EVENT_EXIT_PROCESS": 0x00000020,
    "DEBUG_EVENT_LOAD_MODULE": 0x00000040,
    "DEBUG_EVENT_UNLOAD_MODULE": 0x00000080,
    "DEBUG_EVENT_SYSTEM_ERROR": 0x00000100,
    "DEBUG_EVENT_SESSION_STATUS": 0x00000200,
    "DEBUG_EVENT_CHANGE_DEBUGGEE_STATE": 0x00000400,
    "DEBUG_EVENT_CHANGE_ENGINE_STATE": 0x00000800,
    "DEBUG_EVENT_CHANGE_SYMBOL_STATE": 0x00001000,
    "DEBUG_EVENT_SYSCALL": 0x00100000,  # pydbg extension (not in dbgeng.h)
    # §3.3 ChangeDebuggeeState, refresh reasons, data spaces
    "DEBUG_CDS_ALL": 0xFFFFFFFF,
    "DEBUG_CDS_REGISTERS": 0x00000001,
    "DEBUG_CDS_DATA": 0x00000002,
    "DEBUG_CDS_REFRESH": 0x00000004,
    "DEBUG_CDS_REFRESH_EVALUATE": 1,
    "DEBUG_CDS_REFRESH_EXECUTE": 2,
    "DEBUG_CDS_REFRESH_EXECUTECOMMANDFILE": 3,
    "DEBUG_CDS_REFRESH_ADDBREAKPOINT": 4,
    "DEBUG_CDS_REFRESH_REMOVEBREAKPOINT": 5,
    "DEBUG_CDS_REFRESH_WRITEVIRTUAL": 6,
    "DEBUG_CDS_REFRESH_WRITEVIRTUALUNCACHED": 7,
    "DEBUG_CDS_REFRESH_WRITEPHYSICAL": 8,
    "DEBUG_CDS_REFRESH_WRITEPHYSICAL2": 9,
    "DEBUG_CDS_REFRESH_SETVALUE": 10,
    "DEBUG_CDS_REFRESH_SETVALUE2": 11,
    "DEBUG_CDS_REFRESH_SETSCOPE": 12,
    "DEBUG_CDS_REFRESH_SETSCOPEFRAMEBYINDEX": 13,
    "DEBUG_CDS_REFRESH_SETSCOPEFROMJITDEBUGINFO": 14,
    "DEBUG_CDS_REFRESH_SETSCOPEFROMSTOREDEVENT": 15,
    "DEBUG_CDS_REFRESH_INLINESTEP": 16,
    "DEBUG_CDS_REFRESH_INLINESTEP_PSEUDO": 17,
    "DEBUG_DATA_SPACE_VIRTUAL": 0,
    "DEBUG_DATA_SPACE_PHYSICAL": 1,
    "DEBUG_DATA_SPACE_CONTROL": 2,
    "DEBUG_DATA_SPACE_IO": 3,
    "DEBUG_DATA_SPACE_MSR": 4,
    "DEBUG_DATA_SPACE_BUS_DATA": 5,
    "DEBUG_DATA_SPACE_DEBUGGER_DATA": 6,
    # §3.4 ChangeEngineState
    "DEBUG_CES_ALL": 0xFFFFFFFF,
    "DEBUG_CES_CURRENT_THREAD": 0x00000001,
    "DEBUG_CES_EFFECTIVE_PROCESSOR": 0x00000002,
    "DEBUG_CES_BREAKPOINTS": 0x00000004,
    "DEBUG_CES_CODE_LEVEL": 0x00000008,
    "DEBUG_CES_EXECUTION_STATUS": 0x00000010,
    "DEBUG_CES_ENGINE_OPTIONS": 0x00000020,
    "DEBUG_CES_LOG_FILE": 0x00000040,
    "DEBUG_CES_RADIX": 0x00000080,
    "DEBUG_CES_EVENT_FILTERS": 0x00000100,
    "DEBUG_CES_PROCESS_OPTIONS": 0x00000200,
    "DEBUG_CES_EXTENSIONS": 0x00000400,
    "DEBUG_CES_SYSTEMS": 0x00000800,
    "DEBUG_CES_ASSEMBLY_OPTIONS": 0x00001000,
    "DEBUG_CES_EXPRESSION_SYNTAX": 0x00002000,
    "DEBUG_CES_TEXT_REPLACEMENTS": 0x00004000,
    # §3.5 ChangeSymbolState
    "DEBUG_CSS_ALL": 0xFFFFFFFF,
    "DEBUG_CSS_LOADS": 0x00000001,
    "DEBUG_CSS_UNLOADS": 0x00000002,
    "DEBUG_CSS_SCOPE": 0x00000004,
    "DEBUG_CSS_PATHS": 0x00000008,
    "DEBUG_CSS_SYMBOL_OPTIONS": 0x00000010,
    "DEBUG_CSS_TYPE_OPTIONS": 0x00000020,
    "DEBUG_CSS_COLLAPSE_CHILDREN": 0x00000040,
    # §3.4 code level and expression syntax arguments
    "DEBUG_LEVEL_SOURCE": 0,
    "DEBUG_LEVEL_ASSEMBLY": 1,
    "DEBUG_EXPR_MASM": 0,
    "DEBUG_EXPR_CPLUSPLUS": 1,
    # §4.2 WaitForEvent, §4.4 SetInterrupt
    "DEBUG_WAIT_DEFAULT": 0,
    "DEBUG_INTERRUPT_ACTIVE": 0,
    "DEBUG_INTERRUPT_PASSIVE": 1,
    "DEBUG_INTERRUPT_EXIT": 2,
    # §5.2 specific event filter indices
    "DEBUG_FILTER_CREATE_THREAD": 0,
    "DEBUG_FILTER_EXIT_THREAD": 1,
    "DEBUG_FILTER_CREATE_PROCESS": 2,
    "DEBUG_FILTER_EXIT_PROCESS": 3,
    "DEBUG_FILTER_LOAD_MODULE": 4,
    "DEBUG_FILTER_UNLOAD_MODULE": 5,
    "DEBUG_FILTER_SYSTEM_ERROR": 6,
    "DEBUG_FILTER_INITIAL_BREAKPOINT": 7,
    "DEBUG_FILTER_INITIAL_MODULE_LOAD": 8,
    "DEBUG_FILTER_DEBUGGEE_OUTPUT": 9,
    # §5.3 break status and handling status
    "DEBUG_FILTER_BREAK": 0,
    "DEBUG_FILTER_SECOND_CHANCE_BREAK": 1,
    "DEBUG_FILTER_OUTPUT": 2,
    "DEBUG_FILTER_IGNORE": 3,
    "DEBUG_FILTER_REMOVE": 4,
    "DEBUG_FILTER_GO_HANDLED": 0,
    "DEBUG_FILTER_GO_NOT_HANDLED": 1,
    # §6.2 CreateProcess flags (Win32 values; NO_DEBUG_HEAP / THROUGH_RTL are named in the spec
    # only by their Win32 aliases CREATE_UNICODE_ENVIRONMENT / STACK_SIZE_PARAM_IS_A_RESERVATION)
    "DEBUG_PROCESS": 0x1,
    "DEBUG_ONLY_THIS_PROCESS": 0x2,
    "DEBUG_CREATE_PROCESS_NO_DEBUG_HEAP": 0x400,
    "DEBUG_CREATE_PROCESS_THROUGH_RTL": 0x10000,
    "DEBUG_ECREATE_PROCESS_DEFAULT": 0,
    "DEBUG_ECREATE_PROCESS_INHERIT_HANDLES": 0x1,
    "DEBUG_ECREATE_PROCESS_USE_VERIFIER_FLAGS": 0x2,
    "DEBUG_ECREATE_PROCESS_USE_IMPLICIT_COMMAND_LINE": 0x4,
    # §6.2 attach flags (user mode), then the kernel ones that share the prefix
    "DEBUG_ATTACH_DEFAULT": 0x00,
    "DEBUG_ATTACH_NONINVASIVE": 0x01,
    "DEBUG_ATTACH_EXISTING": 0x02,
    "DEBUG_ATTACH_NONINVASIVE_NO_SUSPEND": 0x04,
    "DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK": 0x08,
    "DEBUG_ATTACH_INVASIVE_RESUME_PROCESS": 0x10,
    "DEBUG_ATTACH_NONINVASIVE_ALLOW_PARTIAL": 0x20,
    "DEBUG_ATTACH_KERNEL_CONNECTION": 0,
    "DEBUG_ATTACH_LOCAL_KERNEL": 1,
    "DEBUG_ATTACH_EXDI_DRIVER": 2,
    "DEBUG_ATTACH_INSTALL_DRIVER": 4,
    # §6.2 process options
    "DEBUG_PROCESS_DETACH_ON_EXIT": 0x1,
    "DEBUG_PROCESS_ONLY_THIS_PROCESS": 0x2,
    "DEBUG_GET_PROC_DEFAULT": 0x0,
    "DEBUG_GET_PROC_FULL_MATCH": 0x1,
    "DEBUG_GET_PROC_ONLY_MATCH": 0x2,
    "DEBUG_GET_PROC_SERVICE_NAME": 0x4,
    "DEBUG_PROC_DESC_DEFAULT": 0x0,
    "DEBUG_PROC_DESC_NO_PATHS": 0x1,
    "DEBUG_PROC_DESC_NO_SERVICES": 0x2,
    "DEBUG_PROC_DESC_NO_MTS_PACKAGES": 0x4,
    "DEBUG_PROC_DESC_NO_COMMAND_LINE": 0x8,
    "DEBUG_PROC_DESC_NO_SESSION_ID": 0x10,
    "DEBUG_PROC_DESC_NO_USER_NAME": 0x20,
    # §6.5 EndSession
    "DEBUG_END_PASSIVE": 0,
    "DEBUG_END_ACTIVE_TERMINATE": 1,
    "DEBUG_END_ACTIVE_DETACH": 2,
    "DEBUG_END_REENTRANT": 3,
    "DEBUG_END_DISCONNECT": 4,
    # §6.7 engine options
    "DEBUG_ENGOPT_IGNORE_DBGHELP_VERSION": 0x00000001,
    "DEBUG_ENGOPT_IGNORE_EXTENSION_VERSIONS": 0x00000002,
    "DEBUG_ENGOPT_ALLOW_NETWORK_PATHS": 0x00000004,
    "DEBUG_ENGOPT_DISALLOW_NETWORK_PATHS": 0x00000008,
    "DEBUG_ENGOPT_NETWORK_PATHS": 0x0000000C,
    "DEBUG_ENGOPT_IGNORE_LOADER_EXCEPTIONS": 0x00000010,
    "DEBUG_ENGOPT_INITIAL_BREAK": 0x00000020,
    "DEBUG_ENGOPT_INITIAL_MODULE_BREAK": 0x00000040,
    "DEBUG_ENGOPT_FINAL_BREAK": 0x00000080,
    "DEBUG_ENGOPT_NO_EXECUTE_REPEAT": 0x00000100,
    "DEBUG_ENGOPT_FAIL_INCOMPLETE_INFORMATION": 0x00000200,
    "DEBUG_ENGOPT_ALLOW_READ_ONLY_BREAKPOINTS": 0x00000400,
    "DEBUG_ENGOPT_SYNCHRONIZE_BREAKPOINTS": 0x00000800,
    "DEBUG_ENGOPT_DISALLOW_SHELL_COMMANDS": 0x00001000,
    "DEBUG_ENGOPT_KD_QUIET_MODE": 0x00002000,
    "DEBUG_ENGOPT_DISABLE_MANAGED_SUPPORT": 0x00004000,
    "DEBUG_ENGOPT_DISABLE_MODULE_SYMBOL_LOAD": 0x00008000,
    "DEBUG_ENGOPT_DISABLE_EXECUTION_COMMANDS": 0x00010000,
    "DEBUG_ENGOPT_DISALLOW_IMAGE_FILE_MAPPING": 0x00020000,
    "DEBUG_ENGOPT_PREFER_DML": 0x00040000,
    "DEBUG_ENGOPT_DISABLESQM": 0x00080000,
    "DEBUG_ENGOPT_DISABLE_STEPLINES_OPTIONS": 0x00200000,
    "DEBUG_ENGOPT_DEBUGGING_SENSITIVE_DATA": 0x00400000,
    "DEBUG_ENGOPT_PREFER_TRACE_FILES": 0x00800000,
    "DEBUG_ENGOPT_RESOLVE_SHADOWED_VARIABLES": 0x01000000,
    "DEBUG_ENGOPT_ALL": 0x01EFFFFF,  # §0.2 / §10.18, newest SDK
    # §6.8 breakpoints
    # §6.6 output mask, output control, §4.5 execute flags
    "DEBUG_OUTPUT_NORMAL": 0x1,
    "DEBUG_OUTPUT_ERROR": 0x2,
    "DEBUG_OUTPUT_WARNING": 0x4,
    "DEBUG_OUTPUT_VERBOSE": 0x8,
    "DEBUG_OUTPUT_PROMPT": 0x10,
    "DEBUG_OUTPUT_PROMPT_REGISTERS": 0x20,
    "DEBUG_OUTPUT_EXTENSION_WARNING": 0x40,
    "DEBUG_OUTPUT_DEBUGGEE": 0x80,
    "DEBUG_OUTPUT_DEBUGGEE_PROMPT": 0x100,
    "DEBUG_OUTPUT_SYMBOLS": 0x200,
    "DEBUG_OUTPUT_STATUS": 0x400,
    "DEBUG_OUTPUT_XML": 0x800,
    "DEBUG_OUTCTL_THIS_CLIENT": 0,
    "DEBUG_OUTCTL_ALL_CLIENTS": 1,
    "DEBUG_OUTCTL_ALL_OTHER_CLIENTS": 2,
    "DEBUG_OUTCTL_IGNORE": 3,
    "DEBUG_OUTCTL_LOG_ONLY": 4,
    "DEBUG_OUTCTL_SEND_MASK": 7,
    "DEBUG_OUTCTL_NOT_LOGGED": 0x8,
    "DEBUG_OUTCTL_OVERRIDE_MASK": 0x10,
    "DEBUG_OUTCTL_DML": 0x20,
    "DEBUG_OUTCTL_AMBIENT_DML": 0xFFFFFFFE,
    "DEBUG_OUTCTL_AMBIENT_TEXT": 0xFFFFFFFF,
    "DEBUG_OUTCTL_AMBIENT": 0xFFFFFFFF,
    "DEBUG_EXECUTE_DEFAULT": 0,
    "DEBUG_EXECUTE_ECHO": 0x1,
    "DEBUG_EXECUTE_NOT_LOGGED": 0x2,
    "DEBUG_EXECUTE_NO_REPEAT": 0x4,
    "DEBUG_EXECUTE_USER_TYPED": 0x8,
    "DEBUG_EXECUTE_USER_CLICKED": 0x10,
    "DEBUG_EXECUTE_EXTENSION": 0x20,
    "DEBUG_EXECUTE_INTERNAL": 0x40,
    "DEBUG_EXECUTE_SCRIPT": 0x80,
    "DEBUG_EXECUTE_TOOLBAR": 0x100,
    "DEBUG_EXECUTE_MENU": 0x200,
    "DEBUG_EXECUTE_HOTKEY": 0x400,
    "DEBUG_EXECUTE_EVENT": 0x800,
    "DEBUG_BREAKPOINT_CODE": 0,
    "DEBUG_BREAKPOINT_DATA": 1,
    "DEBUG_BREAKPOINT_TIME": 2,
    "DEBUG_BREAKPOINT_INLINE": 3,
    "DEBUG_BREAKPOINT_GO_ONLY": 0x01,
    "DEBUG_BREAKPOINT_DEFERRED": 0x02,
    "DEBUG_BREAKPOINT_ENABLED": 0x04,
    "DEBUG_BREAKPOINT_ADDER_ONLY": 0x08,
    "DEBUG_BREAKPOINT_ONE_SHOT": 0x10,
    "DEBUG_BREAK_READ": 0x1,
    "DEBUG_BREAK_WRITE": 0x2,
    "DEBUG_BREAK_EXECUTE": 0x4,
    "DEBUG_BREAK_IO": 0x8,
    "DEBUG_ANY_ID": 0xFFFFFFFF,
    "DEBUG_INVALID_OFFSET": 0xFFFFFFFFFFFFFFFF,
    # §9.2 signal -> exception code table, §5.4 exception filter defaults
    "STATUS_GUARD_PAGE_VIOLATION": 0x80000001,
    "STATUS_DATATYPE_MISALIGNMENT": 0x80000002,
    "STATUS_BREAKPOINT": 0x80000003,
    "STATUS_SINGLE_STEP": 0x80000004,
    "STATUS_ACCESS_VIOLATION": 0xC0000005,
    "STATUS_IN_PAGE_ERROR": 0xC0000006,
    "STATUS_INVALID_HANDLE": 0xC0000008,
    "STATUS_ILLEGAL_INSTRUCTION": 0xC000001D,
    "STATUS_FLOAT_DIVIDE_BY_ZERO": 0xC000008E,
    "STATUS_INTEGER_DIVIDE_BY_ZERO": 0xC0000094,
    "STATUS_INTEGER_OVERFLOW": 0xC0000095,
    "STATUS_PRIVILEGED_INSTRUCTION": 0xC0000096,
    "STATUS_STACK_OVERFLOW": 0xC00000FD,
    "STATUS_ASSERTION_FAILURE": 0xC0000420,
    "DBG_CONTROL_C": 0x40010005,
    "DBG_CONTROL_BREAK": 0x40010008,
    "DBG_COMMAND_EXCEPTION": 0x40010009,
}


def _names(prefix: str, *suffixes: str) -> set[str]:
    return {prefix + suffix for suffix in suffixes}


# (enum, prefix of its plain names, IntEnum or IntFlag, the plain names its members must be).
# None means "every name with the prefix"; enums that share a prefix list their names.
ENUMS: list[tuple[type[enum.Enum], str, type[enum.Enum], set[str] | None]] = [
    (
        DebugStatus,
        "DEBUG_STATUS_",
        enum.IntEnum,
        {name for name in EXPECTED if name.startswith("DEBUG_STATUS_")}
        - _names("DEBUG_STATUS_", "MASK", "INSIDE_WAIT", "WAIT_TIMEOUT"),
    ),
    (
        DebugStatusFlags,
        "DEBUG_STATUS_",
        enum.IntFlag,
        _names("DEBUG_STATUS_", "INSIDE_WAIT", "WAIT_TIMEOUT"),
    ),
    (DebugSession, "DEBUG_SESSION_", enum.IntEnum, None),
    (DebugNotify, "DEBUG_NOTIFY_", enum.IntEnum, None),
    (DebugEvent, "DEBUG_EVENT_", enum.IntFlag, None),
    (OutputMask, "DEBUG_OUTPUT_", enum.IntFlag, None),
    (
        DebuggeeState,
        "DEBUG_CDS_",
        enum.IntFlag,
        _names("DEBUG_CDS_", "ALL", "REGISTERS", "DATA", "REFRESH"),
    ),
    (RefreshReason, "DEBUG_CDS_REFRESH_", enum.IntEnum, None),
    (DataSpace, "DEBUG_DATA_SPACE_", enum.IntEnum, None),
    (EngineState, "DEBUG_CES_", enum.IntFlag, None),
    (SymbolState, "DEBUG_CSS_", enum.IntFlag, None),
    (CodeLevel, "DEBUG_LEVEL_", enum.IntEnum, None),
    (ExpressionSyntax, "DEBUG_EXPR_", enum.IntEnum, None),
    (DebugInterrupt, "DEBUG_INTERRUPT_", enum.IntEnum, None),
    (
        SpecificFilter,
        "DEBUG_FILTER_",
        enum.IntEnum,
        _names(
            "DEBUG_FILTER_",
            "CREATE_THREAD",
            "EXIT_THREAD",
            "CREATE_PROCESS",
            "EXIT_PROCESS",
            "LOAD_MODULE",
            "UNLOAD_MODULE",
            "SYSTEM_ERROR",
            "INITIAL_BREAKPOINT",
            "INITIAL_MODULE_LOAD",
            "DEBUGGEE_OUTPUT",
        ),
    ),
    (
        FilterStatus,
        "DEBUG_FILTER_",
        enum.IntEnum,
        _names("DEBUG_FILTER_", "BREAK", "SECOND_CHANCE_BREAK", "OUTPUT", "IGNORE", "REMOVE"),
    ),
    (
        FilterHandling,
        "DEBUG_FILTER_",
        enum.IntEnum,
        _names("DEBUG_FILTER_", "GO_HANDLED", "GO_NOT_HANDLED"),
    ),
    (
        AttachFlags,
        "DEBUG_ATTACH_",
        enum.IntFlag,
        # The kernel AttachKernel flags share the prefix and are deliberately left out.
        _names(
            "DEBUG_ATTACH_",
            "DEFAULT",
            "NONINVASIVE",
            "EXISTING",
            "NONINVASIVE_NO_SUSPEND",
            "INVASIVE_NO_INITIAL_BREAK",
            "INVASIVE_RESUME_PROCESS",
            "NONINVASIVE_ALLOW_PARTIAL",
        ),
    ),
    (EngCreateFlags, "DEBUG_ECREATE_PROCESS_", enum.IntFlag, None),
    (ProcessOptions, "DEBUG_PROCESS_", enum.IntFlag, None),
    (GetProcFlags, "DEBUG_GET_PROC_", enum.IntFlag, None),
    (ProcDescFlags, "DEBUG_PROC_DESC_", enum.IntFlag, None),
    (DebugEnd, "DEBUG_END_", enum.IntEnum, None),
    (EngineOptions, "DEBUG_ENGOPT_", enum.IntFlag, None),
    (
        BreakpointType,
        "DEBUG_BREAKPOINT_",
        enum.IntEnum,
        _names("DEBUG_BREAKPOINT_", "CODE", "DATA", "TIME", "INLINE"),
    ),
    (
        BreakpointFlags,
        "DEBUG_BREAKPOINT_",
        enum.IntFlag,
        _names("DEBUG_BREAKPOINT_", "GO_ONLY", "DEFERRED", "ENABLED", "ADDER_ONLY", "ONE_SHOT"),
    ),
    (BreakAccess, "DEBUG_BREAK_", enum.IntFlag, None),
    (
        ExceptionCode,
        "",
        enum.IntEnum,
        {name for name in EXPECTED if name.startswith(("STATUS_", "DBG_"))},
    ),
]


def _plain_names() -> dict[str, object]:
    """Every public upper-case module attribute, i.e. everything that claims to be a constant."""
    return {name: value for name, value in vars(constants).items() if name.isupper()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_value_matches_spec(name: str) -> None:
    value = getattr(constants, name)
    assert value == EXPECTED[name], f"{name} = {value:#x}, spec says {EXPECTED[name]:#x}"
    # Plain names are plain ints, so `DEBUG_STATUS_GO == 1` and `repr` read like the header.
    assert type(value) is int


def test_every_constant_is_checked() -> None:
    unchecked = set(_plain_names()) - set(EXPECTED)
    assert not unchecked, f"constants without an expected value in this test: {sorted(unchecked)}"


@pytest.mark.parametrize(
    ("cls", "prefix", "kind", "names"),
    ENUMS,
    ids=[cls.__name__ for cls, *_ in ENUMS],
)
def test_enum_members_equal_plain_names(
    cls: type[enum.Enum], prefix: str, kind: type[enum.Enum], names: set[str] | None
) -> None:
    assert issubclass(cls, kind)
    # __members__ includes aliases and multi-bit flags (ALL, NETWORK_PATHS) that iteration skips.
    members = cls.__members__
    for member_name, member in members.items():
        plain = prefix + member_name
        assert plain in EXPECTED, f"{cls.__name__}.{member_name}: no DbgEng name {plain}"
        assert member.value == EXPECTED[plain] == getattr(constants, plain)
    if names is None:
        names = {name for name in EXPECTED if name.startswith(prefix)}
    assert {prefix + name for name in members} == names


def test_all_exports_names_and_enums_only() -> None:
    enums = {cls.__name__ for cls, *_ in ENUMS}
    assert set(constants.__all__) == set(EXPECTED) | enums


# ---- facts the spec calls out --------------------------------------------------------------


def test_status_mask_is_the_newest_one() -> None:
    # §10.2: with the old 0xf mask WAIT_INPUT (16) would read as NO_CHANGE and TIMEOUT (17) as GO.
    assert constants.DEBUG_STATUS_WAIT_INPUT & constants.DEBUG_STATUS_MASK == 16
    assert constants.DEBUG_STATUS_TIMEOUT & constants.DEBUG_STATUS_MASK == 17
    assert all(status & constants.DEBUG_STATUS_MASK == status for status in DebugStatus)


def test_status_flag_bits_live_above_bit_31_and_outside_the_mask() -> None:
    for flag in DebugStatusFlags:
        assert flag > 0xFFFFFFFF
        assert flag & constants.DEBUG_STATUS_MASK == 0
    word = DebugStatus.BREAK | DebugStatusFlags.INSIDE_WAIT | DebugStatusFlags.WAIT_TIMEOUT
    assert word & constants.DEBUG_STATUS_MASK == int(DebugStatus.BREAK)


def test_end_session_flags_are_not_session_status_values() -> None:
    # §2.1 / §6.5: EndSession(DEBUG_END_PASSIVE = 0) reports END_SESSION_PASSIVE = 3, etc.
    pairs = {
        DebugEnd.PASSIVE: DebugSession.END_SESSION_PASSIVE,
        DebugEnd.ACTIVE_TERMINATE: DebugSession.END_SESSION_ACTIVE_TERMINATE,
        DebugEnd.ACTIVE_DETACH: DebugSession.END_SESSION_ACTIVE_DETACH,
    }
    assert [(int(end), int(session)) for end, session in pairs.items()] == [(0, 3), (1, 1), (2, 2)]


def test_engine_options_all_is_the_or_of_every_option() -> None:
    singles = [
        member
        for name, member in EngineOptions.__members__.items()
        if name not in ("ALL", "NETWORK_PATHS")
    ]
    assert all(member.value & (member.value - 1) == 0 for member in singles)
    assert reduce(or_, (member.value for member in singles)) == 0x01EFFFFF == int(EngineOptions.ALL)
    assert EngineOptions.ALL & 0x00100000 == 0  # the bit no header ever used
    assert (
        EngineOptions.ALLOW_NETWORK_PATHS | EngineOptions.DISALLOW_NETWORK_PATHS
        == EngineOptions.NETWORK_PATHS
    )


@pytest.mark.parametrize("cls", [DebugEvent, EngineState, SymbolState, BreakpointFlags])
def test_flag_bits_are_distinct_single_bits(cls: type[enum.IntFlag]) -> None:
    values = [m.value for n, m in cls.__members__.items() if n != "ALL"]
    assert all(value & (value - 1) == 0 and value for value in values)
    assert len(set(values)) == len(values)


def test_interest_mask_combines_as_flags() -> None:
    mask = DebugEvent.BREAKPOINT | DebugEvent.EXCEPTION | DebugEvent.SESSION_STATUS
    assert mask == 0x203
    assert isinstance(mask, DebugEvent)
    assert DebugEvent.EXCEPTION in mask
    assert DebugEvent.CREATE_THREAD not in mask


def test_all_masks_cover_every_flag() -> None:
    assert all(flag in DebuggeeState.ALL for flag in DebuggeeState)
    assert all(flag in EngineState.ALL for flag in EngineState)
    assert all(flag in SymbolState.ALL for flag in SymbolState)


def test_filter_enums_keep_the_three_uses_apart() -> None:
    # §5: index 0, break status 0 and handling status 0 are different things with one prefix.
    zeros = [SpecificFilter.CREATE_THREAD, FilterStatus.BREAK, FilterHandling.GO_HANDLED]
    assert [int(member) for member in zeros] == [0, 0, 0]
    assert SpecificFilter(0).name == "CREATE_THREAD"
    assert FilterStatus(0).name == "BREAK"
    assert FilterHandling(0).name == "GO_HANDLED"


def test_process_option_equals_win32_flag_only_numerically() -> None:
    # §10.22: same number, different API.
    assert constants.DEBUG_PROCESS_ONLY_THIS_PROCESS == constants.DEBUG_ONLY_THIS_PROCESS == 2
    assert int(ProcessOptions.ONLY_THIS_PROCESS) == 2


def test_kernel_attach_flags_are_not_user_attach_flags() -> None:
    assert "LOCAL_KERNEL" not in AttachFlags.__members__
    assert AttachFlags(constants.DEBUG_ATTACH_LOCAL_KERNEL) is AttachFlags.NONINVASIVE


def test_reboot_and_hibernate_are_documented_as_impossible_on_linux() -> None:
    doc = DebugSession.__doc__ or ""
    assert "REBOOT" in doc and "HIBERNATE" in doc and "never" in doc


def test_exception_codes_keep_their_header_names() -> None:
    assert ExceptionCode(0xC0000005) is ExceptionCode.STATUS_ACCESS_VIOLATION
    assert ExceptionCode(0x40010005).name == "DBG_CONTROL_C"
