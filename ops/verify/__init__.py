"""After `pulumi up`: check the live deployment end to end and write the evidence for the plan.

    pulumi stack output --json | python -m ops.verify --outputs - [--write] [--json verify.json]

Reads the stack outputs, then runs the checks in order, printing each as it runs with its
duration and `ok`, `FAILED: <what> — <what to do>` or `skipped: <why>`. Read-only unless
`--write` (which takes one snapshot); like any visitor it may wake a sleeping container. Exit
status 0 only when every check that ran passed; 1 when one failed; 2 for unusable input.

Credentials come from the environment only and are never printed or written:
`CF_ACCESS_CLIENT_SECRET` (and `CF_ACCESS_CLIENT_ID`, default: the `probeAccessClientId` output)
is the Access service token (`accessProbeServiceToken: true`; `export CF_ACCESS_CLIENT_SECRET=
"$(pulumi stack output --show-secrets probeAccessClientSecret)"`); `CDP_SECRET` for the CDP check;
`CLOUDFLARE_API_TOKEN` + `CLOUDFLARE_ACCOUNT_ID` for the Worker secret names (`wrangler secret
list`, names only). `--json FILE` writes the results in the evidence-file format that
`python -m ops.phase_docs --evidence FILE` reads (keys `$schema`, `$verify`, then plan items).

The package, by concern: `model` (constants, `Failed`/`Skipped`, `Credentials`, `CheckResult`,
helpers), `client` (requests to the Worker), `base` (`VerifierBase`: the run's state),
`edge_checks` (DNS/TLS, Access, service token), `container_checks` (gateway, versions, channels,
backups, tools, CDP), `secret_checks` (Worker secret names through wrangler), `evidence` (the
plan-item entries and the `--json` document), `verifier` (`Verifier`: the checks in order) and
`cli` (`main`). A new check is a `check_<name>` method in the group it belongs to plus one row in
`Verifier.checks`.
"""

from ops.verify.cli import load_outputs, main
from ops.verify.client import Client
from ops.verify.model import (
    CONNECTED,
    NOT_CONFIGURED,
    PLAN_TOOLS,
    ROOT,
    SCHEMA,
    SECRET_PLACEHOLDER,
    Answer,
    CheckResult,
    Credentials,
    Failed,
    InputError,
    Skipped,
    channel_states,
    mask,
)
from ops.verify.secret_checks import wrangler_error
from ops.verify.verifier import Verifier

__all__ = [
    "CONNECTED",
    "NOT_CONFIGURED",
    "PLAN_TOOLS",
    "ROOT",
    "SCHEMA",
    "SECRET_PLACEHOLDER",
    "Answer",
    "CheckResult",
    "Client",
    "Credentials",
    "Failed",
    "InputError",
    "Skipped",
    "Verifier",
    "channel_states",
    "load_outputs",
    "main",
    "mask",
    "wrangler_error",
]
