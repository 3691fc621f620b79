"""Documented commands work as written: the toolchain form everywhere, the Makefile targets the
docs name, the phase-document recipe run exactly as the docs give it, and facts the docs repeat
(ports, wrangler version, the manual `wrangler dev` vars) equal the code they describe."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from dev.stack import Ports, Stack, StackConfig

ROOT = Path(__file__).resolve().parent.parent
USER_DOCS = (
    "README.md",
    "dev/README.md",
    "docs/benchmarks.md",
    "docs/operations.md",
    "docs/project_docs/T-20260219-003/README.md",
    "worker/README.md",
)
# A tool with arguments; a bare word (`node` in a list of tools) is a name, not a command.
BARE_TOOL = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(python3?|pytest|npx|npm|node)\s+\S")
PHASE_README = ROOT / "docs" / "project_docs" / "T-20260219-003" / "README.md"
SAMPLE = PHASE_README.parent / "sample-outputs.json"


def documented_commands(text: str) -> Iterator[str]:
    """Every command-like piece: lines of fenced or indented blocks, and inline code spans."""
    in_block = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        pieces = [line.strip()] if in_block or line.startswith("    ") else []
        pieces += [] if in_block else re.findall(r"`([^`]+)`", line)
        for piece in pieces:
            for part in re.split(r"\|(?!\|)|&&|;", piece):
                yield part.strip().lstrip("$ ").strip()


@pytest.mark.parametrize("doc", USER_DOCS)
def test_python_and_node_commands_are_written_with_the_toolchain(doc: str) -> None:
    # Outside scripts/with-toolchain, `python` is the system one (no .venv packages) and `npx`
    # the system Node 20 (wrangler needs >= 22.12). In-container commands run the image's python.
    bare = [
        command
        for command in documented_commands((ROOT / doc).read_text())
        if BARE_TOOL.match(command) and "/opt/openclaw-edge/" not in command
    ]
    assert bare == [], f"{doc}: prefix with scripts/with-toolchain: {bare}"


# --- Makefile targets the docs name ------------------------------------------------------------


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_plan_takes_a_stack_and_needs_only_the_python_environment() -> None:
    # -n -B: print every recipe make would run with all prerequisites out of date.
    dry = make("-n", "-B", "plan", "STACK=demo")
    assert dry.returncode == 0, dry.stderr
    assert "python -m infra.offline_plan --stack demo" in dry.stdout
    for heavy in ("setup-system", "install-openclaw", "npm ci"):
        assert heavy not in dry.stdout, f"make plan pulls in {heavy}"
    assert "pip install --quiet -r requirements-dev.txt" in dry.stdout


def test_make_plan_for_a_missing_stack_names_the_file_and_the_fix() -> None:
    result = make("plan", "STACK=no-such-stack")
    assert result.returncode != 0
    assert "no stack file" in result.stderr
    assert "cp Pulumi.dev.yaml Pulumi.no-such-stack.yaml" in result.stderr


def test_make_bench_passes_args_through() -> None:
    dry = make("-n", "bench", "ARGS=--quick")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip().splitlines()[-1].endswith("python -m bench.run --quick")
    assert "make bench ARGS=--quick" in (ROOT / "docs" / "benchmarks.md").read_text()


def test_the_readme_deploys_with_the_policy_pack() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("Step by step:", 1)[1].split("```", 2)[1]
    ups = [line for line in block.splitlines() if line.startswith("pulumi up")]
    assert ups, "no pulumi up in the README's steps"
    assert all("--policy-pack policy" in line for line in ups), ups
    assert "make plan STACK=<stack>" in block
    # `cp Pulumi.dev.yaml Pulumi.dev.yaml` fails: the copy is only for other stack names.
    assert not any(line.startswith("cp Pulumi.dev.yaml") for line in block.splitlines())


# --- the phase-document recipe, run as written --------------------------------------------------


def recipe() -> list[str]:
    """The commands of "Regenerate from a real stack", continuation lines joined."""
    section = PHASE_README.read_text().split("## Regenerate from a real stack", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands, current = [], ""
    for line in block.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            if current.strip():
                commands.append(current.strip())
            current = ""
    return commands


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A scratch checkout: the code by link, the documents folder copied (the recipe writes)."""
    scratch = tmp_path / "checkout"
    scratch.mkdir()
    for name in (".venv", "scripts", "ops", "infra", ".github"):
        (scratch / name).symlink_to(ROOT / name)
    shutil.copytree(
        PHASE_README.parent, scratch / "docs" / "project_docs" / PHASE_README.parent.name
    )
    return scratch


def run_documented(command: str, checkout: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """One documented command with the two substitutions this machine needs: /tmp/ is this
    test's folder, and `pulumi stack output --json` (no Pulumi CLI here) is the committed sample,
    which is what the program outputs for the dev stack (tests/infra/test_offline_plan.py)."""
    command = command.replace("/tmp/", f"{tmp}/")
    command = command.replace("pulumi stack output --json", f"cat {SAMPLE}")
    return subprocess.run(
        ["bash", "-c", command],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_render_step_works_without_the_optional_files(checkout: Path, tmp_path: Path) -> None:
    commands = recipe()
    assert commands[0] == "pulumi stack output --json > /tmp/outputs.json"
    render = next(c for c in commands if "ops.phase_docs" in c)
    assert "--probe" not in render  # steps 2-4 are optional
    assert "--cost" not in render
    for command in (commands[0], render):
        ran = run_documented(command, checkout, tmp_path)
        assert ran.returncode == 0, f"{command}\n{ran.stderr}"
    folder = checkout / "docs" / "project_docs" / "T-20260219-003"
    summary = json.loads((folder / "dev" / "summary.json").read_text())
    assert summary["items"]["2-6"]["verdict"] == "unverified"
    committed = (PHASE_README.parent / "phase-0.md").read_text()
    assert (folder / "phase-0.md").read_text() == committed, "the sample was overwritten"


def test_the_render_step_with_the_cost_file_of_step_3(checkout: Path, tmp_path: Path) -> None:
    commands = recipe()
    cost = next(c for c in commands if c.startswith("echo ") and "/tmp/cost.json" in c)
    render = next(c for c in commands if "ops.phase_docs" in c)
    for command in (commands[0], cost, render + " --cost /tmp/cost.json"):
        ran = run_documented(command, checkout, tmp_path)
        assert ran.returncode == 0, f"{command}\n{ran.stderr}"
    summary = json.loads(
        (checkout / "docs/project_docs/T-20260219-003/dev/summary.json").read_text()
    )
    assert summary["items"]["2-6"]["verdict"] == "possible"


def test_the_one_pipe_form_works(checkout: Path, tmp_path: Path) -> None:
    text = " ".join(PHASE_README.read_text().split())
    pipe = re.search(r"Or in one pipe: `([^`]+)`", text)
    assert pipe is not None
    ran = run_documented(pipe.group(1), checkout, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert (checkout / "docs/project_docs/T-20260219-003/dev/phase-2.md").is_file()


# --- facts the docs repeat ----------------------------------------------------------------------


def test_every_local_port_is_in_the_ports_tables() -> None:
    ports = {f.name: getattr(Ports(), f.name) for f in fields(Ports)}
    assert ports["inspector"] == 8793
    assert ports["edge"] == 8794
    tables = {
        "docs/interfaces.md": (ROOT / "docs/interfaces.md").read_text().split("## Local ports")[1],
        "dev/README.md": (ROOT / "dev/README.md").read_text().split("## What to expect")[0],
        "worker/README.md": (ROOT / "worker/README.md").read_text().split("Local ports")[1],
    }
    for doc, table in tables.items():
        missing = [name for name, port in ports.items() if str(port) not in table]
        assert missing == [], f"{doc} lacks the ports of {missing}"


def test_the_manual_wrangler_dev_vars_are_those_of_make_dev(tmp_path: Path) -> None:
    stack = Stack(StackConfig(state_dir=tmp_path), lambda _line: None)
    argv = stack.worker_argv()
    passed = dict(argv[i + 1].split(":", 1) for i, a in enumerate(argv) if a == "--var")
    example = dict(
        line.split("=", 1)
        for line in (ROOT / "worker" / ".dev.vars.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    # The manual recipe reaches the gateway directly, not through the edge relay.
    passed["GATEWAY_ORIGIN"] = f"http://127.0.0.1:{Ports().gateway}"
    token = example.pop("MOLTBOT_GATEWAY_TOKEN")
    assert example == passed
    readme = (ROOT / "worker" / "README.md").read_text()
    assert f"OPENCLAW_GATEWAY_TOKEN={token}" in readme
    assert f"--aud {passed['CF_ACCESS_AUD']}" in readme


def test_documented_wrangler_versions_are_the_pin() -> None:
    package = json.loads((ROOT / "worker" / "package.json").read_text())
    pin = package["devDependencies"]["wrangler"]
    for doc in (*USER_DOCS, "docs/interfaces.md"):
        for version in re.findall(r"wrangler (\d+\.\d+(?:\.\d+)?)", (ROOT / doc).read_text()):
            assert pin.startswith(version), f"{doc} says wrangler {version}, the pin is {pin}"
