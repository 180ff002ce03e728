"""The crash report shows inline frames as `kn` does (tests/targets/inlinecrash.c: a NULL
store in poke(), inlined into crasher()): against gdb's `bt` at the same fault, frame by
frame (names and lines), in the text and in the JSON record."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.dwarf.conftest import gdb_batch, needs_gdb


def _gdb_bt(path: str) -> list[tuple[str, int]]:
    text = gdb_batch(path, ["run", "bt", "kill"], early=("set debuginfod enabled off",))
    frames = []
    for line in text.splitlines():
        m = re.match(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(.*\) at \S+:(\d+)$", line)
        if m:
            frames.append((m[1], int(m[2])))
    return frames


@needs_gdb
def test_crash_report_shows_the_inlined_function(targets, tmp_path) -> None:
    binary = targets.get("inlinecrash", "pie")
    assert binary is not None
    expected = _gdb_bt(binary.path)
    assert [name for name, _ in expected] == ["poke", "crasher", "main"]
    out = tmp_path / "report.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pydbg", "run", "--json", str(out), "--", binary.path],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    stack = result.stderr[result.stderr.index("(crashed):") :]
    ours = [
        (m[2], int(m[3]))
        for m in re.finditer(
            r"^([0-9a-f]{2}) .*?!(\w+)(?:\+0x[0-9a-f]+)? \[.* @ (\d+)\]$", stack, re.M
        )
    ]
    assert ours[:3] == expected, stack
    assert re.search(r"^00 \(Inline Function\) --------`-------- \S+!poke ", stack, re.M), stack
    crash = next(r for r in map(json.loads, out.read_text().splitlines()) if "threads" in r)
    frames = crash["threads"][0]["frames"]
    assert [(f["function"], f["line"], f["inline"]) for f in frames[:3]] == [
        ("poke", expected[0][1], True),
        ("crasher", expected[1][1], False),
        ("main", expected[2][1], False),
    ]
