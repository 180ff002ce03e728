"""The engine: pydbg's re-creation of the DbgEng session and execution model.

Internals only; users reach it through `pydbg.create_client()` and the client's facets.
A reader looking for where something is decided should find it by file name:

* `session`  -- the session state machine; `Engine`, composed of the parts below.
* `waiting`  -- WaitForEvent: the loop that drives record -> translate -> decide -> resume.
* `deciding`, `resuming`, `arming`, `delivery` -- deciding an event, resuming the targets,
  what the next resume runs (execution status, steps), which signals it delivers.
* `lifecycle`, `interrupts`, `options`, `core` -- acquiring and ending, SetInterrupt,
  engine options, the shared state and plumbing.
* `translate` -- how one native wait record becomes zero or more DbgEng events and the
  actions the session takes for it (a value: it never calls the session).
* `traps`    -- the trap ledger: which thread sits at, or is about to run from, a trap.
* `dispatch` -- how one DbgEng event is decided: filter, filter command, callbacks, precedence.
* `notify`   -- the informational notifications (SessionStatus, Change*State, extensions) and
  their order.
* `stepping` -- step plans: STEP_INTO, STEP_OVER, STEP_BRANCH and step counts.
* `targets`  -- the engine's view of processes and threads, with engine ids.
* `signals`  -- Linux signals as DbgEng exception records and codes.
* `backend`  -- what the engine asks of the native core (the seam engine tests replay).
"""
