"""Benchmarks: every figure is a ratio against a bare baseline measured in the same run on
the same servers (DESIGN.md section 5). Run with `make bench`."""
