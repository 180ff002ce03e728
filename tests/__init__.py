"""pydbg's test suite: one package per layer (native, engine, api, ...), shared helpers in
`tests.support`, the C targets under tests/targets/ built by tests/conftest.py."""
