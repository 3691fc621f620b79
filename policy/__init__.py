"""openclaw-edge policy pack (also importable as `policy` so tests can call the checks)."""
