"""pydbg: a Linux x86_64 native debugger for Python, on ptrace, in the DbgEng model.

The native core lives in `pydbg._native` (its contract: `pydbg/_native.pyi`); errors in
`pydbg.errors`.  The DbgEng session layer (`create_client`, facets, callbacks) is built on
top of the core.
"""

__version__ = "0.1.0"
