"""mo's benchmarks: mo against the bare engine doing the same work, on the same data."""
