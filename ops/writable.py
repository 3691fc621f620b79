"""Checks an output path before a command does its work, so a long run (benchmarks, the offline
plan, the latency probe, the phase documents) never ends in a traceback about where to write."""

from __future__ import annotations

import tempfile
from pathlib import Path


def output_problem(path: Path, *, directory: bool = False) -> str | None:
    """Why `path` (a file, or with `directory` a folder to create and fill) cannot be written, or
    None. Missing parent folders are fine (the writers create them); the nearest existing one
    must take a new file, which is tried for real (a permission bit alone misleads root)."""
    if path.exists():
        if directory and not path.is_dir():
            return f"{path} is a file, not a directory"
        if not directory and path.is_dir():
            return f"{path} is a directory, not a file"
        folder = path if directory else path.parent
    else:
        folder = next(p for p in path.parents if p.exists())
        if not folder.is_dir():
            return f"{path}: {folder} is a file, not a directory"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return f"{path}: cannot write in {folder} ({error.strerror or error})"
    if path.is_file():
        try:
            with path.open("r+b"):
                pass
        except OSError as error:
            return f"{path} is not writable ({error.strerror or error})"
    return None
