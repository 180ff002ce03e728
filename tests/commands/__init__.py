"""Command-language tests: splitting and MASM expressions, driven by fakes, without processes."""
