"""recenter-bench: command line and submission handling for the Re-Centering Humans benchmark."""

BENCHMARK_VERSION = "1.0"
