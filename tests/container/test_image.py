"""The Dockerfile's supply-chain rules: every download pinned and hashed, every tool present,
npm tools locked by sha512, and the build context containing what the Dockerfile copies."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import CONTAINER

DOCKERFILE = (CONTAINER / "Dockerfile").read_text()
TOOLS = ("gh", "ghq", "gwq", "mcp-grafana", "bb", "jq", "git", "restic", "python3", "openclaw")


def test_every_fetch_is_checked_against_a_pinned_sha256() -> None:
    fetches = re.findall(r'fetch "([^"]+)"\s*\\\s*\n\s*(\S+) "\$\{(\w+)\}"', DOCKERFILE)
    assert len(fetches) == 4, fetches  # node, restic, jq, babashka
    for url, _target, sha_arg in fetches:
        assert url.startswith("https://"), url
        assert re.search(rf"^ARG {sha_arg}=[0-9a-f]{{64}}$", DOCKERFILE, re.MULTILINE), sha_arg
        for version_arg in re.findall(r"\$\{(\w+_VERSION)\}", url):
            assert re.search(rf"^ARG {version_arg}=\S+$", DOCKERFILE, re.MULTILINE), version_arg
    assert "sha256sum -c -" in DOCKERFILE
    assert "curl -k" not in DOCKERFILE
    assert not re.search(r"\|\s*(sh|bash)\b", DOCKERFILE), "no pipe-to-shell"


def test_node_is_24_lts_new_enough_for_openclaw() -> None:
    version = re.search(r"^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$", DOCKERFILE, re.MULTILINE)
    assert version
    major, minor = int(version.group(1)), int(version.group(2))
    assert major == 24
    assert minor >= 16


def test_go_tools_are_exact_versions() -> None:
    installs = re.findall(r'go install "([^"@]+)@v\$\{(\w+)\}"', DOCKERFILE)
    assert {path.rsplit("/", 1)[-1] for path, _ in installs} == {"gh", "ghq", "gwq", "mcp-grafana"}
    for _path, arg in installs:
        assert re.search(rf"^ARG {arg}=\d+\.\d+\.\d+$", DOCKERFILE, re.MULTILINE), arg


def test_all_user_tools_are_installed() -> None:
    for tool in TOOLS:
        assert re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", DOCKERFILE), tool


def test_npm_tools_are_locked_by_sha512() -> None:
    package = json.loads((CONTAINER / "tools" / "package.json").read_text())
    for name, spec in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", spec), f"{name}@{spec} is not exact"
    lock = json.loads((CONTAINER / "tools" / "package-lock.json").read_text())
    for path, entry in lock["packages"].items():
        if path:
            assert entry.get("integrity", "").startswith("sha512-"), path
    assert set(package["dependencies"]) == {"@openai/codex", "@anthropic-ai/claude-code"}


def test_build_context_has_what_the_dockerfile_copies() -> None:
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for item in source.split():
            assert (CONTAINER / item).exists(), item
    ignore = (CONTAINER / ".dockerignore").read_text()
    for item in ("boot.py", "openclaw_boot/", "tools/package.json", "tools/package-lock.json"):
        assert f"!{item}" in ignore


SDK_DOCKERFILE = (
    CONTAINER.parent / "worker" / "node_modules" / "@cloudflare" / "sandbox" / "Dockerfile"
)


def _env_of_stage(dockerfile: str, stage: str) -> dict[str, str]:
    """`ENV` values of one stage of a multi-stage Dockerfile (later lines win)."""
    text = dockerfile.split(f" AS {stage}\n", 1)[1].split("\nFROM ", 1)[0]
    joined = text.replace("\\\n", " ")
    values: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            values.update(re.findall(r"(\w+)=(\S+)", line))
    return values


def _final_env(dockerfile: str) -> dict[str, str]:
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    values: dict[str, str] = {}
    for line in final.replace("\\\n", " ").splitlines():
        if line.startswith("ENV "):
            values.update(re.findall(r"(\w+)=(\S+)", line))
    return values


def test_the_base_images_interpreter_pools_are_off_and_home_is_set() -> None:
    """Every pool the SDK's default image pre-warms is set to 0 here; HOME is explicit."""
    if not SDK_DOCKERFILE.exists():
        pytest.fail("worker/node_modules is missing: run make setup")
    base = _env_of_stage(SDK_DOCKERFILE.read_text(), "default")
    warmed = {name for name, value in base.items() if name.endswith("_POOL_MIN_SIZE")}
    assert warmed >= {"JAVASCRIPT_POOL_MIN_SIZE", "TYPESCRIPT_POOL_MIN_SIZE"}, base
    ours = _final_env(DOCKERFILE)
    for name in warmed | {"PYTHON_POOL_MIN_SIZE"}:
        assert ours.get(name) == "0", f"{name} not 0 in container/Dockerfile"
    assert ours.get("HOME") == "/root"
    assert ours.get("OPENCLAW_EDGE_STDERR_LEVEL") == "WARNING"
    # The stop fits the SDK's 5 s between SIGTERM and SIGKILL (sandbox-container session.ts).
    budget = float(ours["OPENCLAW_EDGE_SHUTDOWN_BUDGET_SECONDS"])
    grace = float(ours["OPENCLAW_EDGE_GATEWAY_STOP_GRACE_SECONDS"])
    assert grace < budget < 5.0
