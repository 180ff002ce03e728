"""Engine-tier tests: dispatch, precedence and constants, driven without processes."""
