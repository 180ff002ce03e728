"""Stack unwinding: CFI tables, the frame walk, and gdb as the reference on live processes."""
