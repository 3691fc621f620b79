"""Offline plan: runs the Pulumi program in-process with mocks (no credentials, no Pulumi CLI) and
prints what it would declare — each resource with its parent and inputs (secrets as [secret]),
the wrangler commands in order (secret names only) — and writes the rendered wrangler.jsonc.
It is NOT `pulumi preview`: no cloud API is asked anything.

    scripts/with-toolchain python -m infra.offline_plan [--stack dev] [--config FILE]
        [--build-dir build] [--outputs-json FILE] [--full]

--outputs-json writes the stack outputs the way `pulumi stack output --json` shows them
(secret outputs as "[secret]"), e.g. as the sample input of `python -m ops.phase_docs`; --full
prints every input whole (by default long ones are cut at 160 characters)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc

from infra.channel_checks import EXAMPLE_VALUES
from infra.config import NAMESPACE, REPO_ROOT
from infra.mock_run import (
    SECRET_TEXT,
    ProgramRun,
    RecordingMocks,
    ResourceRecord,
    execute,
    redact,
)
from infra.outputs import WORKER_DEPLOY_TYPE

STAND_IN_PARAMETER = "offline-plan-stand-in"


class StackFileError(ValueError):
    """The stack file cannot be read as a Pulumi stack file; the message names it and where."""


def stack_file_values(path: Path) -> tuple[dict[str, object], set[str]]:
    """Plain values and names of `secure:` values under the openclaw-edge namespace."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise StackFileError(f"{path} is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StackFileError(f"cannot read {path}: {error}") from None
    config = data.get("config") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(config, Mapping | None):
        raise StackFileError(
            f"{path} is not a Pulumi stack file: expected a mapping with a `config:` mapping of "
            '"openclaw-edge:<key>": value'
        )
    plain: dict[str, object] = {}
    secret: set[str] = set()
    for key, value in (config or {}).items():
        namespace, _, name = str(key).partition(":")
        if namespace != NAMESPACE:
            continue
        if isinstance(value, Mapping) and "secure" in value:
            secret.add(name)
        else:
            plain[name] = value
    return plain, secret


def format_plan(
    mocks: RecordingMocks,
    config_path: Path | None,
    stack: str,
    warnings: Sequence[str] = (),
    notes: Sequence[str] = (),
    full: bool = False,
) -> str:
    lines = [
        "OFFLINE PLAN — this is NOT `pulumi preview`.",
        "The program ran in-process with mocks: no Cloudflare, AWS or Pulumi service was asked",
        "anything. SSM values, ids and the Access AUD are stand-ins; secrets show as [secret].",
        f"Stack: {stack}",
        "",
        "Resources (in declaration order):",
    ]
    for record in mocks.records:
        kind = "resource" if record.custom else "component"
        parent = f"  (parent: {record.parent})" if record.parent else ""
        lines.append(f"+ {record.type}  {record.name}  [{kind}]{parent}")
        for key, value in record.options.items():
            lines.append(f"    ({key}: {json.dumps(value)})")
        for key, value in sorted(redact(record.inputs).items()):
            text = json.dumps(value, sort_keys=True)
            lines.append(f"    {key}: {text if full or len(text) <= 160 else text[:157] + '...'}")
    lines += ["", *wrangler_steps(mocks.records), "", *lifecycle(mocks.records)]
    adopted = adoption(mocks.records)
    if adopted:
        lines += ["", *adopted]
    lines.append("")
    if notes:
        lines += ["Notes:", *(f"  - {note}" for note in notes), ""]
    if warnings:
        lines += ["Warnings:", *(f"  ! {warning}" for warning in warnings), ""]
    if config_path is not None:
        lines.append(f"Rendered wrangler config: {config_path}")
    return "\n".join(lines) + "\n"


COMMAND_TYPE = "command:local:Command"

DOMAIN_TYPE = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"
PARAMETER_TYPE = "aws:ssm/parameter:Parameter"


def wrangler_steps(records: Sequence[ResourceRecord]) -> list[str]:
    """The shell steps in the order the engine runs them (dependencies first), with the
    command each runs on create, update and delete."""
    commands = [r for r in records if r.type == COMMAND_TYPE]
    names = {r.name for r in commands}
    ordered: list[ResourceRecord] = []
    while len(ordered) < len(commands):
        ready = [
            r
            for r in commands
            if r not in ordered
            and all(
                d in {o.name for o in ordered} for d in r.options.get("dependsOn", []) if d in names
            )
        ]
        ordered += sorted(ready, key=lambda r: r.name) or [r for r in commands if r not in ordered]
    secret_names: list[str] = next(
        (r.inputs.get("secretNames", []) for r in records if r.type == WORKER_DEPLOY_TYPE), []
    )
    lines = ["Wrangler steps, in order (run by pulumi-command; values go on stdin only):"]
    for index, record in enumerate(ordered, start=1):
        stdin = ""
        if "stdin" in record.inputs:
            stdin = f" < [secret JSON on stdin: {', '.join(secret_names)}]"
        env_names = ", ".join(sorted(_env_names(record.inputs.get("environment"))))
        lines.append(f"  {index}. {record.name}: {record.inputs.get('create')}{stdin}")
        lines.append(f"       env: {env_names}")
        if record.inputs.get("update"):
            lines.append(f"       update: {record.inputs['update']}")
        if record.inputs.get("delete"):
            lines.append(f"       delete: {record.inputs['delete']}")
        triggers = redact(record.inputs.get("triggers"))
        if triggers:
            lines.append(
                f"       replaced (new create, then the old delete) only if triggers change: "
                f"{json.dumps(triggers)}"
            )
    return lines


def lifecycle(records: Sequence[ResourceRecord]) -> list[str]:
    """What each kind of `pulumi up` and `pulumi destroy` runs with this program."""
    retained = sorted(r.name for r in records if r.options.get("retainOnDelete"))
    protected = sorted(r.name for r in records if r.options.get("protect"))
    commands = {r.name for r in records if r.type == COMMAND_TYPE}
    deploy = next((n for n in sorted(commands) if n.endswith("-deploy")), "the deploy")
    secrets = next((n for n in sorted(commands) if n.endswith("-secrets")), "the secrets step")
    domain = next((r.name for r in records if r.type == DOMAIN_TYPE), "the custom domain")
    return [
        "Lifecycle (what the engine runs; docs/lifecycle.md):",
        f"  first up:       everything above is created; {deploy} runs `wrangler deploy`, then "
        f"{secrets} sets every secret in one `wrangler secret bulk`, then {domain} goes live "
        "(it fails with error 100117 if the hostname already has a DNS record: README).",
        f"  code change:    worker/src, the lockfile, the container build context or the rendered "
        f"config changed -> {deploy} runs its update (`wrangler deploy`); nothing is deleted, "
        "secrets and Durable Object storage stay.",
        f"  secret change:  {secrets} sends only the changed values (one `secret bulk`); a removed "
        "optional secret is deleted on the Worker; nothing is redeployed.",
        f"  workerName:     {deploy} is replaced: the new Worker is deployed and gets its secrets, "
        f"{domain} moves to it, then the old Worker (only that name) is deleted.",
        "  destroy:        domain, secrets and Worker (with its Durable Object storage) are "
        "deleted from recorded state alone (no build/ needed).",
        f"                  retained (left in place): {', '.join(retained) or 'none'}",
        f"                  protected (destroy refuses; use `pulumi destroy --exclude-protected`): "
        f"{', '.join(protected) or 'none'}",
    ]


def adoption(records: Sequence[ResourceRecord]) -> list[str]:
    """Imported resources and what Pulumi enforces on them right after the import: current
    Pulumi imports a resource whose inputs differ and then UPDATES it to match the program
    (step_generator.go continueStepsFromImport -> diff -> update), so an import never fails
    safely on a difference."""
    imported = [r for r in records if r.options.get("import")]
    if not imported:
        return []
    lines = [
        "Adopted (imported) resources: Pulumi imports each, then UPDATES any input below that",
        "differs in the real resource. Run `pulumi preview --diff` and reconcile config first.",
    ]
    for record in imported:
        ignored = set(record.options.get("ignoreChanges", []))
        keys = sorted(k for k in redact(record.inputs) if k not in ignored)
        lines.append(f"  ~ {record.name} (import {record.options['import']}): {', '.join(keys)}")
        if record.type == PARAMETER_TYPE:
            kept = "value" in ignored
            lines.append(
                "      value: "
                + ("kept as it is in SSM (changes ignored)" if kept else "OVERWRITTEN from config")
            )
    return lines


def _env_names(environment: Any) -> list[str]:
    if rpc.is_rpc_secret(environment):
        environment = environment["value"]
    return [str(k) for k in environment] if isinstance(environment, Mapping) else []


def run_plan(
    stack: str,
    values: Mapping[str, object],
    secret_names: set[str],
    build_dir: Path,
    parameters: Mapping[str, str] | None = None,
    full: bool = False,
) -> tuple[str, ProgramRun]:
    """Run the program under mocks; return the plan text and the finished run."""

    def read_parameter(path: str) -> str | None:
        if parameters is not None:
            return parameters.get(path)
        # Chat secrets are checked for their form (infra/channel_checks.py): shaped stand-ins.
        return EXAMPLE_VALUES.get(path.rsplit("/", 1)[-1], STAND_IN_PARAMETER)

    def read_secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(f"config-secret-{key}") if key in secret_names else None

    result = execute(
        stack, values, read_secret, read_parameter, build_dir, secret_keys=secret_names
    )
    notes = []
    if parameters is None:
        notes.append(
            "SSM: the plan cannot look, so it assumes every parameter exists (stand-in values) "
            "and shows each as imported; `pulumi up` imports the existing ones, creates the rest."
        )
    text = format_plan(
        result.mocks, result.stack.worker.config_path, stack, result.stack.warnings, notes, full
    )
    return text, result


def outputs_json(result: ProgramRun) -> str:
    """Outputs as `pulumi stack output --json` prints them: secrets masked."""
    shown = {
        key: SECRET_TEXT if key in result.secret_outputs else value
        for key, value in result.outputs.items()
    }
    return json.dumps(shown, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.offline_plan",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--config", type=Path, help="stack file (default Pulumi.<stack>.yaml)")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--outputs-json", type=Path, help="also write the outputs as JSON here")
    parser.add_argument("--full", action="store_true", help="print every input whole")
    args = parser.parse_args(argv)
    config_path = args.config or REPO_ROOT / f"Pulumi.{args.stack}.yaml"
    if not config_path.is_file():
        print(
            f"offline plan: no stack file {config_path}; start one from the example "
            f"(cp Pulumi.dev.yaml Pulumi.{args.stack}.yaml) or pass --config FILE",
            file=sys.stderr,
        )
        return 2
    from ops.writable import output_problem

    for flag, path, directory in (
        ("--outputs-json", args.outputs_json, False),
        ("--build-dir", args.build_dir, True),
    ):
        if path is not None and (problem := output_problem(path, directory=directory)):
            print(f"offline plan: {flag} {problem}", file=sys.stderr)
            return 2
    try:
        values, secret_names = stack_file_values(config_path)
    except StackFileError as error:
        print(f"offline plan: {error}", file=sys.stderr)
        return 2
    try:
        text, result = run_plan(args.stack, values, secret_names, args.build_dir, full=args.full)
    except ValueError as error:  # ConfigError / MissingSecretError carry the fix
        print(f"offline plan: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    if args.outputs_json:
        args.outputs_json.parent.mkdir(parents=True, exist_ok=True)
        args.outputs_json.write_text(outputs_json(result))
        print(f"Stack outputs (secrets masked): {args.outputs_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
