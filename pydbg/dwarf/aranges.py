"""A reader of .debug_aranges (DWARF 5 §6.1.2): address ranges -> compilation unit offset.

pyelftools parses the section entry by entry with construct, about 0.2 s for glibc's
debug file; this reads the same tables with `struct` in a few milliseconds, which is most
of the cost of the first `dv` in a library frame.  Only the lookup dv needs: the unit
covering an address.  Malformed tables end the reading at the damage (what was read
before it is kept).
"""

from __future__ import annotations

import bisect
import struct

__all__ = ["AddressRanges"]


class AddressRanges:
    """Sorted (start, end, unit offset) triples from a .debug_aranges section's bytes."""

    def __init__(self, data: bytes) -> None:
        triples: list[tuple[int, int, int]] = []
        pos = 0
        size = len(data)
        while pos + 4 <= size:
            (length,) = struct.unpack_from("<I", data, pos)
            offset_size = 4
            header = pos + 4
            if length == 0xFFFFFFFF:
                if pos + 12 > size:
                    break
                (length,) = struct.unpack_from("<Q", data, pos + 4)
                offset_size = 8
                header = pos + 12
            end = header + length
            if length == 0 or end > size:
                break
            unit_fmt = "<I" if offset_size == 4 else "<Q"
            (unit,) = struct.unpack_from(unit_fmt, data, header + 2)
            address_size = data[header + 2 + offset_size]
            if address_size not in (4, 8):
                pos = end
                continue
            first = header + 2 + offset_size + 2
            # Tuples start at a multiple of twice the address size from the set's start.
            align = 2 * address_size
            first += (-(first - pos)) % align
            pair = struct.Struct("<II" if address_size == 4 else "<QQ")
            count = (end - first) // pair.size
            for start, span in pair.iter_unpack(data[first : first + count * pair.size]):
                if start == 0 and span == 0:
                    break
                if span:
                    triples.append((start, start + span, unit))
            pos = end
        triples.sort()
        self._starts = [t[0] for t in triples]
        self._triples = triples

    def __len__(self) -> int:
        return len(self._triples)

    def unit_at(self, address: int) -> int | None:
        """The .debug_info offset of the unit covering an address, or None."""
        i = bisect.bisect_right(self._starts, address) - 1
        # Ranges may nest or overlap only in broken files; look back a little.
        for j in range(i, max(i - 4, -1), -1):
            start, end, unit = self._triples[j]
            if start <= address < end:
                return unit
        return None
