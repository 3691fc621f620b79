"""The plan as the ordered, copy-pasteable steps: config, Terraform hand-over, preview, cut-over,
checks, rollback."""

from __future__ import annotations

import json

from infra.config import NAMESPACE
from ops.migrate_plan.plan import API, AUTH, Plan, adoption_values


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
