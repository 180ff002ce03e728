"""Thread-local storage of the main executable: where its TLS block sits in a thread.

x86_64 uses TLS variant II: the thread pointer (fs_base) points at the TCB and the static
TLS blocks lie below it, the executable's (module 1) first.  glibc places it at
tp - off with off = roundup(memsz - firstbyte, align) + firstbyte, where firstbyte =
p_vaddr & (align - 1) of the PT_TLS header (elf/dl-tls.c, _dl_determine_tlsoffset); a
variable at offset o of the block (its DW_OP_form_tls_address operand) is at tp - off + o.
"""

from __future__ import annotations

import functools

from pydbg.elf.image import ElfImage, ImageStream

__all__ = ["executable_tls_offset"]

PT_TLS = 7


@functools.lru_cache(maxsize=64)
def _tls_header(image: ElfImage) -> tuple[int, int, int] | None:
    from typing import BinaryIO, cast

    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(cast(BinaryIO, ImageStream(image)))
        for segment in elf.iter_segments():
            if segment.header.p_type == "PT_TLS":
                h = segment.header
                return h.p_vaddr, h.p_memsz, max(h.p_align, 1)
    except Exception:  # a damaged file: no TLS answer
        return None
    return None


def executable_tls_offset(image: ElfImage) -> int | None:
    """How far below the thread pointer the executable's TLS block starts (None when it
    has no PT_TLS)."""
    header = _tls_header(image)
    if header is None:
        return None
    vaddr, memsz, align = header
    firstbyte = vaddr & (align - 1)
    return -(-(memsz - firstbyte) // align) * align + firstbyte
