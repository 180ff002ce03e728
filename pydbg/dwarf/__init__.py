"""Source-level data from DWARF: types, variables, their locations and values.

    types          the type model (base, pointer, qualifier, typedef, struct/union/class,
                   enum, array, function) and gdb's spelling of type names
    type_reader    DIEs -> types
    debug_info     one file's DWARF (pyelftools), units by address, types/globals by name
    aranges        .debug_aranges read with struct (address -> unit)
    scopes         the function and blocks holding a pc, and their variables
    locations      the location-expression stack machine and location-list selection
    values         typed values from memory/registers, printed as gdb prints them
    frame_variables  parameters and locals of a frame of an unwound stack
    tls            the executable's thread-local block
    c_expressions  C expressions over values (`??`)

Pure Python over callbacks (memory, registers, symbols): the symbols facet
(pydbg.symbol_group) feeds it from a live process.
"""
