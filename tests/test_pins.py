"""Versions pinned in one place each, and the places that must agree do agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infra.config import dockerfile_openclaw_version
from infra.program import sandbox_version

ROOT = Path(__file__).resolve().parent.parent


def test_sandbox_sdk_is_pinned_exactly_and_matches_the_base_image() -> None:
    pin = sandbox_version()
    assert pin is not None
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), f"@cloudflare/sandbox must be exact, got {pin!r}"
    dockerfile = (ROOT / "container" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+docker\.io/cloudflare/sandbox:(\S+)", dockerfile, re.MULTILINE)
    assert bases == [pin], f"Dockerfile base image tags {bases} != worker pin {pin}"


def test_lockfile_resolves_the_same_sandbox_version() -> None:
    lock = json.loads((ROOT / "worker" / "package-lock.json").read_text())
    resolved = lock["packages"]["node_modules/@cloudflare/sandbox"]["version"]
    assert resolved == sandbox_version()


def test_openclaw_version_has_one_default() -> None:
    version = dockerfile_openclaw_version()
    assert version is not None
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", version)
    install = (ROOT / "scripts" / "install-openclaw").read_text()
    assert "ARG OPENCLAW_VERSION" in install  # the tests' OpenClaw is read from the same line


def test_worker_dependencies_are_exact() -> None:
    package = json.loads((ROOT / "worker" / "package.json").read_text())
    for section in ("dependencies", "devDependencies"):
        for name, spec in package.get(section, {}).items():
            assert re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", spec), f"{name}@{spec} is not exact"


def test_python_requirements_are_bounded_or_exact() -> None:
    for name in (
        "requirements.txt",
        "requirements-dev.txt",
        "dev/requirements.txt",
        "ops/requirements.txt",
    ):
        for raw in (ROOT / name).read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("-r"):
                continue
            assert "==" in line or ("<" in line and ">=" in line), f"{name}: {line} is unpinned"
