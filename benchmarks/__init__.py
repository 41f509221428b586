"""Benchmarks and the fault soak of datadog-sync (see docs/performance.md)."""
