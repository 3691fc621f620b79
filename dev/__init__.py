"""Local stack for openclaw-edge: the whole system on loopback with stand-ins for Cloudflare.

`python -m dev.run` starts it; `dev.stack` is the same code the e2e tests and benchmarks use.
"""
