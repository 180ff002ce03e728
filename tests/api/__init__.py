"""API tier: the DebugClient facets end to end against real processes."""
