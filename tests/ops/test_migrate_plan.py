"""ops/migrate_plan/ from a sample of existing ids: the ordered steps, the exact commands, what
preview must and must not show (taken from the real program run offline), and the rollback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.config import REPO_ROOT
from ops import migrate_plan
from ops.migrate_plan import Existing, PlanError, build, render

APP = "5c1a2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
POLICY = "7d8e9f00-1a2b-4c3d-9e4f-5a6b7c8d9e0f"
ACCOUNT = "0123456789abcdef0123456789abcdef"  # Pulumi.dev.yaml
ZONE = "fedcba9876543210fedcba9876543210"
SAMPLE = Existing(
    stack="dev",
    old_worker="moltbot-sandbox",
    bucket="moltbot-data",
    hostname="moltworker.example.com",
    access_application_id=APP,
    access_policy_id=POLICY,
    ssm_prefix="/lolice/openclaw/",
    terraform_dir="terraform",
)
STACK_FILE = REPO_ROOT / "Pulumi.dev.yaml"


@pytest.fixture(scope="module")
def text() -> str:
    return render(build(SAMPLE, STACK_FILE))


def test_steps_come_in_order(text: str) -> None:
    headings = [
        "1. Stack config",
        "2. Hand the resources over from Terraform",
        "3. Review: pulumi preview --diff",
        "4. Freeze the old state",
        "5. Cut over the hostname",
        "6. Checks",
        "7. Afterwards",
        "ROLLBACK",
    ]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    # Within the cut-over, the old Worker lets go of the hostname before pulumi up attaches it.
    assert text.index("-X DELETE", text.index("5. Cut")) < text.index("b. pulumi up")


def test_config_commands_set_the_existing_names_and_adoption_keys(text: str) -> None:
    step = text[text.index("1. Stack config") : text.index("2. Hand")]
    for command in (
        "pulumi stack select dev",
        "pulumi config set openclaw-edge:bucketName moltbot-data",
        "pulumi config set openclaw-edge:adoptBucket true",
        f"pulumi config set openclaw-edge:adoptAccessApplicationId {APP}",
        f"pulumi config set openclaw-edge:adoptAccessPolicyId {POLICY}",
        "pulumi config set openclaw-edge:adoptSsmParameters true",
    ):
        assert command in step
    # Already in the stack file with the same value: not repeated.
    assert "openclaw-edge:hostname" not in step


def test_terraform_handover_names_every_adopted_address(text: str) -> None:
    step = text[text.index("2. Hand") : text.index("3. Review")]
    assert "from = cloudflare_r2_bucket.moltbot_data" in step
    assert "from = cloudflare_zero_trust_access_application.moltworker" in step
    assert "from = cloudflare_zero_trust_access_policy.moltworker" in step
    assert step.count("from = aws_ssm_parameter.openclaw\n") == 1, "one block per for_each"
    assert step.count("destroy = false") == 4
    assert "terraform -chdir=terraform state rm 'cloudflare_r2_bucket.moltbot_data'" in step
    assert (
        "terraform -chdir=terraform state rm 'aws_ssm_parameter.openclaw[\"BACKUP_PASSWORD\"]'"
        in step
    )
    assert "Never `terraform destroy`" in step


def test_preview_expectations_come_from_the_program(text: str) -> None:
    step = text[text.index("3. Review") : text.index("4. Freeze")]
    assert (
        f"= import  bucket             backups-bucket  (id {ACCOUNT}/moltbot-data/default)" in step
    )
    assert f"(id accounts/{ACCOUNT}/{APP})" in step
    assert f"(id {ACCOUNT}/{POLICY})" in step
    assert "(id /lolice/openclaw/BACKUP_PASSWORD)" in step
    assert "+ create  cloudflare:index/workersCustomDomain:WorkersCustomDomain" in step
    must_not = step[step.index("MUST NOT") :]
    bucket_urn = (
        "urn:pulumi:dev::openclaw-edge::openclaw-edge:r2:BackupBucket"
        "$cloudflare:index/r2Bucket:R2Bucket::backups-bucket"
    )
    assert f"delete or +- replace of {bucket_urn}" in must_not
    assert re.search(r"replace of urn:\S+ZeroTrustAccessApplication::access-app", must_not)
    assert "moltbot-sandbox" in must_not
    # Every import the program declares is listed, and only those.
    imports = re.findall(r"= import\s+.+\(id (\S+)\)", step)
    assert len(imports) == len(set(imports)) == len(build(SAMPLE, STACK_FILE).adopted)


def test_cut_over_checks_and_rollback(text: str) -> None:
    cut = text[text.index("5. Cut") : text.index("6. Checks")]
    domains = f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/workers/domains"
    assert f"'{domains}?hostname=moltworker.example.com'" in cut
    assert "error 100117" in cut
    checks = text[text.index("6. Checks") : text.index("7. Afterwards")]
    assert "/api/status" in checks
    assert "imported" in checks
    assert "without asking to pair" in checks
    rollback = text[text.index("ROLLBACK") :]
    body = json.loads(re.search(r"--data '(\{.*\})'", rollback).group(1))  # type: ignore[union-attr]
    assert body == {
        "environment": "production",
        "hostname": "moltworker.example.com",
        "service": "moltbot-sandbox",
        "zone_id": ZONE,
    }
    assert "the import only read" in rollback
    assert "pulumi state unprotect 'urn:pulumi:dev::openclaw-edge::" in rollback
    assert (
        f"terraform import 'cloudflare_r2_bucket.moltbot_data' '{ACCOUNT}/moltbot-data/default'"
        in rollback
    )
    # The API token never appears on a command line: it goes to curl on stdin.
    for line in text.splitlines():
        if "curl" in line:
            assert "-K -" in line
            assert "Bearer %s" in line


def test_refuses_to_reuse_the_old_worker_name(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(
        STACK_FILE.read_text().replace(
            "workerName: openclaw-edge-dev", "workerName: moltbot-sandbox"
        )
    )
    with pytest.raises(PlanError, match="old Worker's name"):
        build(SAMPLE, stack)


def test_invalid_ids_are_reported_with_the_config_key(capsys: pytest.CaptureFixture[str]) -> None:
    code = migrate_plan.main(
        [
            "--stack", "dev", "--config", str(STACK_FILE), "--old-worker", "moltbot-sandbox",
            "--bucket", "moltbot-data", "--hostname", "moltworker.example.com",
            "--access-app-id", "not-a-uuid",
        ]
    )  # fmt: skip
    assert code == 1
    assert "adoptAccessApplicationId" in capsys.readouterr().err


def test_existing_file_and_missing_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "moltworker.json"
    existing.write_text(
        json.dumps({"stack": "dev", "old_worker": "moltbot-sandbox", "bucket": "moltbot-data"})
    )
    assert migrate_plan.main(["--existing", str(existing), "--config", str(STACK_FILE)]) == 1
    assert "--hostname, --access-app-id" in capsys.readouterr().err
    existing.write_text(
        json.dumps(
            {
                "stack": "dev",
                "old_worker": "moltbot-sandbox",
                "bucket": "moltbot-data",
                "hostname": "moltworker.example.com",
                "access_application_id": APP,
            }
        )
    )
    assert migrate_plan.main(["--existing", str(existing), "--config", str(STACK_FILE)]) == 0
    out = capsys.readouterr().out
    assert "MIGRATION PLAN" in out
    assert "no --access-policy-id" in out
