"""The pydbg command line, run as a real subprocess."""
