"""Benchmarks of the local stack: proxy overhead, cold start, snapshot cost (`python -m bench.run`)."""
