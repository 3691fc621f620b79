"""The Pulumi program run in-process under mocks, to completion: every registration recorded
(type, name, parent, inputs with secrets still marked, the options a reviewer cares about, URN)
and the stack outputs resolved. The offline plan, the infra tests and the lifecycle replays all
run the program through `execute`."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from infra.config import DictSource

SECRET_TEXT = "[secret]"  # noqa: S105 (the mask, not a password)
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
