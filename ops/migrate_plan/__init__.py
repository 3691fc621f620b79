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

The package: `plan` (the inputs, the offline run and `build`), `render` (the steps as text) and
`cli` (`main`).
"""

from ops.migrate_plan.cli import existing_from, main
from ops.migrate_plan.plan import Adopted, Existing, Plan, PlanError, adoption_values, build, urns
from ops.migrate_plan.render import render

__all__ = [
    "Adopted",
    "Existing",
    "Plan",
    "PlanError",
    "adoption_values",
    "build",
    "existing_from",
    "main",
    "render",
    "urns",
]
