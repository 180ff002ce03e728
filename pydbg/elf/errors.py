"""The exceptions of the ELF file layer: one family, `ImageError`, each naming the file.

Nothing raised by the parsers this layer uses (pyelftools' ELFError and DWARFError,
struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError, ...) is allowed to reach
a caller raw: the boundary functions of `pydbg.elf` catch them and raise one of these, or,
where a missing piece is not an error (a module without symbols, unreadable line info),
give an empty result and record why.
"""

from __future__ import annotations

import errno as _errno
import os

from pydbg.errors import PydbgError

__all__ = [
    "ImageError",
    "ImageFileError",
    "ImageNotFoundError",
    "NotElfError",
    "CorruptImageError",
]


class ImageError(PydbgError):
    """An ELF file could not be used.  `path` names it; `str()` says what went wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class ImageFileError(ImageError, OSError):
    """The file could not be opened or read (permissions, a directory, an I/O error).

    Also an OSError, with `errno` and `filename` set, so generic `except OSError` code
    keeps working.
    """

    def __init__(self, path: str, message: str, errno: int = 0) -> None:
        super().__init__(path, message)
        self.errno = errno
        self.strerror = message
        self.filename = path

    @classmethod
    def from_oserror(cls, path: str, exc: OSError) -> ImageFileError:
        """The right subclass for an OSError met while opening or reading `path`."""
        code = exc.errno or 0
        if code == _errno.ENOENT:
            return ImageNotFoundError(path, "no such file", code)
        message = exc.strerror or (os.strerror(code) if code else str(exc))
        return ImageFileError(path, f"cannot read the file: {message}", code)


class ImageNotFoundError(ImageFileError, FileNotFoundError):
    """The file does not exist (or was deleted before it could be opened)."""


class NotElfError(ImageError, ValueError):
    """The file exists but is not an ELF file (wrong magic, or an ELF kind not supported)."""


class CorruptImageError(ImageError, ValueError):
    """The file is an ELF file but truncated or inconsistent where it matters."""
