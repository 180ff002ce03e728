"""Reports of a debugged program's end, for CI logs and scripts: the crash report
(pydbg.reports.crash), the hang report (pydbg.reports.hang), the event log
(pydbg.reports.events) and their JSON Lines form (pydbg.reports.jsonl).

Each report is built from a client through its public facets while the targets are
stopped, as a value (a dataclass) that renders itself as text (`text()`, the layout of the
cdb commands it reuses: `k`, `r`, `u`, `!address`, `lm`) and as JSON (`to_json()`).
"""
