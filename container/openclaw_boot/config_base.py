"""What every part of the openclaw.json writer shares: its error and the `${VAR}` reference."""

from __future__ import annotations


class ConfigError(ValueError):
    """The environment describes a configuration the boot code refuses to write."""


def ref(name: str) -> str:
    """An OpenClaw env substitution reference."""
    return "${" + name + "}"
