"""Tests of pydbg.elf, the file side of symbols: images, symbol tables, line tables."""
