"""`python -m ops.migrate_plan` / `make migrate-plan`: flags or an --existing JSON file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from infra.config import REPO_ROOT
from ops.migrate_plan.plan import Existing, PlanError, build
from ops.migrate_plan.render import render


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
