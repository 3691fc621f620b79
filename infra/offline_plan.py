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
import asyncio
import hashlib
import json
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from infra.channel_checks import EXAMPLE_VALUES
from infra.config import NAMESPACE, REPO_ROOT, DictSource
from infra.outputs import WORKER_DEPLOY_TYPE

SECRET_TEXT = "[secret]"  # noqa: S105 (the mask, not a password)
STAND_IN_PARAMETER = "offline-plan-stand-in"
PERMISSION_GROUPS_INVOKE = (
    "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList"
)


@dataclass
class ResourceRecord:
    """One registration the program made, as the engine would receive it."""

    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    urn: str = ""
    """The URN the engine gave it: what state is keyed by (a change means delete + create)."""


@dataclass
class RecordingMocks(Mocks):
    """Mocks that answer like the providers would (ids, AUD, token value, permission groups)
    and record every resource with its inputs, secrets still marked."""

    token_value: str = "offline-plan-token-value"  # noqa: S105 (mock stand-in)
    records: list[ResourceRecord] = field(default_factory=list)
    calls: list[MockCallArgs] = field(default_factory=list)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        state: dict[str, Any] = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "cloudflare:index/accountToken:AccountToken":
            state["value"] = rpc.wrap_rpc_secret(self.token_value)
            resource_id = hashlib.sha256(args.name.encode()).hexdigest()[:32]
        elif args.typ == "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
            state["aud"] = hashlib.sha256(f"aud:{args.name}".encode()).hexdigest()
            resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, args.name))
        elif args.typ == "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy":
            resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, args.name))
        elif args.typ == "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken":
            digest = hashlib.sha256(f"token:{args.name}".encode()).hexdigest()
            state["clientId"] = f"{digest[:32]}.access"
            state["clientSecret"] = rpc.wrap_rpc_secret(f"mock-client-secret-{digest[32:]}")
            resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, args.name))
        elif args.typ == "cloudflare:index/r2Bucket:R2Bucket":
            resource_id = str(args.inputs.get("name", resource_id))
        return resource_id, state

    def call(self, args: MockCallArgs) -> dict[Any, Any]:  # type: ignore[override]
        self.calls.append(args)
        if args.token == PERMISSION_GROUPS_INVOKE:
            # Imported here: infra.components.backup_bucket pulls in pulumi_cloudflare (1.5 s),
            # which `--help` and argument errors should not wait for.
            from infra.components.backup_bucket import R2_PERMISSION_GROUPS

            results = [
                {"id": hashlib.md5(n.encode()).hexdigest(), "name": n}  # noqa: S324 (an id)
                for n in (*R2_PERMISSION_GROUPS, "Account Settings Read")
            ]
            return {"results": results}
        return {}


class RecordingMonitor(MockMonitor):
    """Adds the parent of each registration, which MockResourceArgs leaves out."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks
        self.names_by_urn: dict[str, str] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.record(request, response.urn)
        return response

    def record(self, request: Any, urn: str) -> None:
        self.names_by_urn[urn] = request.name
        self.recording.records.append(
            ResourceRecord(
                type=request.type,
                name=request.name,
                parent=self.names_by_urn.get(request.parent),
                custom=bool(request.custom),
                inputs=rpc.deserialize_properties(request.object),
                options=self._options(request),
                urn=urn,
            )
        )

    def _options(self, request: Any) -> dict[str, Any]:
        """The resource options a reviewer cares about: what decides replace vs update, whether a
        delete happens at all, adoption and ordering."""
        options: dict[str, Any] = {}
        if request.protect:
            options["protect"] = True
        if request.retainOnDelete:
            options["retainOnDelete"] = True
        if request.deleteBeforeReplace:
            options["deleteBeforeReplace"] = True
        if request.importId:
            options["import"] = request.importId
        if request.ignoreChanges:
            options["ignoreChanges"] = list(request.ignoreChanges)
        if request.replaceOnChanges:
            options["replaceOnChanges"] = list(request.replaceOnChanges)
        depends = [self.names_by_urn.get(u, u) for u in request.dependencies]
        if depends and request.custom:
            options["dependsOn"] = sorted(set(depends))
        return options


def install_mocks(
    stack: str, mocks: RecordingMocks | None = None, monitor: RecordingMonitor | None = None
) -> RecordingMocks:
    """Mocks for one program run; `monitor` may replace the recording monitor (the lifecycle
    tests use one that also applies each registration to fake providers)."""
    mocks = monitor.recording if monitor is not None else (mocks or RecordingMocks())
    pulumi.runtime.set_mocks(
        mocks,
        project="openclaw-edge",
        stack=stack,
        preview=False,
        monitor=monitor or RecordingMonitor(mocks),
    )
    return mocks


def redact(value: Any) -> Any:
    """Inputs as the plan shows them: every secret-marked value becomes [secret]."""
    if rpc.is_rpc_secret(value):
        return SECRET_TEXT
    if isinstance(value, Mapping):
        return {k: redact(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in a value that is NOT under a secret marker (what a plan or state shows)."""
    if rpc.is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from plain_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from plain_strings(item)


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


@dataclass
class ProgramRun:
    """A finished in-process run: the components, every registration and the stack outputs."""

    stack: Any  # infra.program.Stack (imported late, after the mocks)
    mocks: RecordingMocks
    outputs: dict[str, Any]
    secret_outputs: set[str]


def execute(
    stack_name: str,
    values: Mapping[str, object],
    read_secret: Callable[[str], pulumi.Output[str] | None],
    read_parameter: Callable[[str], str | None],
    build_dir: Path,
    mocks: RecordingMocks | None = None,
    api_token: str | None = None,
    secret_keys: Iterable[str] = (),
    monitor: RecordingMonitor | None = None,
    source_root: Path | None = None,
) -> ProgramRun:
    """Run infra.program.build_stack under mocks to completion and collect what it declared."""
    mocks = install_mocks(stack_name, mocks, monitor)
    from infra.program import build_stack  # after the mocks, as the Pulumi docs require

    exports: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()
    holder: dict[str, Any] = {}

    async def resolve() -> None:
        for key, value in exports.items():
            output = pulumi.Output.from_input(value)
            outputs[key] = await output.future()
            if await output.is_secret():
                secret_outputs.add(key)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        holder["stack"] = build_stack(
            source=DictSource(values, secret_keys),
            read_secret=read_secret,
            read_parameter=read_parameter,
            build_dir=build_dir,
            export=exports.__setitem__,
            api_token=pulumi.Output.secret(api_token) if api_token else None,
            source_root=source_root,
        )
        return asyncio.ensure_future(resolve())

    program()
    return ProgramRun(holder["stack"], mocks, outputs, secret_outputs)


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
