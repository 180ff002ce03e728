"""Source names of linkage names: C++ (Itanium ABI) and Rust demangling, gcc clone suffixes,
and the function name a source-level lookup (`bp ns::K::f`) compares with.

`demangle("_ZN2ns1K1fEi") == "ns::K::f(int)"`: C++ names go through the toolchain's own
demangler (`__cxa_demangle` of libstdc++, via the `cxxfilt` package), Rust names through
`rust_demangler` (legacy `_ZN...17h<hash>E` and v0 `_R...`; it agrees with binutils' c++filt
on 1186 of the 1220 Rust symbols of a rustc 1.95 binary: it keeps LLVM's `.0` suffixes,
drops the type of const generic arguments (`<10>` for `<10: usize>`) and gives up on
higher-ranked `dyn for<'a>` types, which then stay mangled).  The result is what gdb shows
for a minimal symbol (`info symbol`, `x/i`) and what `nm -C` prints: the parameter list is
kept, so overloads stay apart, and a clone keeps its suffix as
`ns::K::f(int) [clone .constprop.0]`.  Like gdb (which demangles Rust without
DMGL_VERBOSE), the hash of a legacy Rust name is dropped.  A v0 inherent method on a plain
path is written `rust_names::Point::norm`, as its legacy name and gdb's `bt` (from DWARF)
write it, where c++filt writes `<rust_names::Point>::norm`; so `bp rust_names::Point::norm`
finds it under both manglings.  A name that is not mangled, or that a demangler rejects, is
returned unchanged: demangling never fails.

Demangling is lazy and cached per name (`functools.lru_cache`): a symbol table is never
demangled whole just because it was read; only names that are displayed or that pass the
cheap `mangled_hints` filter of a lookup are.

`function_name("int ns::add<int>(int, int) const [clone .isra.0]") == "ns::add<int>"`: the
qualified name without return type, parameters, qualifiers and clone suffix -- what gdb's
`break ns::add<int>` matches against.  `split_clone("foo.constprop.0") == ("foo",
".constprop.0")` for C names gcc cloned.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re

__all__ = [
    "clone_suffix",
    "demangle",
    "function_name",
    "is_entry_clone",
    "is_mangled",
    "mangled_hints",
    "normalize",
    "split_clone",
]

# gcc's clone suffixes (ipa-*.cc, tree-inline.cc): constant propagation, interprocedural
# SRA, partial inlining's outlined part, hot/cold splitting, LTO privatisation, and a few
# rarer ones; several may be stacked ("foo.isra.0.cold").
_CLONE = re.compile(
    r"(?:\.(?:constprop|isra|part|lto_priv|specialized|localalias|clone|cold)(?:\.\d+)?)+$"
)
# Clone kinds that are not an entry point of the function: gcc jumps into them from it.
_NOT_ENTRY = re.compile(r"\.(?:part|cold)(?:\.\d+)?")
_CPP_CLONE = re.compile(r"(?: \[clone [^\]]*\])+$")
# A member function's qualifiers, after its parameter list.
_QUALIFIERS = re.compile(r"(?<=\))(?:\s*(?:const|volatile|noexcept|transaction_safe|&&|&))+$")
# The Itanium ABI's special names: "vtable for ns::K", "non-virtual thunk to ns::K::f()",
# "transaction clone for ...", "reference temporary #0 for ...".
_SPECIAL = re.compile(r"^(?:[A-Za-z-]+ )+(?:#\d+ )?(?:for|to) ")
_RUST_UNNAMED = re.compile(r"\{([A-Za-z]+):#(\d+)\}")
_RUST_LEGACY = re.compile(r"^_ZN.*17h[0-9a-f]{16}E$")
# A v0 inherent method whose self type is a plain path: `<rust_names::Point>::norm`.
_RUST_INHERENT = re.compile(r"^<([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)>::")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_mangled(name: str) -> bool:
    """Whether a name is an Itanium C++ or Rust mangled name."""
    return name.startswith(("_Z", "_R"))


@functools.lru_cache(maxsize=1 << 17)
def demangle(name: str) -> str:
    """The demangled form of a linkage name (C++ or Rust), or the name itself.  A
    version (`@GLIBCXX_3.4`, `@@VER`) or `@plt` suffix is kept after the demangled name."""
    if not is_mangled(name):
        return name
    at = name.find("@")
    base, suffix = (name[:at], name[at:]) if at > 0 else (name, "")
    shown = _demangle_rust(base) if _is_rust(base) else _demangle_cpp(base)
    return name if shown is None else shown + suffix


def _is_rust(name: str) -> bool:
    # A legacy Rust name is a valid C++ name too; its hash component tells it apart.
    return name.startswith("_R") or _RUST_LEGACY.match(name) is not None


def _demangle_rust(name: str) -> str | None:
    import rust_demangler

    try:
        # Its v0 parser prints the partial result to stdout before raising on a construct
        # it does not know (`dyn for<'a> ...`); the redirection is process-wide, for the
        # microseconds of the call.
        with contextlib.redirect_stdout(io.StringIO()):
            shown: str = rust_demangler.demangle(name)
    except Exception:  # its errors have no common base: TypeNotFoundError, Unable*Demangle
        return None
    if "?" in shown:
        return None  # what it writes for a part it could not parse
    if name.startswith("_ZN"):
        shown = re.sub(r"::h[0-9a-f]{16}$", "", shown)
    # v0 writes an inherent method as `<rust_names::Point>::norm` (so do c++filt and
    # rustc-demangle); the legacy name, gdb's `bt` and `break` say `rust_names::Point::norm`.
    # The brackets are dropped when the self type is a plain path (not `<[T]>`, `<&T>` or
    # `<Vec<u8>>`, where they are needed to read the name back).
    shown = _RUST_INHERENT.sub(r"\1::", shown)
    # rust_demangler writes an unnamed closure as `{closure:#0}`; rustc-demangle, gdb and
    # c++filt write `{closure#0}`.
    return _RUST_UNNAMED.sub(r"{\1#\2}", shown)


def _demangle_cpp(name: str) -> str | None:
    # Imported on first use: the import looks libstdc++ up (ctypes.util.find_library).
    import cxxfilt

    try:
        return str(cxxfilt.demangle(name))
    except Exception:  # cxxfilt.InvalidName, or LibraryNotFound without libstdc++
        return None


def split_clone(name: str) -> tuple[str, str]:
    """(source name, clone suffix) of a C linkage name gcc cloned: `("foo", ".isra.0")`;
    `(name, "")` for any other name."""
    match = _CLONE.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match[0]


def is_entry_clone(suffix: str) -> bool:
    """Whether a clone suffix (`.isra.0`, or C++'s `[clone .isra.0]`) names a callable
    copy of the function (`.constprop.0`, `.isra.0`) rather than a piece of one
    (`.part.0`, `.cold`)."""
    return _NOT_ENTRY.search(suffix) is None


def clone_suffix(demangled: str) -> str:
    """The `[clone ...]` part of a demangled C++ name ("" when it has none)."""
    match = _CPP_CLONE.search(demangled)
    return "" if match is None else match[0]


def _depths(text: str) -> list[int]:
    """Bracket depth (`<>`, `()`, `[]`, `{}`) before each character; `operator<` and the
    like do not count."""
    out: list[int] = []
    depth = 0
    i = 0
    while i < len(text):
        if text.startswith("operator", i) and (i == 0 or not text[i - 1].isalnum()):
            # The operator's own symbol ("<<", "()", "->") is not a bracket.
            j = i + len("operator")
            k = j
            while k < len(text) and text[k] in "<>=-+*/%^&|!~,[]()":
                k += 1
                if text[k - 2 : k] in ("()", "[]"):
                    break
            out.extend([depth] * (k - i))
            i = k
            continue
        ch = text[i]
        if ch in ">)]}":
            depth -= 1
        out.append(depth)
        if ch in "<([{":
            depth += 1
        i += 1
    return out


def function_name(demangled: str) -> str:
    """The qualified name of a demangled function without its return type, parameter
    list, qualifiers and clone suffix (`ns::Box<int>::get`), as `c++filt -p` prints it;
    a name that is not a function's (`ns::counter`, `vtable for ns::K`, a thunk) is
    returned as it is."""
    if _SPECIAL.match(demangled):
        return demangled  # not a function's name: as c++filt -p leaves it
    text = _QUALIFIERS.sub("", _CPP_CLONE.sub("", demangled.strip()))
    if not text.endswith(")"):
        return text
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                head = text[:i]
                break
    else:
        return text
    # A return type (template functions have one) ends at the last top-level space before
    # the name; spaces inside an operator's name ("operator new") are not that space.
    depths = _depths(head)
    end = len(head)
    op = _top_level_operator(head, depths)
    if op >= 0:
        end = op
    cut = max((i for i in range(end) if head[i] == " " and depths[i] == 0), default=-1)
    return head[cut + 1 :]


def _top_level_operator(head: str, depths: list[int]) -> int:
    for match in re.finditer(r"(?<![A-Za-z0-9_])operator(?![A-Za-z0-9_])", head):
        if depths[match.start()] == 0:
            return match.start()
    return -1


def normalize(name: str) -> str:
    """A C++ name with blanks only where they separate two words (`unsigned int`), so
    that `f(int, char)` and `f(int,char)`, `A<B<int> >` and `A<B<int>>` compare equal."""
    name = re.sub(r"\s+", " ", name.strip())
    return re.sub(r" (?![A-Za-z0-9_])|(?<![A-Za-z0-9_]) ", "", name)


def mangled_hints(query: str) -> list[bytes]:
    """Byte strings every mangled name matching `query` (a demangled name or pattern)
    contains: `<length><identifier>` for each whole identifier of the query before its
    first wildcard, the way both manglings spell identifiers.  A cheap filter run over the
    raw names of a table, so that only a few names are demangled per lookup."""
    query = _CPP_CLONE.sub("", query)
    cut = min((query.find(ch) for ch in "*?[" if ch in query), default=len(query))
    literal = query[:cut]
    operator = re.search(r"(?<![A-Za-z0-9_])operator(?![A-Za-z0-9_])", literal)
    if operator is not None:
        # `operator new` and `operator int` are mangled as codes (nw, cvi), not by name.
        literal = literal[: operator.start()]
    hints: list[bytes] = []
    for match in _IDENT.finditer(literal):
        word = match[0]
        if match.end() == len(literal) and cut < len(query):
            continue  # cut by a wildcard: only a prefix of the identifier is known
        if word not in _NOT_SPELLED:
            hints.append(f"{len(word)}{word}".encode())
    return hints


# Words of a demangled name that its mangled form does not spell as <length><word>: types
# and literals written as letter codes (`i` for int, `Lb1E` for true), the standard
# substitutions (St, Sa, Sb, Ss, Si, So, Sd), and the words of special names ("vtable
# for", "non-virtual thunk to", "{lambda(int)#1}", "[abi:cxx11]").  Leaving a word out
# only makes the filter let more names through.
_NOT_SPELLED = frozenset(
    (
        *("void", "bool", "char", "wchar_t", "char8_t", "char16_t", "char32_t", "short"),
        *("int", "long", "float", "double", "unsigned", "signed", "const", "volatile"),
        *("true", "false", "nullptr", "auto", "decltype", "sizeof", "alignof", "noexcept"),
        *("std", "allocator", "basic_string", "string", "char_traits", "istream"),
        *("ostream", "iostream", "basic_istream", "basic_ostream", "basic_iostream"),
        *("operator", "anonymous", "namespace", "lambda", "unnamed", "type", "abi"),
        *("vtable", "for", "to", "typeinfo", "name", "guard", "variable", "thunk"),
        *("virtual", "non", "covariant", "return", "transaction", "clone", "construction"),
        *("reference", "temporary", "TLS", "init", "function", "wrapper", "VTT"),
    )
)
