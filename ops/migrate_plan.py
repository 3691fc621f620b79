"""Migration plan: the exact, ordered steps from a running cloudflare/moltworker to this stack.

    make migrate-plan ARGS="--existing moltworker.json"        # or the same flags one by one
    python -m ops.migrate_plan --stack prod --config Pulumi.prod.yaml \
        --old-worker moltbot-sandbox --bucket moltbot-data --hostname moltworker.example.com \
        --access-app-id <uuid> [--access-policy-id <uuid>] [--ssm-prefix /lolice/openclaw/] \
        [--ai-gateway-id <id>] [--tf-dir terraform] \
        [--tf-bucket cloudflare_r2_bucket.moltbot_data] [--tf-access-app ...] \
        [--tf-access-policy ...] [--tf-ssm 'aws_ssm_parameter.openclaw["{name}"]']

It changes nothing and asks no cloud API: it applies the adoption keys to the stack file's values,
validates them like the program does, runs the Pulumi program offline (as `make plan`) to learn
which resources `pulumi up` will import (type, name, import id, URN) and prints the steps: the
config to set, the Terraform hand-over, what `pulumi preview --diff` must and must not show, the
cut-over of the hostname, the checks after it, and the rollback. No secret value is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config import NAMESPACE, REPO_ROOT
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


def _terraform_steps(plan: Plan) -> list[str]:
    existing = plan.existing
    tf = f"terraform -chdir={existing.terraform_dir}" if existing.terraform_dir else "terraform"
    addresses = [a.terraform for a in plan.adopted if a.terraform]
    lines = [
        "Terraform 1.7 or later: replace each resource block with a `removed` block, so Terraform",
        "forgets the resource without destroying it:",
        "",
    ]
    for address in addresses:
        base = address.split("[", 1)[0]
        lines += [
            "    removed {",
            f"      from = {base}",
            "      lifecycle {",
            "        destroy = false",
            "      }",
            "    }",
        ]
    lines = _dedupe_blocks(lines)
    if any("[" in address for address in addresses):
        lines.append("(`from` names a whole for_each resource: every instance of it is forgotten.)")
    lines += ["", "Older Terraform: delete the blocks and forget the state entries instead:", ""]
    lines += [f"    {tf} state rm '{address}'" for address in addresses]
    lines += [
        "",
        f"Then `{tf} plan` must say these resources are no longer managed and show no destroy.",
        "Never `terraform destroy` them: the bucket holds the assistant's memory.",
    ]
    unmapped = [a for a in plan.adopted if not a.terraform]
    if unmapped:
        lines.append(
            "Not managed by Terraform here (nothing to remove): "
            + ", ".join(f"{a.kind} {a.import_id}" for a in unmapped)
        )
    return lines


def _dedupe_blocks(lines: list[str]) -> list[str]:
    """`for_each` addresses share one removed block (`from` takes the resource, not an instance)."""
    out: list[str] = []
    seen: set[str] = set()
    index = 0
    while index < len(lines):
        if lines[index] == "    removed {":
            block = lines[index : index + 6]
            if block[1] not in seen:
                seen.add(block[1])
                out += block
            index += 6
        else:
            out.append(lines[index])
            index += 1
    return out


def render(plan: Plan) -> str:
    e = plan.existing
    host, old, new = e.hostname, e.old_worker, plan.worker_name
    domains = f"{API}/accounts/{plan.account_id}/workers/domains"
    find = f"{AUTH} '{domains}?hostname={host}'"
    detach = f"{AUTH} -X DELETE '{domains}/<id from above>'"
    attach_body = json.dumps(
        {"environment": "production", "hostname": host, "service": old, "zone_id": plan.zone_id}
    )
    existing = [f"bucket {e.bucket}", f"hostname {host}", f"Access app {e.access_application_id}"]
    if e.access_policy_id:
        existing.append(f"policy {e.access_policy_id}")
    if e.ssm_prefix:
        existing.append(f"SSM prefix {e.ssm_prefix}")
    adopt_keys = [key for key in adoption_values(e) if key.startswith("adopt")]
    out: list[str] = [
        f"MIGRATION PLAN — moltworker Worker {old!r} → openclaw-edge stack {e.stack!r}",
        "Nothing here has run. The Pulumi program ran offline (as `make plan`); ids come from it.",
        "Existing: " + ", ".join(existing),
        f"New Worker: {new} (the old one is never modified by these steps).",
        "",
        "1. Stack config (nothing changes in the cloud)",
        *(f"    {command}" for command in plan.config_commands),
        "    make plan                       # offline check of the whole program",
        "",
        "2. Hand the resources over from Terraform (nothing changes in the cloud)",
        *(f"    {line}" if line else "" for line in _terraform_steps(plan)),
        "",
        "3. Review: pulumi preview --diff --policy-pack policy",
        "   It MUST show an import of each existing resource:",
        *(f"    = import  {a.kind:<18} {a.name}  (id {a.import_id})" for a in plan.adopted),
        "   and creates for what the old deployment did not have:",
        *sorted({f"    + create  {r.type}" for r in plan.created}),
        "   It MAY show an update right after an import, where the real resource differs from the",
        "   program (Pulumi imports, then updates it to match). Read each diff; if a change is",
        "   unwanted (e.g. the application's session duration), set the config to match and",
        f"   preview again. The Access application must keep its domain {host}. Each SSM import",
        "   id above must exist in SSM (aws ssm get-parameter --name <id>) before `pulumi up`.",
        "   It MUST NOT show (stop here if it does):",
        *(f"    - delete or +- replace of {a.urn}" for a in plan.adopted),
        "    - a create of an R2 bucket or an Access application (they must be imports)",
        f"    - anything named {old} (Pulumi does not know the old Worker)",
        "    - a protect removed from the bucket (protectBucket stays true)",
        "",
        "4. Freeze the old state",
        f"    Open https://{host}/_admin/ (still the old Worker) and press Backup now / Sync.",
        "    Note the time: later changes on the old Worker are not carried over. The import reads",
        "    this state on the new container's first boot and never writes to it.",
        "",
        f"5. Cut over the hostname (a short outage of {host})",
        f"    a. Detach {host} from {old} (dashboard: Workers & Pages → {old} → Settings →",
        "       Domains & Routes → remove; or the API, the token read from the environment):",
        f"         {find}",
        "         # note result[0].id, then:",
        f"         {detach}",
        f"       If the old Worker used a route ({host}/*) instead, remove the route. A DNS",
        "       record left on the hostname makes the custom domain fail (error 100117):",
        "       remove it.",
        "    b. pulumi up",
        f"    c. Open https://{host}/ : the first request starts the container; its first boot",
        "       finds an empty repository, imports the old state, runs Doctor, starts the gateway.",
        "",
        "6. Checks",
        f"    - https://{host}/api/status answers state running and `imported` with the layout,",
        "      files, bytes and the source's last sync (its newest object: the sync of step 4 if",
        "      anything had changed).",
        f"    - https://{host}/_admin/ → Moved in from moltworker: snapshot verified, Doctor done;",
        "      Devices lists your browsers as paired.",
        f"    - https://{host}/ opens the chat without asking to pair this browser; the history is",
        "      there; a new message is answered.",
        "    - The bucket still holds the old objects (nothing was deleted).",
        "    - pulumi stack output workerUrl hostname bucketName",
        "",
        "7. Afterwards",
        *(f"    pulumi config rm {NAMESPACE}:{key}" for key in adopt_keys),
        "    (protectBucket stays true.) When you are sure: /_admin/ → delete the legacy objects",
        "    (they hold the old tokens in plain text), then retire the old Worker:",
        f"    npx wrangler delete --name {old}. Both end the rollback below.",
        "",
        "ROLLBACK (any time before you delete the legacy objects or the old Worker)",
        f"    1. Detach {host} from {new}:",
        f"         {find}",
        f"         {detach}",
        f"    2. Attach it to {old} again (dashboard: Domains & Routes → Add → Custom domain):",
        f"         {AUTH} -X PUT '{domains}' \\",
        f"           -H 'Content-Type: application/json' --data '{attach_body}'",
        "    3. The old Worker finds its data as it left it (the import only read) and the same",
        "       Access application (imported, not recreated: the AUD of its CF_ACCESS_AUD).",
        "       What was written on the new stack since step 5 stays in its restic repository",
        "       (openclaw-edge/ in the bucket); the old Worker does not see it.",
        "    4. Do not run `pulumi up` while rolled back (it attaches the hostname again); to",
        "       retry, start at step 4. To give the resources back to Terraform instead:",
        *(f"         pulumi state unprotect '{urn}'" for urn in plan.protected_urns),
        *(f"         pulumi state delete '{a.urn}'" for a in plan.adopted),
        *(
            f"         terraform import '{a.terraform}' '{a.import_id}'"
            for a in plan.adopted
            if a.terraform
        ),
        "       and restore the Terraform blocks removed in step 2.",
    ]
    if plan.warnings:
        out += ["", "Warnings:", *(f"  ! {w}" for w in plan.warnings)]
    return "\n".join(out) + "\n"


def existing_from(args: argparse.Namespace) -> Existing:
    data: dict[str, Any] = {}
    if args.existing:
        loaded = json.loads(Path(args.existing).read_text())
        if not isinstance(loaded, Mapping):
            raise PlanError(f"{args.existing} must hold a JSON object")
        data.update(loaded)
    for name in Existing.__dataclass_fields__:
        value = getattr(args, name, None)
        if value is not None:
            data[name] = value
    flags = {
        "old_worker": "--old-worker",
        "bucket": "--bucket",
        "hostname": "--hostname",
        "access_application_id": "--access-app-id",
    }
    missing = [flag for name, flag in flags.items() if not data.get(name)]
    if missing:
        raise PlanError(f"missing {', '.join(missing)} (the old deployment's names and ids)")
    data.setdefault("stack", "dev")
    unknown = set(data) - set(Existing.__dataclass_fields__)
    if unknown:
        raise PlanError(f"unknown fields {', '.join(sorted(unknown))}")
    return Existing(**data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--existing", help="JSON with the fields below (snake_case names)")
    parser.add_argument("--stack")
    parser.add_argument("--config", type=Path, help="stack file (default Pulumi.<stack>.yaml)")
    parser.add_argument("--old-worker", dest="old_worker")
    parser.add_argument("--bucket")
    parser.add_argument("--hostname")
    parser.add_argument("--access-app-id", dest="access_application_id")
    parser.add_argument("--access-policy-id", dest="access_policy_id")
    parser.add_argument("--ssm-prefix", dest="ssm_prefix")
    parser.add_argument("--ai-gateway-id", dest="ai_gateway_id")
    parser.add_argument("--tf-dir", dest="terraform_dir")
    parser.add_argument("--tf-bucket", dest="tf_bucket")
    parser.add_argument("--tf-access-app", dest="tf_access_application")
    parser.add_argument("--tf-access-policy", dest="tf_access_policy")
    parser.add_argument("--tf-ssm", dest="tf_ssm", help='e.g. aws_ssm_parameter.openclaw["{name}"]')
    parser.add_argument("--tf-ai-gateway", dest="tf_ai_gateway")
    args = parser.parse_args(argv)
    try:
        existing = existing_from(args)
        config = args.config or REPO_ROOT / f"Pulumi.{existing.stack}.yaml"
        sys.stdout.write(render(build(existing, config)))
    except PlanError as error:
        print(f"migrate plan: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
