"""The README's tables match the code: every config key the program reads, every secret."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.catalog import load_catalog
from infra.config import ConfigModel

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
CONFIG_TABLE = README.split("\n## Configuration ", 1)[1].split("\n## ", 1)[0]
CONFIG_ROWS = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", CONFIG_TABLE, re.MULTILINE))


def _shown(default: Any) -> str:
    """A default as the README's table writes it."""
    if default is None or default in ((), {}):
        return "none"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, float):
        return f"`{default:g}`"
    return f"`{default}`"


def test_every_config_key_is_in_the_table() -> None:
    keys = [str(f.alias) for f in ConfigModel.model_fields.values()]
    assert len(keys) > 30
    missing = sorted(k for k in keys if k not in CONFIG_ROWS)
    assert missing == [], f"README config table lacks {missing}"


@pytest.mark.parametrize("name", list(ConfigModel.model_fields))
def test_the_table_shows_each_keys_default(name: str) -> None:
    field = ConfigModel.model_fields[name]
    shown = CONFIG_ROWS[str(field.alias)]
    if field.description is not None:  # derived from the stack, the zone or a checked-in file
        assert shown != "required", field.alias
    elif field.is_required():
        assert shown == "required", field.alias
    else:
        assert shown == _shown(field.default), field.alias


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


def test_ssm_is_read_with_get_parameters_by_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the README's ssm:GetParametersByPath permission is for: one call per directory."""
    import pulumi_aws as aws

    from infra.components import secret_store

    calls: list[dict[str, Any]] = []

    def by_path(**kwargs: Any) -> SimpleNamespace:
        calls.append(kwargs)
        return SimpleNamespace(names=["/team/bot/A"], values=["a"])

    monkeypatch.setattr(aws.ssm, "get_parameters_by_path", by_path)
    read = secret_store.ssm_parameter_reader("ap-northeast-1")
    assert (read("/team/bot/A"), read("/team/bot/B")) == ("a", None)
    assert calls == [
        {
            "path": "/team/bot/",
            "with_decryption": True,
            "recursive": False,
            "region": "ap-northeast-1",
        }
    ]


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
        r"^def test_(\w+)\(",
        (ROOT / "tests" / "infra" / "lifecycle" / "test_scenarios.py").read_text(),
        re.M,
    )
    doc = (ROOT / "docs" / "lifecycle.md").read_text()
    assert len(scenarios) >= 10
    missing = [name for name in scenarios if f"| `{name}`" not in doc]
    assert missing == [], f"docs/lifecycle.md lacks rows for {missing}"
    assert "It is **not the real engine" in doc
