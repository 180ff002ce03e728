"""The engine: pydbg's re-creation of the DbgEng session and execution model.

Internals only; users reach it through `pydbg.create_client()` and the client's facets.
A reader looking for where something is decided should find it by file name:

* `session`  -- the session state machine: acquiring and discarding targets, WaitForEvent,
  resuming, interrupts, EndSession.
* `translate` -- how one native wait record becomes zero or more DbgEng events.
* `dispatch` -- how one DbgEng event is decided: filter, filter command, callbacks, precedence.
* `notify`   -- the informational notifications (SessionStatus, Change*State, extensions) and
  their order.
* `stepping` -- step plans: STEP_INTO, STEP_OVER, STEP_BRANCH and step counts.
* `targets`  -- the engine's view of processes and threads, with engine ids.
* `signals`  -- Linux signals as DbgEng exception records and codes.
* `backend`  -- what the engine asks of the native core (the seam engine tests replay).
"""
