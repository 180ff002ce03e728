"""Tests of the native layer alone: `pydbg._native` driven directly against real processes."""
