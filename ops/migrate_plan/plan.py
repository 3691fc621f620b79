"""The plan as data: what the reference deployment has, what `pulumi up` will adopt (from the
Pulumi program run offline) and the checks that make a plan safe."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infra.config import NAMESPACE
from infra.mock_run import ResourceRecord
from infra.offline_plan import run_plan, stack_file_values

PROJECT = "openclaw-edge"
API = "https://api.cloudflare.com/client/v4"
# The token reaches curl on stdin (`-K -`), never on its command line.
AUTH = 'printf \'header = "Authorization: Bearer %s"\\n\' "$CLOUDFLARE_API_TOKEN" | curl -sS -K -'
SSM_TYPE = "aws:ssm/parameter:Parameter"
KIND = {
    "cloudflare:index/r2Bucket:R2Bucket": "bucket",
    "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication": "access application",
    "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy": "access policy",
    "cloudflare:index/aiGateway:AiGateway": "AI Gateway",
    SSM_TYPE: "SSM parameter",
}


class PlanError(ValueError):
    """The inputs cannot make a safe plan; the message says which and how to fix it."""


@dataclass(frozen=True)
class Existing:
    """What the running reference deployment has (its names and ids)."""

    stack: str
    old_worker: str
    bucket: str
    hostname: str
    access_application_id: str
    access_policy_id: str | None = None
    ssm_prefix: str | None = None
    ai_gateway_id: str | None = None
    terraform_dir: str | None = None
    tf_bucket: str | None = "cloudflare_r2_bucket.moltbot_data"
    tf_access_application: str | None = "cloudflare_zero_trust_access_application.moltworker"
    tf_access_policy: str | None = "cloudflare_zero_trust_access_policy.moltworker"
    tf_ssm: str | None = 'aws_ssm_parameter.openclaw["{name}"]'
    tf_ai_gateway: str | None = None


@dataclass
class Adopted:
    kind: str
    type: str
    name: str
    import_id: str
    urn: str
    terraform: str | None = None


@dataclass
class Plan:
    existing: Existing
    config: dict[str, object]
    config_commands: list[str]
    adopted: list[Adopted]
    created: list[ResourceRecord]
    protected_urns: list[str]
    worker_name: str
    account_id: str
    zone_id: str
    warnings: list[str] = field(default_factory=list)


def adoption_values(existing: Existing) -> dict[str, object]:
    values: dict[str, object] = {
        "bucketName": existing.bucket,
        "hostname": existing.hostname,
        "adoptBucket": "true",
        "adoptAccessApplicationId": existing.access_application_id,
    }
    if existing.access_policy_id:
        values["adoptAccessPolicyId"] = existing.access_policy_id
    if existing.ssm_prefix:
        values["ssmPrefix"] = existing.ssm_prefix
        values["adoptSsmParameters"] = "true"
    if existing.ai_gateway_id:
        values["aiGatewayId"] = existing.ai_gateway_id
        values["adoptAiGateway"] = "true"
    return values


def urns(records: Sequence[ResourceRecord], stack: str) -> dict[str, str]:
    """Resource name → URN, as the engine forms it (ancestor types joined with `$`)."""
    by_name = {r.name: r for r in records}
    out: dict[str, str] = {}
    for record in records:
        chain = [record.type]
        parent = record.parent
        while parent is not None and parent in by_name:
            chain.insert(0, by_name[parent].type)
            parent = by_name[parent].parent
        out[record.name] = f"urn:pulumi:{stack}::{PROJECT}::{'$'.join(chain)}::{record.name}"
    return out


def terraform_address(existing: Existing, record: ResourceRecord) -> str | None:
    kind = KIND.get(record.type)
    if kind == "bucket":
        return existing.tf_bucket
    if kind == "access application":
        return existing.tf_access_application
    if kind == "access policy":
        return existing.tf_access_policy
    if kind == "AI Gateway":
        return existing.tf_ai_gateway
    if kind == "SSM parameter" and existing.tf_ssm:
        name = str(record.options.get("import", "")).rsplit("/", 1)[-1]
        return existing.tf_ssm.replace("{name}", name)
    return None


def build(existing: Existing, config_path: Path) -> Plan:
    if not config_path.is_file():
        raise PlanError(
            f"no stack file {config_path}: copy Pulumi.dev.yaml to it and set your account, zone "
            "and Access ids first (README, Deploying for real), or pass --config FILE"
        )
    values, secret_names = stack_file_values(config_path)
    adoption = adoption_values(existing)
    merged = {**values, **adoption}
    worker_name = str(merged.get("workerName") or f"openclaw-edge-{existing.stack}")
    if worker_name == existing.old_worker:
        raise PlanError(
            f"{NAMESPACE}:workerName is {worker_name!r}, the old Worker's name: `pulumi up` would "
            "deploy over it and there would be nothing to roll back to. Choose another name "
            f"(pulumi config rm {NAMESPACE}:workerName gives openclaw-edge-{existing.stack})"
        )
    with tempfile.TemporaryDirectory(prefix="migrate-plan-") as build_dir:
        try:
            _text, run = run_plan(existing.stack, merged, secret_names, Path(build_dir))
        except ValueError as error:  # ConfigError / MissingSecretError name the key and the fix
            raise PlanError(str(error)) from None
    records = run.mocks.records
    names = urns(records, existing.stack)
    order = list(KIND)
    adopted = [
        Adopted(
            kind=KIND.get(r.type, r.type),
            type=r.type,
            name=r.name,
            import_id=str(r.options["import"]),
            urn=names[r.name],
            terraform=terraform_address(existing, r),
        )
        for r in records
        if r.custom and r.options.get("import")
    ]
    adopted.sort(key=lambda a: order.index(a.type) if a.type in order else len(order))
    created = [r for r in records if r.custom and not r.options.get("import")]
    protected = [names[r.name] for r in records if r.options.get("protect")]
    commands = [f"pulumi stack select {existing.stack}"]
    for key, value in adoption.items():
        if values.get(key) != value:
            commands.append(f"pulumi config set {NAMESPACE}:{key} {value}")
    if "BACKUP_PASSWORD" not in secret_names and not existing.ssm_prefix:
        commands.append("pulumi config set --secret BACKUP_PASSWORD   # new; keep a copy")
    warnings = list(run.stack.warnings)
    if not any(a.kind == "access policy" for a in adopted):
        warnings.append(
            "no --access-policy-id: the stack creates its own reusable Access policy and attaches "
            "it to the adopted application; preview shows the application's policies changing"
        )
    return Plan(
        existing=existing,
        config=merged,
        config_commands=commands,
        adopted=adopted,
        created=created,
        protected_urns=protected,
        worker_name=worker_name,
        account_id=str(merged.get("accountId")),
        zone_id=str(merged.get("zoneId")),
        warnings=warnings,
    )
