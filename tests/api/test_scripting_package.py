"""What `import pydbg` offers a script: the public names in dir() (IPython completes from
it), each of them reachable, the version, and the typing marker."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pydbg
from tests.support import ROOT

SCRIPTING = {
    "launch",
    "attach",
    "Process",
    "Event",
    "BreakIn",
    "BreakpointHit",
    "WatchpointHit",
    "SignalEvent",
    "ThreadCreated",
    "ThreadExited",
    "ModuleLoaded",
    "ModuleUnloaded",
    "ProcessExited",
}


def test_dir_lists_every_public_name_and_each_resolves():
    names = set(dir(pydbg))
    assert SCRIPTING <= set(pydbg.__all__) <= names
    for name in pydbg.__all__:
        assert getattr(pydbg, name) is not None, name
    assert pydbg.launch is pydbg.scripting.launch
    assert issubclass(pydbg.ProcessExited, pydbg.Event)


def test_the_lazy_names_load_nothing_until_asked():
    # A fresh interpreter: dir() names them, but only an access imports the engine.
    code = (
        "import sys, pydbg; d = dir(pydbg); "
        "assert 'launch' in d and 'pydbg.client' not in sys.modules; "
        "pydbg.launch; assert 'pydbg.client' in sys.modules"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_version_is_the_project_version():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        declared = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.MULTILINE)
    assert declared is not None
    assert pydbg.__version__ == declared.group(1)


def test_the_package_is_typed():
    assert os.path.exists(os.path.join(ROOT, "pydbg", "py.typed"))


def test_every_subpackage_is_packaged():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        listed = set(re.findall(r'"(pydbg(?:\.\w+)*)"', f.read()))
    found = {
        os.path.relpath(directory, ROOT).replace(os.sep, ".")
        for directory, _, files in os.walk(os.path.join(ROOT, "pydbg"))
        if "__init__.py" in files and "__pycache__" not in directory
    }
    assert found <= listed
