"""Tests of the module list read from the dynamic loader's rendezvous (pydbg.engine.rendezvous)."""
