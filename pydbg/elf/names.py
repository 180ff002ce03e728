"""How gdb prints a symbol's name: `gdb_print_name("fputwc.cold") == "fputwc[cold]"`.

`SymbolTable` answers with linkage names, the exact strings of the ELF file, because
those are what a name lookup takes back.  gdb prints something else for some of them: it
guesses each minimal symbol's language from its name, and a plain C name that GNAT's
Ada decoder would change (a `.cold` or `.part.0` clone suffix, a `__` inside the name)
is taken for Ada and printed decoded ("fputwc[cold]", "fts_safe_changedir.part",
"a__b" as "a.b").  `gdb_print_name` reproduces that decoder (gdb's `ada_decode`, with the
checks its language sniffer applies), so output can match gdb's and tests can compare
with it.  C++ (`_Z...`), D, Go and Rust names, which gdb demangles, are returned as they
are.
"""

from __future__ import annotations

__all__ = ["ada_decode", "gdb_print_name"]

# gdb's ada_opname_table: operator functions, encoded "O<name>".
_OPERATORS = (
    ("Oadd", '"+"'),
    ("Osubtract", '"-"'),
    ("Omultiply", '"*"'),
    ("Odivide", '"/"'),
    ("Omod", '"mod"'),
    ("Orem", '"rem"'),
    ("Oexpon", '"**"'),
    ("Olt", '"<"'),
    ("Ole", '"<="'),
    ("Ogt", '">"'),
    ("Oge", '">="'),
    ("Oeq", '"="'),
    ("One", '"/="'),
    ("Oand", '"and"'),
    ("Oor", '"or"'),
    ("Oxor", '"xor"'),
    ("Oconcat", '"&"'),
    ("Oabs", '"abs"'),
    ("Onot", '"not"'),
)


def _isalpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


def _isalnum(c: str) -> bool:
    return _isalpha(c) or _isdigit(c)


def _isxdigit(c: str) -> bool:
    return _isdigit(c) or ("a" <= c <= "f") or ("A" <= c <= "F")


def _is_lower_alphanum(c: str) -> bool:
    return _isdigit(c) or ("a" <= c <= "z")


def _remove_compiler_suffix(s: str, n: int) -> tuple[int, int]:
    """A trailing `.letters` suffix (".cold"): (new length, start of the suffix or -1)."""
    offset = n - 1
    while offset > 0 and _isalpha(s[offset]):
        offset -= 1
    if offset > 0 and s[offset] == ".":
        return offset, offset + 1
    return n, -1


def _remove_trailing_digits(s: str, n: int) -> int:
    """Strip `.N`, `$N`, `___N` or `__N` (numbered nested entities, clones)."""
    if n > 1 and _isdigit(s[n - 1]):
        i = n - 2
        while i > 0 and _isdigit(s[i]):
            i -= 1
        if i >= 0 and s[i] == ".":
            return i
        if i >= 0 and s[i] == "$":
            return i
        if i >= 2 and s[i - 2 : i + 1] == "___":
            return i - 2
        if i >= 1 and s[i - 1 : i + 1] == "__":
            return i - 1
    return n


def _hex_char(s: str, at: int, digits: int) -> str | None:
    text = s[at : at + digits]
    if len(text) != digits or not all(_isxdigit(c) for c in text):
        return None
    try:
        return chr(int(text, 16))
    except (ValueError, OverflowError):
        return None


def ada_decode(encoded: str) -> str:
    """gdb's ada_decode: the decoded GNAT name, or `<encoded>` when it is not one."""
    s = encoded
    if s.startswith("."):
        s = s[1:]
    if s.startswith("_ada_"):
        s = s[5:]
    if s.startswith("___ghost_"):
        s = s[9:]
    suppressed = "<" + s + ">" if not s.startswith("<") else s
    if not s or s[0] in "_<":
        return suppressed

    n, suffix = _remove_compiler_suffix(s, len(s))
    n = _remove_trailing_digits(s, n)
    # Protected-object subprograms: a trailing N after a digit or lowercase letter.
    if n > 1 and s[n - 1] == "N" and (_isdigit(s[n - 2]) or s[n - 2].islower()):
        n -= 1
    p = s.find("___")
    if p >= 0 and p < n - 3:
        if s[p + 3] == "X":
            n = p
        else:
            return suppressed
    if n > 3 and s[n - 3 : n] == "TKB":
        n -= 3
    if n > 2 and s[n - 2 : n] == "TB":
        n -= 2
    if n > 1 and s[n - 1] == "B":
        n -= 1
    if n > 1 and _isdigit(s[n - 1]):
        i = n - 2
        while (i >= 0 and _isdigit(s[i])) or (i >= 1 and s[i] == "_" and _isdigit(s[i - 1])):
            i -= 1
        if i > 1 and s[i] == "_" and s[i - 1] == "_":
            n = i - 1
        elif i >= 0 and s[i] == "$":
            n = i

    out: list[str] = []
    i = 0
    while i < n and not _isalpha(s[i]):
        out.append(s[i])
        i += 1

    def at(k: int) -> str:
        # C strings read past `n` into the rest of the name, then hit the NUL.
        return s[k] if 0 <= k < len(s) else "\0"

    at_start_name = True
    while i < n:
        if at_start_name and s[i] == "O":
            for enc, dec in _OPERATORS:
                size = len(enc)
                if s[i + 1 : i + size] == enc[1:] and not _isalnum(at(i + size)):
                    out.append(dec)
                    at_start_name = False
                    i += size
                    break
            else:
                enc = ""
            if enc:
                continue
        at_start_name = False
        if i < n - 4 and s[i : i + 4] == "TK__":
            i += 2
        if n - i > 5 and s[i : i + 4] == "__B_" and _isdigit(s[i + 4]):
            k = i + 5
            while k < n and _isdigit(s[k]):
                k += 1
            if n - k > 2 and s[k] == "_" and s[k + 1] == "_":
                i = k
        if n - i > 3 and s[i] == "_" and s[i + 1] == "E" and _isdigit(s[i + 2]):
            k = i + 3
            while k < n and _isdigit(s[k]):
                k += 1
            if k < n and s[k] in "bs":
                k += 1
                if k == n or (k < n and s[k] == "_"):
                    i = k
        if at(i) == "N" and at(i + 1) == "_" and at(i + 2) == "_":
            ptr = i - 1
            while ptr >= 0 and _is_lower_alphanum(s[ptr]):
                ptr -= 1
            if ptr < 0 or (ptr > 0 and s[ptr] == "_" and s[ptr - 1] == "_"):
                i += 1
        ch = at(i)
        if ch == "U" and _isxdigit(at(i + 1)):
            wide = _hex_char(s, i + 1, 2)
            if wide is not None:
                out.append(wide)
                i += 3
                continue
        elif ch == "W" and _isxdigit(at(i + 1)):
            wide = _hex_char(s, i + 1, 4)
            if wide is not None:
                out.append(wide)
                i += 5
                continue
        elif ch == "W" and at(i + 1) == "W" and _isxdigit(at(i + 2)):
            wide = _hex_char(s, i + 2, 8)
            if wide is not None:
                out.append(wide)
                i += 10
                continue
        if i >= n:
            break
        if s[i] == "X" and i != 0 and _isalnum(s[i - 1]):
            i += 1
            while i < n and s[i] in "bn":
                i += 1
            if i < n:
                return suppressed
        elif i < n - 2 and s[i] == "_" and s[i + 1] == "_":
            out.append(".")
            at_start_name = True
            i += 2
        else:
            out.append(s[i])
            i += 1

    decoded = "".join(out)
    if any(("A" <= c <= "Z") or c == " " for c in decoded):
        return suppressed
    if suffix >= 0:
        decoded = f"{decoded}[{s[suffix:]}]"
    return decoded


def gdb_print_name(name: str) -> str:
    """The name gdb shows for a minimal symbol with this linkage name."""
    if not name or name.startswith(("_Z", "_D", "_R", "go.", "go_0", "libgo_")):
        return name
    decoded = ada_decode(name)
    if decoded != name and not decoded.startswith("<"):
        return decoded
    return name
