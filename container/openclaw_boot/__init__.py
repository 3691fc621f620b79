"""Boot code of the openclaw-edge container (Python standard library only)."""
