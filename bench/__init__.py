"""Benchmarks of the local stack: proxy overhead, cold start, snapshot cost.

Run `python -m bench.run` (or `make bench`).
"""
