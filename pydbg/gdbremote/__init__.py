"""pydbg as a GDB-remote server: stock gdb (`target remote`, `target extended-remote`)
debugs programs on pydbg's engine.

    packets.py     framing, checksums, escaping, run-length, acks, 0x03
    target_xml.py  the x86-64 register table and the target description made from it
    register_file  the current thread's registers in that layout, through the facets
    stops.py       DbgEng events as stop replies; Linux <-> GDB signal numbers
    link_map.py    qXfer:libraries-svr4 from the loader's link map
    files.py       vFile: read-only access to the target's files
    server.py      the packet dispatcher over the public facets
    cli.py         `pydbg gdbserver`
"""
