"""Benchmarks of issue 5: run by hand from the repository root, never by pytest or CI (see bench/README.md)."""
