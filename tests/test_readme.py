"""The README's tables match the code: every config key the program reads, every secret."""

from __future__ import annotations

import re
from pathlib import Path

from infra.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
READ_CALL = re.compile(
    r'r\.(?:text|required|boolean|integer|number|string_list|string_map|choice)\(\s*"(\w+)"'
)


def test_every_config_key_is_in_the_table() -> None:
    keys = set(READ_CALL.findall((ROOT / "infra" / "config.py").read_text()))
    assert len(keys) > 30
    missing = sorted(k for k in keys if f"| `{k}` |" not in README)
    assert missing == [], f"README config table lacks {missing}"


def test_every_secret_is_in_the_table() -> None:
    missing = [s.name for s in load_catalog().secrets if f"`{s.name}`" not in README]
    assert missing == []


def test_the_two_commands_are_the_makefile_targets() -> None:
    assert "| `make dev` |" in README
    assert "| `make test` |" in README
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^dev: ", makefile, re.MULTILINE)
    assert re.search(r"^test: ", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_permission_lists_cover_what_the_program_calls() -> None:
    """Defect 7: what the AWS provider and the program call, and the Cloudflare groups."""
    for action in (
        "ssm:GetParametersByPath",
        "ssm:GetParameter",
        "ssm:PutParameter",
        "ssm:AddTagsToResource",
        "ssm:RemoveTagsFromResource",
        "ssm:ListTagsForResource",
        "ssm:DescribeParameters` on `*`",
        "kms:Decrypt",
    ):
        assert action in README, action
    assert "Access: Service Tokens: Edit" in README
    assert "get_parameters_by_path" in (ROOT / "infra" / "ssm.py").read_text()


def test_adoption_says_imports_update_and_how_to_free_the_hostname() -> None:
    """Defects 8 and 9: no "fails safely"; preview --diff; the 100117 step."""
    adopting = README.split("## Adopting what Terraform already created", 1)[1].split("\n## ")[0]
    assert "fails safely" not in README
    assert "pulumi preview --diff" in adopting
    assert "then updates it to match the program" in adopting
    assert "100117" in adopting
    assert "Delete the record" in adopting


def test_deploying_describes_destroy_and_ci_previews() -> None:
    """Defect 12: --exclude-protected, fork PRs without preview, SSM decrypted on the runner."""
    deploying = README.split("## Deploying for real", 1)[1].split("\n## ")[0]
    assert "pulumi destroy --exclude-protected" in deploying
    assert "forks get no `pulumi preview`" in deploying
    assert "decrypts the SSM values on the GitHub runner" in deploying
    assert "only then the Workers custom domain" in deploying
    for run in ("first `pulumi up`", "a secret changes", "`workerName` changes", "destroy"):
        assert run in deploying, run


def test_lifecycle_doc_has_a_row_per_scenario() -> None:
    scenarios = re.findall(
        r"^def test_(\w+)\(", (ROOT / "tests" / "lifecycle" / "test_scenarios.py").read_text(), re.M
    )
    doc = (ROOT / "docs" / "lifecycle.md").read_text()
    assert len(scenarios) >= 10
    missing = [name for name in scenarios if f"| `{name}`" not in doc]
    assert missing == [], f"docs/lifecycle.md lacks rows for {missing}"
    assert "It is **not the real engine" in doc
