"""End-to-end breakpoint, watchpoint and stepping-command tests against real processes."""
