"""Offline plan: runs the Pulumi program in-process with mocks (no credentials, no Pulumi CLI) and
prints what it would declare — each resource with its parent and inputs (secrets as [secret]),
the wrangler commands in order (secret names only) — and writes the rendered wrangler.jsonc.
It is NOT `pulumi preview`: no cloud API is asked anything.

    python -m infra.offline_plan [--stack dev] [--config Pulumi.dev.yaml] [--build-dir build]
                                 [--outputs-json FILE]

--outputs-json writes the stack outputs the way `pulumi stack output --json` shows them
(secret outputs as "[secret]"), e.g. as the sample input of `python -m ops.phase_docs`."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from infra.channel_checks import EXAMPLE_VALUES
from infra.config import NAMESPACE, REPO_ROOT, DictSource
from infra.r2 import R2_PERMISSION_GROUPS

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
            self.names_by_urn[response.urn] = request.name
            self.recording.records.append(
                ResourceRecord(
                    type=request.type,
                    name=request.name,
                    parent=self.names_by_urn.get(request.parent),
                    custom=bool(request.custom),
                    inputs=rpc.deserialize_properties(request.object),
                    options=self._options(request),
                )
            )
        return response

    def _options(self, request: Any) -> dict[str, Any]:
        """The resource options a reviewer cares about (protect, import, ignored, depends)."""
        options: dict[str, Any] = {}
        if request.protect:
            options["protect"] = True
        if request.importId:
            options["import"] = request.importId
        if request.ignoreChanges:
            options["ignoreChanges"] = list(request.ignoreChanges)
        depends = [self.names_by_urn.get(u, u) for u in request.dependencies]
        if depends and request.custom:
            options["dependsOn"] = sorted(set(depends))
        return options


def install_mocks(stack: str, mocks: RecordingMocks | None = None) -> RecordingMocks:
    mocks = mocks or RecordingMocks()
    pulumi.runtime.set_mocks(
        mocks, project="openclaw-edge", stack=stack, preview=False, monitor=RecordingMonitor(mocks)
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


def stack_file_values(path: Path) -> tuple[dict[str, object], set[str]]:
    """Plain values and names of `secure:` values under the openclaw-edge namespace."""
    data = yaml.safe_load(path.read_text()) or {}
    plain: dict[str, object] = {}
    secret: set[str] = set()
    for key, value in (data.get("config") or {}).items():
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
            lines.append(f"    {key}: {text if len(text) <= 160 else text[:157] + '...'}")
    commands = sorted(
        (r for r in mocks.records if r.type == "command:local:Command"),
        key=lambda r: ("stdin" in r.inputs, r.name),
    )
    lines += ["", "Wrangler steps, in order (run by pulumi-command; values go on stdin only):"]
    for index, record in enumerate(commands, start=1):
        stdin = " < [secret on stdin]" if "stdin" in record.inputs else ""
        env_names = ", ".join(sorted(_env_names(record.inputs.get("environment"))))
        lines.append(f"  {index}. {record.inputs.get('create')}{stdin}   env: {env_names}")
    lines.append("")
    if warnings:
        lines += ["Warnings:", *(f"  ! {warning}" for warning in warnings), ""]
    if config_path is not None:
        lines.append(f"Rendered wrangler config: {config_path}")
    return "\n".join(lines) + "\n"


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
) -> ProgramRun:
    """Run infra.program.build_stack under mocks to completion and collect what it declared."""
    mocks = install_mocks(stack_name, mocks)
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
            source=DictSource(values),
            read_secret=read_secret,
            read_parameter=read_parameter,
            build_dir=build_dir,
            export=exports.__setitem__,
            api_token=pulumi.Output.secret(api_token) if api_token else None,
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
) -> tuple[str, ProgramRun]:
    """Run the program under mocks; return the plan text and the finished run."""

    def read_parameter(path: str) -> str | None:
        if parameters is not None:
            return parameters.get(path)
        # Chat secrets are checked for their form (infra/channel_checks.py): shaped stand-ins.
        return EXAMPLE_VALUES.get(path.rsplit("/", 1)[-1], STAND_IN_PARAMETER)

    def read_secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(f"config-secret-{key}") if key in secret_names else None

    result = execute(stack, values, read_secret, read_parameter, build_dir)
    text = format_plan(result.mocks, result.stack.worker.config_path, stack, result.stack.warnings)
    return text, result


def outputs_json(result: ProgramRun) -> str:
    """Outputs as `pulumi stack output --json` prints them: secrets masked."""
    shown = {
        key: SECRET_TEXT if key in result.secret_outputs else value
        for key, value in result.outputs.items()
    }
    return json.dumps(shown, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--config", type=Path, help="stack file (default Pulumi.<stack>.yaml)")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build")
    parser.add_argument("--outputs-json", type=Path, help="also write the outputs as JSON here")
    args = parser.parse_args(argv)
    config_path = args.config or REPO_ROOT / f"Pulumi.{args.stack}.yaml"
    if not config_path.is_file():
        print(f"offline plan: no stack file {config_path}; pass --config FILE", file=sys.stderr)
        return 2
    values, secret_names = stack_file_values(config_path)
    try:
        text, result = run_plan(args.stack, values, secret_names, args.build_dir)
    except ValueError as error:  # ConfigError / MissingSecretError carry the fix
        print(f"offline plan: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    if args.outputs_json:
        args.outputs_json.write_text(outputs_json(result))
        print(f"Stack outputs (secrets masked): {args.outputs_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
