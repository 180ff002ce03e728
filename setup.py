"""Build configuration of the one native extension, pydbg._native.

This is the only place the extension is configured: pyproject.toml names the build
backend and the metadata, this file says which sources make up the module and how they
are compiled.  csrc/_native.pyx includes one .pyx per kernel concept (tracer, wait,
registers, memory, stepping, debug registers); the C declarations live in
csrc/includes/.

PYDBG_DEBUG_BUILD=1 builds with Cython line tracing and without optimisation, for
profiling the native layer with coverage or line_profiler.
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("PYDBG_DEBUG_BUILD") == "1"

macros = [("_GNU_SOURCE", "1")]
directives = {
    "language_level": "3",
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "embedsignature": True,
}
if debug:
    macros += [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")]
    directives.update(linetrace=True, boundscheck=True, wraparound=True)

extension = Extension(
    "pydbg._native",
    sources=["csrc/_native.pyx"],
    include_dirs=["csrc/includes"],
    define_macros=macros,
    extra_compile_args=["-O0", "-g"] if debug else ["-O2"],
)

setup(
    ext_modules=cythonize(
        [extension],
        compiler_directives=directives,
        include_path=["csrc", "csrc/includes"],
    ),
)
