"""What a Worker deploy ships, as digests: the Worker's sources and lockfile, and the container's
Docker build context after `.dockerignore`. A change to anything else (READMEs, tests,
benchmarks) must not re-run `wrangler deploy`, and a change to any shipped byte must."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# What wrangler bundles: the entry point's module graph under src/ (tests live beside it as
# *.test.ts only in test/, but a stray one in src/ would not ship either), the lockfile that pins
# every bundled dependency, and tsconfig.json, which esbuild reads (e.g. verbatimModuleSyntax
# changes the emitted imports).
WORKER_FILES = ("package-lock.json", "tsconfig.json")
WORKER_SOURCE_DIR = "src"
WORKER_TEST_SUFFIXES = (".test.ts", ".spec.ts")


def worker_files(root: Path) -> list[Path]:
    """The files of `root` (the worker/ directory) that end up in the deployed bundle."""
    files = [root / name for name in WORKER_FILES if (root / name).is_file()]
    source = root / WORKER_SOURCE_DIR
    if source.is_dir():
        files += [
            path
            for path in source.rglob("*")
            if path.is_file()
            and not path.name.endswith(WORKER_TEST_SUFFIXES)
            and "__pycache__" not in path.parts
        ]
    return sorted(files)


def container_files(root: Path) -> list[Path]:
    """The files Docker sends as the build context of `root` (the container/ directory): every
    file `.dockerignore` keeps, plus the Dockerfile, which the builder always receives."""
    patterns = read_dockerignore(root / ".dockerignore")
    matcher = IgnoreMatcher(patterns)
    kept = [
        path
        for path in root.rglob("*")
        if path.is_file() and not matcher.ignores(path.relative_to(root).as_posix())
    ]
    dockerfile = root / "Dockerfile"
    if dockerfile.is_file() and dockerfile not in kept:
        kept.append(dockerfile)
    return sorted(kept)


def digest(root: Path, files: Iterable[Path]) -> str:
    """SHA-256 over the relative path and bytes of each file, in sorted order: a rename or an
    edit changes it, the checkout's location does not."""
    sha = hashlib.sha256()
    for path in sorted(files):
        sha.update(path.relative_to(root).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def worker_digest(root: Path) -> str:
    return digest(root, worker_files(root))


def container_digest(root: Path) -> str:
    return digest(root, container_files(root))


def read_dockerignore(path: Path) -> list[str]:
    """Patterns of a .dockerignore the way moby/patternmatcher's ignorefile.ReadAll reads them:
    BOM stripped, lines starting with '#' skipped, whitespace trimmed, blank lines dropped,
    each pattern cleaned (filepath.Clean) and a leading '/' removed, '!' kept in front."""
    if not path.is_file():
        return []
    patterns: list[str] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = _clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append(("!" if invert else "") + pattern)
    return patterns


def _clean(path: str) -> str:
    """Go's filepath.Clean for slash paths: collapse '//', drop '.', resolve '..', no trailing /."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append(part)
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    return ("/" + cleaned) if rooted else (cleaned or ".")


@dataclass(frozen=True)
class _Pattern:
    exclusion: bool
    text: str
    regex: re.Pattern[str] | None
    kind: str  # exact | prefix | suffix | regexp, as patternmatcher's matchType


def _compile(text: str) -> tuple[str, re.Pattern[str] | None]:
    """Pattern.compile of moby/patternmatcher (patternmatcher.go): '*' is anything but '/',
    '?' one character but '/', '**' any number of directories (even none), a trailing '**'
    everything below; a leading '**' makes it a suffix match."""
    out, kind, i = "^", "exact", 0
    while i < len(text):
        char = text[i]
        if text.startswith("**", i):
            first = i == 0
            i += 3 if text.startswith("/", i + 2) else 2
            at_end = i >= len(text)
            if at_end and kind == "exact":
                kind = "prefix"
            else:
                out += ".*" if at_end else "(.*/)?"
                kind = "regexp"
            if first:  # Go: `if i == 0 { detectedType = suffixMatch }`
                kind = "suffix"
            continue
        if char == "\\" and i + 1 < len(text):
            out += "\\" + text[i + 1]
            kind = "regexp"
            i += 2
            continue
        piece = _PIECES.get(char)
        if piece is not None:
            out += piece
            kind = "regexp"
        else:
            out += "\\" + char if char in ".+()|{}$" else char
        i += 1
    return kind, re.compile(out + "$") if kind == "regexp" else None


# Characters that make a pattern a regular expression, and what each becomes.
_PIECES = {"*": "[^/]*", "?": "[^/]", "[": "[", "]": "]"}


class IgnoreMatcher:
    """`PatternMatcher.MatchesOrParentMatches` of moby/patternmatcher: patterns are applied in
    order, the last one that matches the path or one of its parent directories wins, '!'
    re-includes. BuildKit filters the build context with it."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: list[_Pattern] = []
        for raw in patterns:
            exclusion = raw.startswith("!")
            text = raw[1:] if exclusion else raw
            kind, regex = _compile(text)
            self.patterns.append(_Pattern(exclusion, text, regex, kind))

    def ignores(self, path: str) -> bool:
        matched = False
        parents = path.split("/")[:-1]
        for pattern in self.patterns:
            # An inclusion cannot change an already-ignored file, nor an exclusion a kept one.
            if pattern.exclusion != matched:
                continue
            hit = _matches(pattern, path) or any(
                _matches(pattern, "/".join(parents[: i + 1])) for i in range(len(parents))
            )
            if hit:
                matched = not pattern.exclusion
        return matched


def _matches(pattern: _Pattern, path: str) -> bool:
    if pattern.kind == "exact":
        return path == pattern.text
    if pattern.kind == "prefix":
        return path.startswith(pattern.text[:-2])
    if pattern.kind == "suffix":
        suffix = pattern.text[2:]
        if path.endswith(suffix):
            return True
        return suffix.startswith("/") and path == suffix[1:]
    return pattern.regex is not None and pattern.regex.match(path) is not None
