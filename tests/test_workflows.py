"""The GitHub workflows hold for real: checked against what the pinned actions do (pulumi/actions
v7.0.0 src/main.ts and @pulumi/pulumi's automation `up`, configure-aws-credentials v6.2.3
action.yml), and their shell steps run here against stand-ins for `pulumi` and `gh`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d"  # v7.0.0
AWS_ACTION = "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c"
"""v6.2.3, `runs: using: node24` (v4.3.1, pinned before, ran on the deprecated node20)."""


def workflow(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    return data


def steps(name: str, job: str) -> list[dict[str, Any]]:
    found = workflow(name)["jobs"][job]["steps"]
    assert isinstance(found, list)
    return found


def triggers(data: dict[Any, Any]) -> Any:
    return data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as True


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d", line), (
                    f"{path.name}: {line.strip()}"
                )


def test_aws_credentials_use_the_current_release_on_node24() -> None:
    for name in ("pr.yml", "deploy.yml"):
        text = (WORKFLOWS / name).read_text()
        pins = set(re.findall(r"aws-actions/configure-aws-credentials@\w+", text))
        assert pins == {AWS_ACTION}, (name, pins)


def _pulumi_steps(name: str, job: str) -> list[dict[str, Any]]:
    return [s for s in steps(name, job) if str(s.get("uses", "")).startswith(PULUMI_ACTION)]


def test_deploy_previews_with_the_pack_before_up_in_the_same_job() -> None:
    # pulumi/actions' `up` calls the automation API's stack.up, which runs
    # `pulumi up --yes --skip-preview` (pulumi/pulumi sdk/nodejs/automation/stack.ts): without
    # the preview step, policies would fire only while resources are being changed.
    commands = [(s["with"]["command"], s["with"]) for s in _pulumi_steps("deploy.yml", "up")]
    assert [c for c, _ in commands] == ["preview", "up"]
    for _, inputs in commands:
        assert inputs["policyPacks"] == "policy"
        assert inputs["stack-name"] == "${{ env.STACK }}"
        assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"


def test_deploy_wires_the_backend_and_its_passphrase() -> None:
    env = workflow("deploy.yml")["jobs"]["up"]["env"]
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert env["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_manual_dispatch_offers_only_the_committed_stacks_and_runs_on_main_only() -> None:
    data = workflow("deploy.yml")
    stack = triggers(data)["workflow_dispatch"]["inputs"]["stack"]
    assert stack["type"] == "choice"
    committed = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    assert sorted(stack["options"]) == committed
    for job in ("test", "up"):
        assert data["jobs"][job]["if"] == "github.ref == 'refs/heads/main'", job


def test_the_pr_preview_gets_read_only_credentials_only() -> None:
    job = workflow("pr.yml")["jobs"]["preview"]
    text = yaml.safe_dump(job)
    assert "secrets.CLOUDFLARE_PREVIEW_API_TOKEN" in text
    assert "secrets.AWS_PREVIEW_ROLE_ARN" in text
    for deploy_secret in ("secrets.CLOUDFLARE_API_TOKEN", "secrets.AWS_ROLE_ARN"):
        assert deploy_secret not in text
    assert "environment" not in job  # its OIDC subject stays repo:<owner>/<repo>:pull_request
    assert job["env"]["BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"


def _run_step(step: dict[str, Any], tmp_path: Path, env: dict[str, str]) -> Any:
    """A `run:` step as GitHub runs it when no shell is given (`bash -e {0}`)."""
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    return subprocess.run(
        ["bash", "-e", str(script)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _stand_in(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text(f'#!/bin/sh\necho {name} "$@" >> {bin_dir}/calls\n{body}\n')
    tool.chmod(0o755)


VIOLATION = (
    "Policies:\n    openclaw-edge@v0.1.0 (local: policy)\n        - [mandatory]  "
    "access-covers-worker-hostname\n          Worker hostname 'moltworker.example.com' is not "
    "protected by Cloudflare Access"
)


@pytest.mark.parametrize("existing_comment", ["", "4242"])
def test_a_failing_preview_fails_the_step_and_its_log_is_commented(
    tmp_path: Path, existing_comment: str
) -> None:
    preview, comment = (
        next(s for s in steps("pr.yml", "preview") if s.get("id") == "preview"),
        next(s for s in steps("pr.yml", "preview") if "Comment" in s.get("name", "")),
    )
    assert comment["if"] == "always() && steps.preview.outcome != 'skipped'"
    bin_dir = tmp_path / "bin"
    # `pulumi preview` exits non-zero on a mandatory violation, after printing it.
    _stand_in(
        bin_dir, "pulumi", f'case "$1" in preview) printf "%s\\n" "{VIOLATION}"; exit 255;; esac'
    )
    # `gh api ... --paginate --jq EXPR` prints one result per line (here: the id or nothing).
    _stand_in(bin_dir, "gh", f'case "$*" in *--jq*) echo "{existing_comment}";; esac')
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "STACK": "dev",
        "BACKEND_URL": "",
        "GITHUB_REPOSITORY": "owner/openclaw-edge",
        "PR": "17",
    }
    ran = _run_step(preview, tmp_path, env)
    assert ran.returncode != 0, "tee hid the failed preview"
    assert "[mandatory]  access-covers-worker-hostname" in (tmp_path / "preview.log").read_text()
    posted = _run_step(comment, tmp_path, {**env, "OUTCOME": "failure"})
    assert posted.returncode == 0, posted.stderr
    calls = (bin_dir / "calls").read_text()
    assert "pulumi login --non-interactive\n" in calls
    assert "pulumi preview --stack dev --policy-pack policy --diff" in calls
    body = tmp_path / "comment.md"
    if existing_comment:
        assert f"gh api -X PATCH repos/owner/openclaw-edge/issues/comments/{existing_comment}" in (
            calls
        )
    else:
        assert f"gh pr comment 17 --repo owner/openclaw-edge --body-file {body}" in calls
    text = body.read_text()
    assert text.startswith("<!-- openclaw-edge: pulumi preview of dev -->")
    assert "FAILED" in text
    assert "is not protected by Cloudflare Access" in text
