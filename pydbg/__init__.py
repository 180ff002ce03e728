"""pydbg: a Linux x86_64 native debugger for Python, on ptrace, in the DbgEng model.

    import pydbg
    client = pydbg.create_client()
    client.create_process(["/bin/true"])
    client.control.wait_for_event()                 # the initial breakpoint
    print(hex(client.registers.get_value("rip")))
    client.control.execute("t; r rip; g")

`create_client` and the facets follow the Windows Debugger Engine (see pydbg.client);
`EventCallbacks` and `OutputCallbacks` are the classes to subclass; constants carry their
dbgeng.h names and values in `pydbg.constants`.  The native core is `pydbg._native` (its
contract: `pydbg/_native.pyi`); errors are in `pydbg.errors`.
"""

from pydbg.callbacks import EventCallbacks, OutputCallbacks
from pydbg.client import DebugClient, create_client

__version__ = "0.1.0"

__all__ = ["DebugClient", "EventCallbacks", "OutputCallbacks", "create_client"]
