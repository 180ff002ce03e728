"""DbgEng constants: the dbgeng.h names pydbg uses, with their real dbgeng.h values.

Two layers, the same numbers:

* plain module-level ints under the exact DbgEng spelling (`DEBUG_STATUS_BREAK`,
  `DEBUG_EVENT_EXCEPTION`, `STATUS_ACCESS_VIOLATION`, ...), so that code and scripts ported
  from DbgEng read the same here, and so that a value can be compared with a header by name;
* IntEnum/IntFlag classes on top (`DebugStatus.BREAK`, `DebugEvent.EXCEPTION`, ...), which the
  public API takes and returns. A member's name is the DbgEng name minus the class's prefix
  (listed in each class docstring), and its value is the plain name's value.

Values are those of the newest header set described in spec/dbgeng-model.md §0.2 (Windows 10
SDK and later: `DEBUG_STATUS_MASK` is 0x1f, status codes run to 17). Where headers disagree the
comment at the definition says which version the value comes from. Section numbers (§) refer
to that spec.

Policy does not live here: which statuses outrank which is in `pydbg.status`.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Final

# --------------------------------------------------------------------------------------------
# §1.1 Execution status codes (DEBUG_STATUS_*). Reporting and instructing share this space;
# precedence between instructions is NOT numeric order (see pydbg.status).
# --------------------------------------------------------------------------------------------
DEBUG_STATUS_NO_CHANGE: Final = 0
DEBUG_STATUS_GO: Final = 1
DEBUG_STATUS_GO_HANDLED: Final = 2
DEBUG_STATUS_GO_NOT_HANDLED: Final = 3
DEBUG_STATUS_STEP_OVER: Final = 4
DEBUG_STATUS_STEP_INTO: Final = 5
DEBUG_STATUS_BREAK: Final = 6
DEBUG_STATUS_NO_DEBUGGEE: Final = 7
DEBUG_STATUS_STEP_BRANCH: Final = 8
DEBUG_STATUS_IGNORE_EVENT: Final = 9
# 10..14 appear in the Win8/10-era headers; REVERSE_* serve time-travel targets only and pydbg
# rejects them as instructions (§9.3).
DEBUG_STATUS_RESTART_REQUESTED: Final = 10
DEBUG_STATUS_REVERSE_GO: Final = 11
DEBUG_STATUS_REVERSE_STEP_BRANCH: Final = 12
DEBUG_STATUS_REVERSE_STEP_OVER: Final = 13
DEBUG_STATUS_REVERSE_STEP_INTO: Final = 14
# 15..17 appear in the Win10 SDK headers. They are kernel-transport conditions; on Linux user
# mode they are only conceivable for a pydbg remote transport (§9.4).
DEBUG_STATUS_OUT_OF_SYNC: Final = 15
DEBUG_STATUS_WAIT_INPUT: Final = 16
DEBUG_STATUS_TIMEOUT: Final = 17

# §1.2. Newest headers: 0x1f. Pre-10.0 headers say 0xf, which would turn WAIT_INPUT (16) into
# NO_CHANGE and TIMEOUT (17) into GO (§10.2), so the older value must never be used.
DEBUG_STATUS_MASK: Final = 0x1F
# Flag bits OR-ed into the Argument of ChangeEngineState(DEBUG_CES_EXECUTION_STATUS). They sit
# above bit 31 (the Argument is a ULONG64); mask with DEBUG_STATUS_MASK before comparing.
DEBUG_STATUS_INSIDE_WAIT: Final = 0x1_0000_0000
DEBUG_STATUS_WAIT_TIMEOUT: Final = 0x2_0000_0000  # absent from the XP-era header

# --------------------------------------------------------------------------------------------
# §2.1 SessionStatus arguments (DEBUG_SESSION_*). Not the same numbers as DEBUG_END_* (§6.5).
# --------------------------------------------------------------------------------------------
DEBUG_SESSION_ACTIVE: Final = 0
DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE: Final = 1
DEBUG_SESSION_END_SESSION_ACTIVE_DETACH: Final = 2
DEBUG_SESSION_END_SESSION_PASSIVE: Final = 3
DEBUG_SESSION_END: Final = 4
# REBOOT and HIBERNATE are kernel-mode events of a target *machine*. pydbg debugs Linux
# user-mode processes only, so it never reports them (§9.4); they exist for completeness.
DEBUG_SESSION_REBOOT: Final = 5
DEBUG_SESSION_HIBERNATE: Final = 6
# pydbg reports FAILURE when the tracer loses control unexpectedly (§9.4).
DEBUG_SESSION_FAILURE: Final = 7

# §2.3 DebugExtensionNotify codes. The docs' "DEBUG_SESSION_INACTIVE" does not exist (§10.1).
DEBUG_NOTIFY_SESSION_ACTIVE: Final = 0
DEBUG_NOTIFY_SESSION_INACTIVE: Final = 1
DEBUG_NOTIFY_SESSION_ACCESSIBLE: Final = 2
DEBUG_NOTIFY_SESSION_INACCESSIBLE: Final = 3

# --------------------------------------------------------------------------------------------
# §3.1 Event-callback interest mask bits (DEBUG_EVENT_*); also GetLastEventInformation's Type.
# --------------------------------------------------------------------------------------------
DEBUG_EVENT_BREAKPOINT: Final = 0x00000001
DEBUG_EVENT_EXCEPTION: Final = 0x00000002
DEBUG_EVENT_CREATE_THREAD: Final = 0x00000004
DEBUG_EVENT_EXIT_THREAD: Final = 0x00000008
DEBUG_EVENT_CREATE_PROCESS: Final = 0x00000010
DEBUG_EVENT_EXIT_PROCESS: Final = 0x00000020
DEBUG_EVENT_LOAD_MODULE: Final = 0x00000040
DEBUG_EVENT_UNLOAD_MODULE: Final = 0x00000080
DEBUG_EVENT_SYSTEM_ERROR: Final = 0x00000100  # never fires on Linux (§9.2)
DEBUG_EVENT_SESSION_STATUS: Final = 0x00000200
DEBUG_EVENT_CHANGE_DEBUGGEE_STATE: Final = 0x00000400
DEBUG_EVENT_CHANGE_ENGINE_STATE: Final = 0x00000800
DEBUG_EVENT_CHANGE_SYMBOL_STATE: Final = 0x00001000
# pydbg extension: syscall-enter and -exit stops (EventCallbacks.syscall).  DbgEng's bits end
# at 0x1000 (newer headers add SERVICE_EXCEPTION 0x2000); a high bit stays clear of any it
# may add.  Not a GetLastEventInformation Type DbgEng knows.
DEBUG_EVENT_SYSCALL: Final = 0x00100000

# --------------------------------------------------------------------------------------------
# §3.3 ChangeDebuggeeState flags (DEBUG_CDS_*), its REFRESH reasons, and the data spaces
# named by DEBUG_CDS_DATA's Argument.
# --------------------------------------------------------------------------------------------
DEBUG_CDS_ALL: Final = 0xFFFFFFFF
DEBUG_CDS_REGISTERS: Final = 0x00000001
DEBUG_CDS_DATA: Final = 0x00000002
DEBUG_CDS_REFRESH: Final = 0x00000004

DEBUG_CDS_REFRESH_EVALUATE: Final = 1
DEBUG_CDS_REFRESH_EXECUTE: Final = 2
DEBUG_CDS_REFRESH_EXECUTECOMMANDFILE: Final = 3
DEBUG_CDS_REFRESH_ADDBREAKPOINT: Final = 4
DEBUG_CDS_REFRESH_REMOVEBREAKPOINT: Final = 5
DEBUG_CDS_REFRESH_WRITEVIRTUAL: Final = 6
DEBUG_CDS_REFRESH_WRITEVIRTUALUNCACHED: Final = 7
DEBUG_CDS_REFRESH_WRITEPHYSICAL: Final = 8
DEBUG_CDS_REFRESH_WRITEPHYSICAL2: Final = 9
DEBUG_CDS_REFRESH_SETVALUE: Final = 10
DEBUG_CDS_REFRESH_SETVALUE2: Final = 11
DEBUG_CDS_REFRESH_SETSCOPE: Final = 12
DEBUG_CDS_REFRESH_SETSCOPEFRAMEBYINDEX: Final = 13
DEBUG_CDS_REFRESH_SETSCOPEFROMJITDEBUGINFO: Final = 14
DEBUG_CDS_REFRESH_SETSCOPEFROMSTOREDEVENT: Final = 15
DEBUG_CDS_REFRESH_INLINESTEP: Final = 16
DEBUG_CDS_REFRESH_INLINESTEP_PSEUDO: Final = 17

DEBUG_DATA_SPACE_VIRTUAL: Final = 0
DEBUG_DATA_SPACE_PHYSICAL: Final = 1
DEBUG_DATA_SPACE_CONTROL: Final = 2
DEBUG_DATA_SPACE_IO: Final = 3
DEBUG_DATA_SPACE_MSR: Final = 4
DEBUG_DATA_SPACE_BUS_DATA: Final = 5
DEBUG_DATA_SPACE_DEBUGGER_DATA: Final = 6  # in the header, not in the ChangeDebuggeeState docs

# --------------------------------------------------------------------------------------------
# §3.4 ChangeEngineState flags (DEBUG_CES_*). If several bits are set, Argument is meaningless.
# --------------------------------------------------------------------------------------------
DEBUG_CES_ALL: Final = 0xFFFFFFFF
DEBUG_CES_CURRENT_THREAD: Final = 0x00000001
DEBUG_CES_EFFECTIVE_PROCESSOR: Final = 0x00000002
DEBUG_CES_BREAKPOINTS: Final = 0x00000004
DEBUG_CES_CODE_LEVEL: Final = 0x00000008
DEBUG_CES_EXECUTION_STATUS: Final = 0x00000010
DEBUG_CES_ENGINE_OPTIONS: Final = 0x00000020
DEBUG_CES_LOG_FILE: Final = 0x00000040
DEBUG_CES_RADIX: Final = 0x00000080
DEBUG_CES_EVENT_FILTERS: Final = 0x00000100
DEBUG_CES_PROCESS_OPTIONS: Final = 0x00000200
DEBUG_CES_EXTENSIONS: Final = 0x00000400
DEBUG_CES_SYSTEMS: Final = 0x00000800
# The docs spell it DEBUG_CES_ASSEMBLE_OPTIONS; only this spelling exists in headers (§10.5).
DEBUG_CES_ASSEMBLY_OPTIONS: Final = 0x00001000
DEBUG_CES_EXPRESSION_SYNTAX: Final = 0x00002000
DEBUG_CES_TEXT_REPLACEMENTS: Final = 0x00004000

# §3.5 ChangeSymbolState flags (DEBUG_CSS_*).
DEBUG_CSS_ALL: Final = 0xFFFFFFFF
DEBUG_CSS_LOADS: Final = 0x00000001
DEBUG_CSS_UNLOADS: Final = 0x00000002
DEBUG_CSS_SCOPE: Final = 0x00000004
DEBUG_CSS_PATHS: Final = 0x00000008
DEBUG_CSS_SYMBOL_OPTIONS: Final = 0x00000010
DEBUG_CSS_TYPE_OPTIONS: Final = 0x00000020
DEBUG_CSS_COLLAPSE_CHILDREN: Final = 0x00000040  # newer headers only

# §3.4 Arguments of CES_CODE_LEVEL and CES_EXPRESSION_SYNTAX.
DEBUG_LEVEL_SOURCE: Final = 0
DEBUG_LEVEL_ASSEMBLY: Final = 1
DEBUG_EXPR_MASM: Final = 0
DEBUG_EXPR_CPLUSPLUS: Final = 1

# --------------------------------------------------------------------------------------------
# §4.2, §4.4 Waiting and interrupts.
# --------------------------------------------------------------------------------------------
DEBUG_WAIT_DEFAULT: Final = 0  # the only legal WaitForEvent flags value

# Not bit flags: SetInterrupt takes exactly one of these.
DEBUG_INTERRUPT_ACTIVE: Final = 0
DEBUG_INTERRUPT_PASSIVE: Final = 1
DEBUG_INTERRUPT_EXIT: Final = 2

# --------------------------------------------------------------------------------------------
# §5 Event filters. DEBUG_FILTER_* has three unrelated uses that share the prefix and the small
# numbers: specific event filter indices, break status (execution option), and handling status
# (continue option). DEBUG_FILTER_CREATE_THREAD, DEBUG_FILTER_BREAK and DEBUG_FILTER_GO_HANDLED
# are all 0, so the enums below keep them apart.
# --------------------------------------------------------------------------------------------
# §5.2 Specific event filter indices.
DEBUG_FILTER_CREATE_THREAD: Final = 0
DEBUG_FILTER_EXIT_THREAD: Final = 1
DEBUG_FILTER_CREATE_PROCESS: Final = 2
DEBUG_FILTER_EXIT_PROCESS: Final = 3
DEBUG_FILTER_LOAD_MODULE: Final = 4
DEBUG_FILTER_UNLOAD_MODULE: Final = 5
DEBUG_FILTER_SYSTEM_ERROR: Final = 6  # never triggered on Linux (§9.4)
DEBUG_FILTER_INITIAL_BREAKPOINT: Final = 7
DEBUG_FILTER_INITIAL_MODULE_LOAD: Final = 8  # kernel only; never triggered on Linux (§9.4)
DEBUG_FILTER_DEBUGGEE_OUTPUT: Final = 9

# §5.3 Break status (ExecutionOption).
DEBUG_FILTER_BREAK: Final = 0
DEBUG_FILTER_SECOND_CHANCE_BREAK: Final = 1
DEBUG_FILTER_OUTPUT: Final = 2
DEBUG_FILTER_IGNORE: Final = 3
DEBUG_FILTER_REMOVE: Final = 4  # SetExceptionFilterParameters only: delete an arbitrary filter

# §5.3 Handling status (ContinueOption).
DEBUG_FILTER_GO_HANDLED: Final = 0
DEBUG_FILTER_GO_NOT_HANDLED: Final = 1

# --------------------------------------------------------------------------------------------
# §6.2 Acquiring targets: CreateProcess flags, engine create flags, attach flags, process
# options.
# --------------------------------------------------------------------------------------------
# Win32 creation flags (winbase.h, not dbgeng.h) that CreateProcess needs: the header says one
# of them must be present for the engine to attach.
DEBUG_PROCESS: Final = 0x00000001
DEBUG_ONLY_THIS_PROCESS: Final = 0x00000002
# dbgeng.h defines these as aliases of Win32 flags (CREATE_UNICODE_ENVIRONMENT and
# STACK_SIZE_PARAM_IS_A_RESERVATION); the values are those Win32 flags' values.
DEBUG_CREATE_PROCESS_NO_DEBUG_HEAP: Final = 0x00000400
DEBUG_CREATE_PROCESS_THROUGH_RTL: Final = 0x00010000

# DEBUG_CREATE_PROCESS_OPTIONS.EngCreateFlags.
DEBUG_ECREATE_PROCESS_DEFAULT: Final = 0x00000000
DEBUG_ECREATE_PROCESS_INHERIT_HANDLES: Final = 0x00000001
DEBUG_ECREATE_PROCESS_USE_VERIFIER_FLAGS: Final = 0x00000002
DEBUG_ECREATE_PROCESS_USE_IMPLICIT_COMMAND_LINE: Final = 0x00000004

# User-mode AttachProcess flags.
DEBUG_ATTACH_DEFAULT: Final = 0x00000000
DEBUG_ATTACH_NONINVASIVE: Final = 0x00000001
DEBUG_ATTACH_EXISTING: Final = 0x00000002  # one tracer per task on Linux: E_NOTIMPL (§9.5)
DEBUG_ATTACH_NONINVASIVE_NO_SUSPEND: Final = 0x00000004
DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK: Final = 0x00000008
DEBUG_ATTACH_INVASIVE_RESUME_PROCESS: Final = 0x00000010
DEBUG_ATTACH_NONINVASIVE_ALLOW_PARTIAL: Final = 0x00000020
# AttachKernel flags reuse the prefix with colliding numbers (KERNEL_CONNECTION == DEFAULT,
# LOCAL_KERNEL == NONINVASIVE, ...). pydbg has no kernel targets; they are here so that a name
# read from DbgEng code means something, and are kept out of AttachFlags.
DEBUG_ATTACH_KERNEL_CONNECTION: Final = 0x00000000
DEBUG_ATTACH_LOCAL_KERNEL: Final = 0x00000001
DEBUG_ATTACH_EXDI_DRIVER: Final = 0x00000002
DEBUG_ATTACH_INSTALL_DRIVER: Final = 0x00000004

# Process options (Get/Add/Remove/SetProcessOptions). ONLY_THIS_PROCESS equals the Win32
# creation flag DEBUG_ONLY_THIS_PROCESS numerically by coincidence (§10.22).
DEBUG_PROCESS_DETACH_ON_EXIT: Final = 0x00000001
DEBUG_PROCESS_ONLY_THIS_PROCESS: Final = 0x00000002

# GetRunningProcessSystemIdByExecutableName flags.  SERVICE_NAME (the name is a Windows
# service's) has no Linux counterpart; pydbg refuses it.
DEBUG_GET_PROC_DEFAULT: Final = 0x00000000
DEBUG_GET_PROC_FULL_MATCH: Final = 0x00000001
DEBUG_GET_PROC_ONLY_MATCH: Final = 0x00000002
DEBUG_GET_PROC_SERVICE_NAME: Final = 0x00000004

# GetRunningProcessDescription flags.  Linux has no services and no MTS packages: those two
# ask to leave out what is never there.
DEBUG_PROC_DESC_DEFAULT: Final = 0x00000000
DEBUG_PROC_DESC_NO_PATHS: Final = 0x00000001
DEBUG_PROC_DESC_NO_SERVICES: Final = 0x00000002
DEBUG_PROC_DESC_NO_MTS_PACKAGES: Final = 0x00000004
DEBUG_PROC_DESC_NO_COMMAND_LINE: Final = 0x00000008
DEBUG_PROC_DESC_NO_SESSION_ID: Final = 0x00000010
DEBUG_PROC_DESC_NO_USER_NAME: Final = 0x00000020

# --------------------------------------------------------------------------------------------
# §6.5 EndSession flags (DEBUG_END_*). Not bit flags, and not the DEBUG_SESSION_END_* numbers.
# --------------------------------------------------------------------------------------------
DEBUG_END_PASSIVE: Final = 0
DEBUG_END_ACTIVE_TERMINATE: Final = 1
DEBUG_END_ACTIVE_DETACH: Final = 2
DEBUG_END_REENTRANT: Final = 3
DEBUG_END_DISCONNECT: Final = 4

# --------------------------------------------------------------------------------------------
# §6.7 Engine options (DEBUG_ENGOPT_*). The spec marks INITIAL_BREAK, INITIAL_MODULE_BREAK and
# FINAL_BREAK as the ones relevant to pydbg; §9.2 gates the initial breakpoint on INITIAL_BREAK
# and lets FINAL_BREAK break at ExitProcess, and §9.3 makes SYNCHRONIZE_BREAKPOINTS' behaviour
# (other threads stay stopped while a breakpoint is stepped over) pydbg's fixed default.
# --------------------------------------------------------------------------------------------
DEBUG_ENGOPT_IGNORE_DBGHELP_VERSION: Final = 0x00000001
DEBUG_ENGOPT_IGNORE_EXTENSION_VERSIONS: Final = 0x00000002
DEBUG_ENGOPT_ALLOW_NETWORK_PATHS: Final = 0x00000004
DEBUG_ENGOPT_DISALLOW_NETWORK_PATHS: Final = 0x00000008
DEBUG_ENGOPT_NETWORK_PATHS: Final = 0x0000000C  # the two above, which exclude each other
DEBUG_ENGOPT_IGNORE_LOADER_EXCEPTIONS: Final = 0x00000010
DEBUG_ENGOPT_INITIAL_BREAK: Final = 0x00000020
DEBUG_ENGOPT_INITIAL_MODULE_BREAK: Final = 0x00000040
DEBUG_ENGOPT_FINAL_BREAK: Final = 0x00000080
DEBUG_ENGOPT_NO_EXECUTE_REPEAT: Final = 0x00000100
DEBUG_ENGOPT_FAIL_INCOMPLETE_INFORMATION: Final = 0x00000200
DEBUG_ENGOPT_ALLOW_READ_ONLY_BREAKPOINTS: Final = 0x00000400
DEBUG_ENGOPT_SYNCHRONIZE_BREAKPOINTS: Final = 0x00000800
DEBUG_ENGOPT_DISALLOW_SHELL_COMMANDS: Final = 0x00001000
DEBUG_ENGOPT_KD_QUIET_MODE: Final = 0x00002000
DEBUG_ENGOPT_DISABLE_MANAGED_SUPPORT: Final = 0x00004000
DEBUG_ENGOPT_DISABLE_MODULE_SYMBOL_LOAD: Final = 0x00008000
DEBUG_ENGOPT_DISABLE_EXECUTION_COMMANDS: Final = 0x00010000
DEBUG_ENGOPT_DISALLOW_IMAGE_FILE_MAPPING: Final = 0x00020000
DEBUG_ENGOPT_PREFER_DML: Final = 0x00040000
DEBUG_ENGOPT_DISABLESQM: Final = 0x00080000
# 0x00100000 is unused in every header version.
DEBUG_ENGOPT_DISABLE_STEPLINES_OPTIONS: Final = 0x00200000
DEBUG_ENGOPT_DEBUGGING_SENSITIVE_DATA: Final = 0x00400000  # newer headers
DEBUG_ENGOPT_PREFER_TRACE_FILES: Final = 0x00800000  # newest headers
DEBUG_ENGOPT_RESOLVE_SHADOWED_VARIABLES: Final = 0x01000000  # newest headers
# ALL grows with every SDK (0x00001FFF -> 0x002FFFFF -> 0x004FFFFF -> 0x00EFFFFF -> 0x01EFFFFF,
# §10.18). This is the newest value, the OR of every option above; do not persist it or compare
# other engines' option words against it.
DEBUG_ENGOPT_ALL: Final = 0x01EFFFFF

# --------------------------------------------------------------------------------------------
# §6.6 Output: the kinds of output a client's mask selects (DEBUG_OUTPUT_*), and how output is
# routed (DEBUG_OUTCTL_*). §4.5 Execute flags (DEBUG_EXECUTE_*).
# --------------------------------------------------------------------------------------------
DEBUG_OUTPUT_NORMAL: Final = 0x00000001
DEBUG_OUTPUT_ERROR: Final = 0x00000002
DEBUG_OUTPUT_WARNING: Final = 0x00000004
DEBUG_OUTPUT_VERBOSE: Final = 0x00000008
DEBUG_OUTPUT_PROMPT: Final = 0x00000010
DEBUG_OUTPUT_PROMPT_REGISTERS: Final = 0x00000020
DEBUG_OUTPUT_EXTENSION_WARNING: Final = 0x00000040
DEBUG_OUTPUT_DEBUGGEE: Final = 0x00000080
DEBUG_OUTPUT_DEBUGGEE_PROMPT: Final = 0x00000100
DEBUG_OUTPUT_SYMBOLS: Final = 0x00000200
DEBUG_OUTPUT_STATUS: Final = 0x00000400  # newer headers
DEBUG_OUTPUT_XML: Final = 0x00000800  # newest headers

DEBUG_OUTCTL_THIS_CLIENT: Final = 0
DEBUG_OUTCTL_ALL_CLIENTS: Final = 1
DEBUG_OUTCTL_ALL_OTHER_CLIENTS: Final = 2
DEBUG_OUTCTL_IGNORE: Final = 3
DEBUG_OUTCTL_LOG_ONLY: Final = 4
DEBUG_OUTCTL_SEND_MASK: Final = 0x00000007
DEBUG_OUTCTL_NOT_LOGGED: Final = 0x00000008
DEBUG_OUTCTL_OVERRIDE_MASK: Final = 0x00000010
DEBUG_OUTCTL_DML: Final = 0x00000020
DEBUG_OUTCTL_AMBIENT_DML: Final = 0xFFFFFFFE
DEBUG_OUTCTL_AMBIENT_TEXT: Final = 0xFFFFFFFF
DEBUG_OUTCTL_AMBIENT: Final = 0xFFFFFFFF  # = AMBIENT_TEXT

DEBUG_EXECUTE_DEFAULT: Final = 0x00000000
DEBUG_EXECUTE_ECHO: Final = 0x00000001
DEBUG_EXECUTE_NOT_LOGGED: Final = 0x00000002
DEBUG_EXECUTE_NO_REPEAT: Final = 0x00000004
DEBUG_EXECUTE_USER_TYPED: Final = 0x00000008
DEBUG_EXECUTE_USER_CLICKED: Final = 0x00000010
DEBUG_EXECUTE_EXTENSION: Final = 0x00000020
DEBUG_EXECUTE_INTERNAL: Final = 0x00000040
DEBUG_EXECUTE_SCRIPT: Final = 0x00000080
DEBUG_EXECUTE_TOOLBAR: Final = 0x00000100
DEBUG_EXECUTE_MENU: Final = 0x00000200
DEBUG_EXECUTE_HOTKEY: Final = 0x00000400
DEBUG_EXECUTE_EVENT: Final = 0x00000800  # newest headers

# --------------------------------------------------------------------------------------------
# §6.8 Breakpoints.
# --------------------------------------------------------------------------------------------
DEBUG_BREAKPOINT_CODE: Final = 0  # software breakpoint (int3)
DEBUG_BREAKPOINT_DATA: Final = 1  # processor breakpoint (debug registers)
DEBUG_BREAKPOINT_TIME: Final = 2  # newer headers; time-travel targets only
DEBUG_BREAKPOINT_INLINE: Final = 3  # newer headers; inline frames

DEBUG_BREAKPOINT_GO_ONLY: Final = 0x00000001
DEBUG_BREAKPOINT_DEFERRED: Final = 0x00000002  # engine-owned: clients may not set or clear it
DEBUG_BREAKPOINT_ENABLED: Final = 0x00000004
DEBUG_BREAKPOINT_ADDER_ONLY: Final = 0x00000008
DEBUG_BREAKPOINT_ONE_SHOT: Final = 0x00000010  # absent from the XP-era header

# Data breakpoint access types. x86 debug registers have no read-only watch: READ behaves as
# READ|WRITE (§10.12). IO is kernel-only.
DEBUG_BREAK_READ: Final = 0x00000001
DEBUG_BREAK_WRITE: Final = 0x00000002
DEBUG_BREAK_EXECUTE: Final = 0x00000004
DEBUG_BREAK_IO: Final = 0x00000008

# "none / any / unknown" engine ID, and the invalid address.
DEBUG_ANY_ID: Final = 0xFFFFFFFF
DEBUG_INVALID_OFFSET: Final = 0xFFFFFFFFFFFFFFFF

# --------------------------------------------------------------------------------------------
# §9.2, §5.4 Exception codes (ntstatus.h / winnt.h names) that the Linux signal mapping
# produces, so that the standard sx filter codes apply to Linux signals.
# --------------------------------------------------------------------------------------------
STATUS_GUARD_PAGE_VIOLATION: Final = 0x80000001  # sx gp; no Linux source, default filter
STATUS_DATATYPE_MISALIGNMENT: Final = 0x80000002  # SIGBUS/BUS_ADRALN, sx dm
STATUS_BREAKPOINT: Final = 0x80000003  # foreign int3, break-in (SetInterrupt), sx bpe
STATUS_SINGLE_STEP: Final = 0x80000004  # unexpected trace trap, sx sse
STATUS_ACCESS_VIOLATION: Final = 0xC0000005  # SIGSEGV, sx av
STATUS_IN_PAGE_ERROR: Final = 0xC0000006  # SIGBUS/BUS_ADRERR, BUS_OBJERR, sx ip
STATUS_INVALID_HANDLE: Final = 0xC0000008  # sx ch/hc; no Linux source, default filter
STATUS_ILLEGAL_INSTRUCTION: Final = 0xC000001D  # SIGILL, sx ii
STATUS_FLOAT_DIVIDE_BY_ZERO: Final = 0xC000008E  # SIGFPE/FPE_FLTDIV, sx c000008e
STATUS_INTEGER_DIVIDE_BY_ZERO: Final = 0xC0000094  # SIGFPE/FPE_INTDIV, sx dz
STATUS_INTEGER_OVERFLOW: Final = 0xC0000095  # SIGFPE/FPE_INTOVF, sx iov
STATUS_PRIVILEGED_INSTRUCTION: Final = 0xC0000096  # SIGILL/ILL_PRVOPC
STATUS_STACK_OVERFLOW: Final = 0xC00000FD  # sx sov
STATUS_ASSERTION_FAILURE: Final = 0xC0000420  # SIGABRT, sx asrt
DBG_CONTROL_C: Final = 0x40010005  # SIGINT, sx cc
DBG_CONTROL_BREAK: Final = 0x40010008  # sx cc (Ctrl+Break)
DBG_COMMAND_EXCEPTION: Final = 0x40010009  # sx dbce


# ============================================================================================
# Enums. Each member is defined from the plain name so the two cannot drift apart.
# ============================================================================================


class DebugStatus(IntEnum):
    """DEBUG_STATUS_*: execution status codes (prefix `DEBUG_STATUS_`).

    Which of them may be voted, set, or only reported, and how votes are ranked, is decided in
    `pydbg.status`. The flag bits and the mask are not members: see `DebugStatusFlags` and
    `DEBUG_STATUS_MASK`.
    """

    NO_CHANGE = DEBUG_STATUS_NO_CHANGE
    GO = DEBUG_STATUS_GO
    GO_HANDLED = DEBUG_STATUS_GO_HANDLED
    GO_NOT_HANDLED = DEBUG_STATUS_GO_NOT_HANDLED
    STEP_OVER = DEBUG_STATUS_STEP_OVER
    STEP_INTO = DEBUG_STATUS_STEP_INTO
    BREAK = DEBUG_STATUS_BREAK
    NO_DEBUGGEE = DEBUG_STATUS_NO_DEBUGGEE
    STEP_BRANCH = DEBUG_STATUS_STEP_BRANCH
    IGNORE_EVENT = DEBUG_STATUS_IGNORE_EVENT
    RESTART_REQUESTED = DEBUG_STATUS_RESTART_REQUESTED
    REVERSE_GO = DEBUG_STATUS_REVERSE_GO
    REVERSE_STEP_BRANCH = DEBUG_STATUS_REVERSE_STEP_BRANCH
    REVERSE_STEP_OVER = DEBUG_STATUS_REVERSE_STEP_OVER
    REVERSE_STEP_INTO = DEBUG_STATUS_REVERSE_STEP_INTO
    OUT_OF_SYNC = DEBUG_STATUS_OUT_OF_SYNC
    WAIT_INPUT = DEBUG_STATUS_WAIT_INPUT
    TIMEOUT = DEBUG_STATUS_TIMEOUT


class DebugStatusFlags(IntFlag):
    """Flag bits of a ChangeEngineState(EXECUTION_STATUS) argument (prefix `DEBUG_STATUS_`)."""

    INSIDE_WAIT = DEBUG_STATUS_INSIDE_WAIT
    WAIT_TIMEOUT = DEBUG_STATUS_WAIT_TIMEOUT


class DebugSession(IntEnum):
    """DEBUG_SESSION_*: the argument of SessionStatus (prefix `DEBUG_SESSION_`).

    REBOOT and HIBERNATE describe a kernel target machine; pydbg debugs Linux user-mode
    processes and never reports them.
    """

    ACTIVE = DEBUG_SESSION_ACTIVE
    END_SESSION_ACTIVE_TERMINATE = DEBUG_SESSION_END_SESSION_ACTIVE_TERMINATE
    END_SESSION_ACTIVE_DETACH = DEBUG_SESSION_END_SESSION_ACTIVE_DETACH
    END_SESSION_PASSIVE = DEBUG_SESSION_END_SESSION_PASSIVE
    END = DEBUG_SESSION_END
    REBOOT = DEBUG_SESSION_REBOOT
    HIBERNATE = DEBUG_SESSION_HIBERNATE
    FAILURE = DEBUG_SESSION_FAILURE


class DebugNotify(IntEnum):
    """DEBUG_NOTIFY_*: DebugExtensionNotify codes (prefix `DEBUG_NOTIFY_`)."""

    SESSION_ACTIVE = DEBUG_NOTIFY_SESSION_ACTIVE
    SESSION_INACTIVE = DEBUG_NOTIFY_SESSION_INACTIVE
    SESSION_ACCESSIBLE = DEBUG_NOTIFY_SESSION_ACCESSIBLE
    SESSION_INACCESSIBLE = DEBUG_NOTIFY_SESSION_INACCESSIBLE


class DebugEvent(IntFlag):
    """DEBUG_EVENT_*: event-callback interest mask bits (prefix `DEBUG_EVENT_`)."""

    BREAKPOINT = DEBUG_EVENT_BREAKPOINT
    EXCEPTION = DEBUG_EVENT_EXCEPTION
    CREATE_THREAD = DEBUG_EVENT_CREATE_THREAD
    EXIT_THREAD = DEBUG_EVENT_EXIT_THREAD
    CREATE_PROCESS = DEBUG_EVENT_CREATE_PROCESS
    EXIT_PROCESS = DEBUG_EVENT_EXIT_PROCESS
    LOAD_MODULE = DEBUG_EVENT_LOAD_MODULE
    UNLOAD_MODULE = DEBUG_EVENT_UNLOAD_MODULE
    SYSTEM_ERROR = DEBUG_EVENT_SYSTEM_ERROR
    SESSION_STATUS = DEBUG_EVENT_SESSION_STATUS
    CHANGE_DEBUGGEE_STATE = DEBUG_EVENT_CHANGE_DEBUGGEE_STATE
    CHANGE_ENGINE_STATE = DEBUG_EVENT_CHANGE_ENGINE_STATE
    CHANGE_SYMBOL_STATE = DEBUG_EVENT_CHANGE_SYMBOL_STATE
    SYSCALL = DEBUG_EVENT_SYSCALL  # pydbg extension (see DEBUG_EVENT_SYSCALL)


class DebuggeeState(IntFlag):
    """DEBUG_CDS_*: ChangeDebuggeeState flags (prefix `DEBUG_CDS_`)."""

    ALL = DEBUG_CDS_ALL
    REGISTERS = DEBUG_CDS_REGISTERS
    DATA = DEBUG_CDS_DATA
    REFRESH = DEBUG_CDS_REFRESH


class RefreshReason(IntEnum):
    """DEBUG_CDS_REFRESH_*: Argument of ChangeDebuggeeState(REFRESH) (prefix
    `DEBUG_CDS_REFRESH_`)."""

    EVALUATE = DEBUG_CDS_REFRESH_EVALUATE
    EXECUTE = DEBUG_CDS_REFRESH_EXECUTE
    EXECUTECOMMANDFILE = DEBUG_CDS_REFRESH_EXECUTECOMMANDFILE
    ADDBREAKPOINT = DEBUG_CDS_REFRESH_ADDBREAKPOINT
    REMOVEBREAKPOINT = DEBUG_CDS_REFRESH_REMOVEBREAKPOINT
    WRITEVIRTUAL = DEBUG_CDS_REFRESH_WRITEVIRTUAL
    WRITEVIRTUALUNCACHED = DEBUG_CDS_REFRESH_WRITEVIRTUALUNCACHED
    WRITEPHYSICAL = DEBUG_CDS_REFRESH_WRITEPHYSICAL
    WRITEPHYSICAL2 = DEBUG_CDS_REFRESH_WRITEPHYSICAL2
    SETVALUE = DEBUG_CDS_REFRESH_SETVALUE
    SETVALUE2 = DEBUG_CDS_REFRESH_SETVALUE2
    SETSCOPE = DEBUG_CDS_REFRESH_SETSCOPE
    SETSCOPEFRAMEBYINDEX = DEBUG_CDS_REFRESH_SETSCOPEFRAMEBYINDEX
    SETSCOPEFROMJITDEBUGINFO = DEBUG_CDS_REFRESH_SETSCOPEFROMJITDEBUGINFO
    SETSCOPEFROMSTOREDEVENT = DEBUG_CDS_REFRESH_SETSCOPEFROMSTOREDEVENT
    INLINESTEP = DEBUG_CDS_REFRESH_INLINESTEP
    INLINESTEP_PSEUDO = DEBUG_CDS_REFRESH_INLINESTEP_PSEUDO


class DataSpace(IntEnum):
    """DEBUG_DATA_SPACE_*: Argument of ChangeDebuggeeState(DATA) (prefix `DEBUG_DATA_SPACE_`).

    pydbg has only VIRTUAL memory; the others belong to kernel targets.
    """

    VIRTUAL = DEBUG_DATA_SPACE_VIRTUAL
    PHYSICAL = DEBUG_DATA_SPACE_PHYSICAL
    CONTROL = DEBUG_DATA_SPACE_CONTROL
    IO = DEBUG_DATA_SPACE_IO
    MSR = DEBUG_DATA_SPACE_MSR
    BUS_DATA = DEBUG_DATA_SPACE_BUS_DATA
    DEBUGGER_DATA = DEBUG_DATA_SPACE_DEBUGGER_DATA


class EngineState(IntFlag):
    """DEBUG_CES_*: ChangeEngineState flags (prefix `DEBUG_CES_`)."""

    ALL = DEBUG_CES_ALL
    CURRENT_THREAD = DEBUG_CES_CURRENT_THREAD
    EFFECTIVE_PROCESSOR = DEBUG_CES_EFFECTIVE_PROCESSOR
    BREAKPOINTS = DEBUG_CES_BREAKPOINTS
    CODE_LEVEL = DEBUG_CES_CODE_LEVEL
    EXECUTION_STATUS = DEBUG_CES_EXECUTION_STATUS
    ENGINE_OPTIONS = DEBUG_CES_ENGINE_OPTIONS
    LOG_FILE = DEBUG_CES_LOG_FILE
    RADIX = DEBUG_CES_RADIX
    EVENT_FILTERS = DEBUG_CES_EVENT_FILTERS
    PROCESS_OPTIONS = DEBUG_CES_PROCESS_OPTIONS
    EXTENSIONS = DEBUG_CES_EXTENSIONS
    SYSTEMS = DEBUG_CES_SYSTEMS
    ASSEMBLY_OPTIONS = DEBUG_CES_ASSEMBLY_OPTIONS
    EXPRESSION_SYNTAX = DEBUG_CES_EXPRESSION_SYNTAX
    TEXT_REPLACEMENTS = DEBUG_CES_TEXT_REPLACEMENTS


class SymbolState(IntFlag):
    """DEBUG_CSS_*: ChangeSymbolState flags (prefix `DEBUG_CSS_`)."""

    ALL = DEBUG_CSS_ALL
    LOADS = DEBUG_CSS_LOADS
    UNLOADS = DEBUG_CSS_UNLOADS
    SCOPE = DEBUG_CSS_SCOPE
    PATHS = DEBUG_CSS_PATHS
    SYMBOL_OPTIONS = DEBUG_CSS_SYMBOL_OPTIONS
    TYPE_OPTIONS = DEBUG_CSS_TYPE_OPTIONS
    COLLAPSE_CHILDREN = DEBUG_CSS_COLLAPSE_CHILDREN


class CodeLevel(IntEnum):
    """DEBUG_LEVEL_*: stepping unit, source line or instruction (prefix `DEBUG_LEVEL_`)."""

    SOURCE = DEBUG_LEVEL_SOURCE
    ASSEMBLY = DEBUG_LEVEL_ASSEMBLY


class ExpressionSyntax(IntEnum):
    """DEBUG_EXPR_*: default expression evaluator (prefix `DEBUG_EXPR_`)."""

    MASM = DEBUG_EXPR_MASM
    CPLUSPLUS = DEBUG_EXPR_CPLUSPLUS


class DebugInterrupt(IntEnum):
    """DEBUG_INTERRUPT_*: SetInterrupt kinds (prefix `DEBUG_INTERRUPT_`); exactly one per call."""

    ACTIVE = DEBUG_INTERRUPT_ACTIVE
    PASSIVE = DEBUG_INTERRUPT_PASSIVE
    EXIT = DEBUG_INTERRUPT_EXIT


class SpecificFilter(IntEnum):
    """DEBUG_FILTER_* as specific event filter indices (prefix `DEBUG_FILTER_`).

    SYSTEM_ERROR and INITIAL_MODULE_LOAD exist so that the indices match DbgEng's; they never
    fire on Linux.
    """

    CREATE_THREAD = DEBUG_FILTER_CREATE_THREAD
    EXIT_THREAD = DEBUG_FILTER_EXIT_THREAD
    CREATE_PROCESS = DEBUG_FILTER_CREATE_PROCESS
    EXIT_PROCESS = DEBUG_FILTER_EXIT_PROCESS
    LOAD_MODULE = DEBUG_FILTER_LOAD_MODULE
    UNLOAD_MODULE = DEBUG_FILTER_UNLOAD_MODULE
    SYSTEM_ERROR = DEBUG_FILTER_SYSTEM_ERROR
    INITIAL_BREAKPOINT = DEBUG_FILTER_INITIAL_BREAKPOINT
    INITIAL_MODULE_LOAD = DEBUG_FILTER_INITIAL_MODULE_LOAD
    DEBUGGEE_OUTPUT = DEBUG_FILTER_DEBUGGEE_OUTPUT


class FilterStatus(IntEnum):
    """DEBUG_FILTER_* as break status, a filter's ExecutionOption (prefix `DEBUG_FILTER_`)."""

    BREAK = DEBUG_FILTER_BREAK
    SECOND_CHANCE_BREAK = DEBUG_FILTER_SECOND_CHANCE_BREAK
    OUTPUT = DEBUG_FILTER_OUTPUT
    IGNORE = DEBUG_FILTER_IGNORE
    REMOVE = DEBUG_FILTER_REMOVE


class FilterHandling(IntEnum):
    """DEBUG_FILTER_* as handling status, a filter's ContinueOption (prefix `DEBUG_FILTER_`)."""

    GO_HANDLED = DEBUG_FILTER_GO_HANDLED
    GO_NOT_HANDLED = DEBUG_FILTER_GO_NOT_HANDLED


class AttachFlags(IntFlag):
    """DEBUG_ATTACH_*: user-mode AttachProcess flags (prefix `DEBUG_ATTACH_`).

    The kernel AttachKernel flags that share the prefix are deliberately not members.
    """

    DEFAULT = DEBUG_ATTACH_DEFAULT
    NONINVASIVE = DEBUG_ATTACH_NONINVASIVE
    EXISTING = DEBUG_ATTACH_EXISTING
    NONINVASIVE_NO_SUSPEND = DEBUG_ATTACH_NONINVASIVE_NO_SUSPEND
    INVASIVE_NO_INITIAL_BREAK = DEBUG_ATTACH_INVASIVE_NO_INITIAL_BREAK
    INVASIVE_RESUME_PROCESS = DEBUG_ATTACH_INVASIVE_RESUME_PROCESS
    NONINVASIVE_ALLOW_PARTIAL = DEBUG_ATTACH_NONINVASIVE_ALLOW_PARTIAL


class EngCreateFlags(IntFlag):
    """DEBUG_ECREATE_PROCESS_*: DEBUG_CREATE_PROCESS_OPTIONS.EngCreateFlags (prefix
    `DEBUG_ECREATE_PROCESS_`)."""

    DEFAULT = DEBUG_ECREATE_PROCESS_DEFAULT
    INHERIT_HANDLES = DEBUG_ECREATE_PROCESS_INHERIT_HANDLES
    USE_VERIFIER_FLAGS = DEBUG_ECREATE_PROCESS_USE_VERIFIER_FLAGS
    USE_IMPLICIT_COMMAND_LINE = DEBUG_ECREATE_PROCESS_USE_IMPLICIT_COMMAND_LINE


class ProcessOptions(IntFlag):
    """DEBUG_PROCESS_*: process options (prefix `DEBUG_PROCESS_`)."""

    DETACH_ON_EXIT = DEBUG_PROCESS_DETACH_ON_EXIT
    ONLY_THIS_PROCESS = DEBUG_PROCESS_ONLY_THIS_PROCESS


class GetProcFlags(IntFlag):
    """DEBUG_GET_PROC_*: GetRunningProcessSystemIdByExecutableName flags (prefix
    `DEBUG_GET_PROC_`)."""

    DEFAULT = DEBUG_GET_PROC_DEFAULT
    FULL_MATCH = DEBUG_GET_PROC_FULL_MATCH
    ONLY_MATCH = DEBUG_GET_PROC_ONLY_MATCH
    SERVICE_NAME = DEBUG_GET_PROC_SERVICE_NAME


class ProcDescFlags(IntFlag):
    """DEBUG_PROC_DESC_*: GetRunningProcessDescription flags (prefix `DEBUG_PROC_DESC_`)."""

    DEFAULT = DEBUG_PROC_DESC_DEFAULT
    NO_PATHS = DEBUG_PROC_DESC_NO_PATHS
    NO_SERVICES = DEBUG_PROC_DESC_NO_SERVICES
    NO_MTS_PACKAGES = DEBUG_PROC_DESC_NO_MTS_PACKAGES
    NO_COMMAND_LINE = DEBUG_PROC_DESC_NO_COMMAND_LINE
    NO_SESSION_ID = DEBUG_PROC_DESC_NO_SESSION_ID
    NO_USER_NAME = DEBUG_PROC_DESC_NO_USER_NAME


class DebugEnd(IntEnum):
    """DEBUG_END_*: EndSession flags (prefix `DEBUG_END_`). One value per call, not a mask."""

    PASSIVE = DEBUG_END_PASSIVE
    ACTIVE_TERMINATE = DEBUG_END_ACTIVE_TERMINATE
    ACTIVE_DETACH = DEBUG_END_ACTIVE_DETACH
    REENTRANT = DEBUG_END_REENTRANT
    DISCONNECT = DEBUG_END_DISCONNECT


class EngineOptions(IntFlag):
    """DEBUG_ENGOPT_*: engine options (prefix `DEBUG_ENGOPT_`).

    NETWORK_PATHS and ALL are multi-bit masks; ALL has the newest header's value.
    """

    IGNORE_DBGHELP_VERSION = DEBUG_ENGOPT_IGNORE_DBGHELP_VERSION
    IGNORE_EXTENSION_VERSIONS = DEBUG_ENGOPT_IGNORE_EXTENSION_VERSIONS
    ALLOW_NETWORK_PATHS = DEBUG_ENGOPT_ALLOW_NETWORK_PATHS
    DISALLOW_NETWORK_PATHS = DEBUG_ENGOPT_DISALLOW_NETWORK_PATHS
    NETWORK_PATHS = DEBUG_ENGOPT_NETWORK_PATHS
    IGNORE_LOADER_EXCEPTIONS = DEBUG_ENGOPT_IGNORE_LOADER_EXCEPTIONS
    INITIAL_BREAK = DEBUG_ENGOPT_INITIAL_BREAK
    INITIAL_MODULE_BREAK = DEBUG_ENGOPT_INITIAL_MODULE_BREAK
    FINAL_BREAK = DEBUG_ENGOPT_FINAL_BREAK
    NO_EXECUTE_REPEAT = DEBUG_ENGOPT_NO_EXECUTE_REPEAT
    FAIL_INCOMPLETE_INFORMATION = DEBUG_ENGOPT_FAIL_INCOMPLETE_INFORMATION
    ALLOW_READ_ONLY_BREAKPOINTS = DEBUG_ENGOPT_ALLOW_READ_ONLY_BREAKPOINTS
    SYNCHRONIZE_BREAKPOINTS = DEBUG_ENGOPT_SYNCHRONIZE_BREAKPOINTS
    DISALLOW_SHELL_COMMANDS = DEBUG_ENGOPT_DISALLOW_SHELL_COMMANDS
    KD_QUIET_MODE = DEBUG_ENGOPT_KD_QUIET_MODE
    DISABLE_MANAGED_SUPPORT = DEBUG_ENGOPT_DISABLE_MANAGED_SUPPORT
    DISABLE_MODULE_SYMBOL_LOAD = DEBUG_ENGOPT_DISABLE_MODULE_SYMBOL_LOAD
    DISABLE_EXECUTION_COMMANDS = DEBUG_ENGOPT_DISABLE_EXECUTION_COMMANDS
    DISALLOW_IMAGE_FILE_MAPPING = DEBUG_ENGOPT_DISALLOW_IMAGE_FILE_MAPPING
    PREFER_DML = DEBUG_ENGOPT_PREFER_DML
    DISABLESQM = DEBUG_ENGOPT_DISABLESQM
    DISABLE_STEPLINES_OPTIONS = DEBUG_ENGOPT_DISABLE_STEPLINES_OPTIONS
    DEBUGGING_SENSITIVE_DATA = DEBUG_ENGOPT_DEBUGGING_SENSITIVE_DATA
    PREFER_TRACE_FILES = DEBUG_ENGOPT_PREFER_TRACE_FILES
    RESOLVE_SHADOWED_VARIABLES = DEBUG_ENGOPT_RESOLVE_SHADOWED_VARIABLES
    ALL = DEBUG_ENGOPT_ALL


class BreakpointType(IntEnum):
    """DEBUG_BREAKPOINT_* breakpoint types (prefix `DEBUG_BREAKPOINT_`).

    pydbg implements CODE and DATA; TIME and INLINE belong to time-travel and inline-frame
    support in newer engines.
    """

    CODE = DEBUG_BREAKPOINT_CODE
    DATA = DEBUG_BREAKPOINT_DATA
    TIME = DEBUG_BREAKPOINT_TIME
    INLINE = DEBUG_BREAKPOINT_INLINE


class BreakpointFlags(IntFlag):
    """DEBUG_BREAKPOINT_* breakpoint flags (prefix `DEBUG_BREAKPOINT_`)."""

    GO_ONLY = DEBUG_BREAKPOINT_GO_ONLY
    DEFERRED = DEBUG_BREAKPOINT_DEFERRED
    ENABLED = DEBUG_BREAKPOINT_ENABLED
    ADDER_ONLY = DEBUG_BREAKPOINT_ADDER_ONLY
    ONE_SHOT = DEBUG_BREAKPOINT_ONE_SHOT


class BreakAccess(IntFlag):
    """DEBUG_BREAK_*: data breakpoint access types (prefix `DEBUG_BREAK_`)."""

    READ = DEBUG_BREAK_READ
    WRITE = DEBUG_BREAK_WRITE
    EXECUTE = DEBUG_BREAK_EXECUTE
    IO = DEBUG_BREAK_IO


class OutputMask(IntFlag):
    """DEBUG_OUTPUT_*: kinds of output, as selected by a client's output mask (prefix
    `DEBUG_OUTPUT_`)."""

    NORMAL = DEBUG_OUTPUT_NORMAL
    ERROR = DEBUG_OUTPUT_ERROR
    WARNING = DEBUG_OUTPUT_WARNING
    VERBOSE = DEBUG_OUTPUT_VERBOSE
    PROMPT = DEBUG_OUTPUT_PROMPT
    PROMPT_REGISTERS = DEBUG_OUTPUT_PROMPT_REGISTERS
    EXTENSION_WARNING = DEBUG_OUTPUT_EXTENSION_WARNING
    DEBUGGEE = DEBUG_OUTPUT_DEBUGGEE
    DEBUGGEE_PROMPT = DEBUG_OUTPUT_DEBUGGEE_PROMPT
    SYMBOLS = DEBUG_OUTPUT_SYMBOLS
    STATUS = DEBUG_OUTPUT_STATUS
    XML = DEBUG_OUTPUT_XML


class ExceptionCode(IntEnum):
    """Exception codes of pydbg's synthetic exception records (members keep their full
    ntstatus.h / winnt.h names: `STATUS_*`, `DBG_*`)."""

    STATUS_GUARD_PAGE_VIOLATION = STATUS_GUARD_PAGE_VIOLATION
    STATUS_DATATYPE_MISALIGNMENT = STATUS_DATATYPE_MISALIGNMENT
    STATUS_BREAKPOINT = STATUS_BREAKPOINT
    STATUS_SINGLE_STEP = STATUS_SINGLE_STEP
    STATUS_ACCESS_VIOLATION = STATUS_ACCESS_VIOLATION
    STATUS_IN_PAGE_ERROR = STATUS_IN_PAGE_ERROR
    STATUS_INVALID_HANDLE = STATUS_INVALID_HANDLE
    STATUS_ILLEGAL_INSTRUCTION = STATUS_ILLEGAL_INSTRUCTION
    STATUS_FLOAT_DIVIDE_BY_ZERO = STATUS_FLOAT_DIVIDE_BY_ZERO
    STATUS_INTEGER_DIVIDE_BY_ZERO = STATUS_INTEGER_DIVIDE_BY_ZERO
    STATUS_INTEGER_OVERFLOW = STATUS_INTEGER_OVERFLOW
    STATUS_PRIVILEGED_INSTRUCTION = STATUS_PRIVILEGED_INSTRUCTION
    STATUS_STACK_OVERFLOW = STATUS_STACK_OVERFLOW
    STATUS_ASSERTION_FAILURE = STATUS_ASSERTION_FAILURE
    DBG_CONTROL_C = DBG_CONTROL_C
    DBG_CONTROL_BREAK = DBG_CONTROL_BREAK
    DBG_COMMAND_EXCEPTION = DBG_COMMAND_EXCEPTION


# `from pydbg.constants import *` should give the DbgEng names and the enums, not the typing and
# enum helpers this module imports; a hand-kept list of ~250 names would drift.
_public = list(globals().items())
__all__ = sorted(
    [name for name, value in _public if name.isupper() and type(value) is int]
    + [
        name
        for name, value in _public
        if isinstance(value, type)
        and issubclass(value, (IntEnum, IntFlag))
        and value not in (IntEnum, IntFlag)
    ]
)
del _public
