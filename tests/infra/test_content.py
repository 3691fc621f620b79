"""What a deploy ships: the digests re-run `wrangler deploy` for shipped bytes only, and the
.dockerignore reading follows moby/patternmatcher (the matcher BuildKit filters contexts with)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.content import (
    IgnoreMatcher,
    container_digest,
    container_files,
    read_dockerignore,
    worker_digest,
)

ROOT = Path(__file__).resolve().parents[2]


def copy_tree(name: str, target: Path) -> Path:
    destination = target / name
    shutil.copytree(
        ROOT / name, destination, ignore=shutil.ignore_patterns("node_modules", "__pycache__")
    )
    return destination


def test_worker_digest_follows_sources_and_lockfile_only(tmp_path: Path) -> None:
    worker = copy_tree("worker", tmp_path)
    first = worker_digest(worker)
    (worker / "README.md").write_text("changed docs")
    (worker / "test" / "new.test.ts").write_text("it('x', () => {})")
    (worker / "node_modules").mkdir()
    (worker / "node_modules" / "x.js").write_text("1")
    assert worker_digest(worker) == first
    (worker / "src" / "index.ts").write_text((worker / "src" / "index.ts").read_text() + "\n// x")
    second = worker_digest(worker)
    assert second != first
    (worker / "package-lock.json").write_text("{}")
    assert worker_digest(worker) != second


def test_container_digest_is_the_build_context_after_dockerignore(tmp_path: Path) -> None:
    container = copy_tree("container", tmp_path)
    first = container_digest(container)
    (container / "README.md").write_text("changed docs")
    (container / "bench" / "backup_compare.py").write_text("# changed benchmark")
    (container / "openclaw_boot" / "__pycache__").mkdir(exist_ok=True)
    (container / "openclaw_boot" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert container_digest(container) == first
    (container / "openclaw_boot" / "gateway.py").write_text("# changed boot code")
    assert container_digest(container) != first


def test_the_dockerfile_counts_although_dockerignore_excludes_everything(tmp_path: Path) -> None:
    container = copy_tree("container", tmp_path)
    names = {p.relative_to(container).as_posix() for p in container_files(container)}
    assert "Dockerfile" in names
    assert {"boot.py", "tools/package.json", "tools/package-lock.json"} <= names
    assert not {n for n in names if n.startswith(("bench/", "README"))}
    first = container_digest(container)
    dockerfile = container / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "\n# changed")
    assert container_digest(container) != first


def test_dockerignore_file_reading(tmp_path: Path) -> None:
    path = tmp_path / ".dockerignore"
    path.write_text("\ufeff# comment\n  /build/ \n\n!./keep//me\n a/../b\n")
    assert read_dockerignore(path) == ["build", "!keep/me", "b"]


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        (["*"], "boot.py", True),
        (["*"], "openclaw_boot/cli.py", True),  # the parent matches
        (["*", "!openclaw_boot"], "openclaw_boot/cli.py", False),
        (["*", "!openclaw_boot", "**/__pycache__"], "openclaw_boot/__pycache__/a.pyc", True),
        (["**/*.pyc"], "a/b/c.pyc", True),
        (["**/*.pyc"], "c.pyc", True),
        (["docs/**"], "docs/a/b.md", True),
        (["docs/**"], "doc", False),
        (["a?c"], "abc", True),
        (["a?c"], "a/c", False),
        (["tests", "!tests/keep.py"], "tests/keep.py", False),
        (["!tests/keep.py", "tests"], "tests/keep.py", True),  # last match wins
        (["file.txt"], "file_txt", False),  # '.' is literal
    ],
)
def test_patterns_match_like_moby_patternmatcher(
    patterns: list[str], path: str, ignored: bool
) -> None:
    assert IgnoreMatcher(patterns).ignores(path) is ignored
