"""The cdb-style command language: splitting command sequences, MASM expressions, and the
commands themselves."""
