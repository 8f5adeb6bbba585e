"""The benchmark's `evaluate` metric; the scoring itself lives in the one self-contained file."""
