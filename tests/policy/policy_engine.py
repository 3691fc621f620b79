"""The policy pack run the way `pulumi preview|up --policy-pack policy` runs it, fed the requests
the Pulumi engine sends, for the program's real registrations under mocks.

A fake is a claim about someone else's code, so each step names the code it follows (pulumi/pulumi
at its v3.259 snapshot, pulumi-policy 1.21.0 and pulumi 3.272.0 as installed in .venv):

- Start: the Python language host runs a policy pack as `python -u -m pulumi.policy <engine
  address> <pack directory>` with the pack directory as the working directory
  (sdk/python/cmd/pulumi-language-python/main.go, RunPlugin: "For policy analyzers we need to send
  the program directory as an argument _last_" and "python policy packs used to always run with
  the working directory set to the policy pack directory"). pulumi/policy/__main__.py runs the
  pack's __main__.py; its PolicyPack serves the Analyzer over gRPC on 127.0.0.1 and prints the
  port on stdout (pulumi_policy/policy.py, PolicyPack.__init__). The environment carries
  PULUMI_PROJECT/STACK/DRY_RUN/ORGANIZATION and PULUMI_CONFIG
  (sdk/go/common/resource/plugin/analyzer_plugin.go, constructEnv).
- Configure: GetAnalyzerInfo, then Configure with every policy's own enforcement level and the
  defaults of its config schema (pkg/engine/update.go LoadLocalPolicyPackAnalyzers ->
  pkg/resource/analyzer/config.go ReconcilePolicyPackConfig / createConfigWithDefaults), then
  ConfigureStack (analyzer_plugin.go, NewPolicyAnalyzer).
- Analyze: once per registration, with the resource's inputs (pkg/resource/deploy/
  step_generator.go, analyzeAll: `Properties: resource.FromResourcePropertyMap(inputs)`),
  marshalled with KeepUnknowns, KeepSecrets and SkipInternalKeys (analyzer_plugin.go, Analyze).
  In `pulumi up`, a mandatory violation makes the resource invalid and the step generator bails
  ("resource %s is invalid"): nothing registered after it is created.
- AnalyzeStack: at the end, every resource with its *outputs* (step_generator.go,
  AnalyzeResources: "AnalyzeStack is called on the final outputs of each resource"). A
  component's outputs are exactly what `register_outputs` sent (pkg/resource/deploy/
  step_executor.go: "Unconditionally set the resource's outputs to what was provided"). A custom
  resource created in a preview has the provider's planned state: its inputs, everything else
  unknown. Here every output property of the resource's SDK class that the program did not set
  is unknown: the most a provider can leave unknown, so no policy may depend on it.
- Unknown values travel as sentinel strings (sdk/go/common/resource/plugin/rpc.go,
  marshalUnknownProperty; the same strings as pulumi.runtime.rpc.UNKNOWN and
  pulumi_policy/proxy.py); ids of resources being created are unknown too.
- Verdict: a mandatory diagnostic fails the run (step_generator.go: `sg.sawError = sg.sawError ||
  (d.EnforcementLevel == apitype.Mandatory)`); an advisory one, such as pulumi-policy's "can't run
  policy ... during preview" for a policy that read an unknown value, does not.

Left out: providers' Check (defaults it adds are internal `__` keys, which the engine strips for
analyzers anyway) and the root stack's outputs (no policy reads them).
"""

from __future__ import annotations

import importlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import pulumi
from google.protobuf import empty_pb2, json_format, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import proto, rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs

from infra.config import DictSource
from infra.mock_run import RecordingMocks
from tests.infra.pulumi_harness import BASE, SECRETS, TOKEN_VALUE

ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = ROOT / "policy"
PROJECT = "openclaw-edge"
UNKNOWN: str = rpc.UNKNOWN
"""plugin.UnknownStringValue (sdk/go/common/resource/plugin/rpc.go)."""
MANDATORY: int = proto.MANDATORY


@dataclass
class Registration:
    """One resource as the engine holds it at the end of a preview."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    protect: bool
    inputs: struct_pb2.Struct
    outputs: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)
    """Custom: the planned state of a create; component: what register_outputs received."""

    def output(self, key: str) -> Any:
        return json_format.MessageToDict(self.outputs).get(key)


def output_names(type_token: str) -> set[str]:
    """Output properties the resource's Python SDK class declares (`@pulumi.getter(name=...)`)."""
    package, module, class_name = type_token.split(":")
    module = module.split("/")[0]
    python_module = f"pulumi_{package}" + ("" if module == "index" else f".{module}")
    cls = getattr(importlib.import_module(python_module), class_name)
    names = (
        getattr(a.fget, "_pulumi_name", None) for a in vars(cls).values() if isinstance(a, property)
    )
    return {name for name in names if isinstance(name, str)}


class PreviewMocks(RecordingMocks):
    """Answers like a provider previewing a create: no id yet, inputs echoed, all else unknown."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        state: dict[str, Any] = dict(args.inputs)
        if args.custom:
            for name in output_names(args.typ) - set(state):
                state[name] = UNKNOWN
        return None, state


class EngineRecorder(MockMonitor):
    """Keeps every registration and every component's registered outputs, as the engine does."""

    def __init__(self, mocks: PreviewMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.by_urn: dict[str, Registration] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        inputs = struct_pb2.Struct()
        inputs.CopyFrom(request.object)
        registration = Registration(
            request.type,
            request.name,
            response.urn,
            request.parent,
            bool(request.custom),
            bool(request.protect),
            inputs,
        )
        if request.custom:
            registration.outputs.CopyFrom(response.object)
        self.registrations.append(registration)
        self.by_urn[response.urn] = registration
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.by_urn[request.urn].outputs.CopyFrom(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def preview(
    build_dir: Path, overrides: Mapping[str, object] | None = None, stack: str = "dev"
) -> list[Registration]:
    """Run the real program as in `pulumi preview` of a new stack; its registrations in order."""
    mocks = PreviewMocks(token_value=TOKEN_VALUE)
    monitor = EngineRecorder(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    from infra.program import build_stack  # after the mocks, as the Pulumi docs require

    def read_secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(SECRETS[key]) if key in SECRETS else None

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> None:
        build_stack(
            source=DictSource({**BASE, **(overrides or {})}),
            read_secret=read_secret,
            read_parameter=lambda _path: None,
            build_dir=build_dir,
            export=lambda _name, _value: None,
        )

    program()
    return monitor.registrations


def _without_internal_keys(value: Any) -> Any:
    """MarshalOptions.SkipInternalKeys: the engine drops `__`-prefixed keys for analyzers."""
    if isinstance(value, dict):
        return {k: _without_internal_keys(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_without_internal_keys(v) for v in value]
    return value


def _properties(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(_without_internal_keys(json_format.MessageToDict(struct)))
    return result


def _options(registration: Registration) -> Any:
    return proto.AnalyzerResourceOptions(protect=registration.protect, parent=registration.parent)


class _InProcess:
    """The pack's Analyzer servicer called directly, with the gRPC stub's call shape."""

    def __init__(self, servicer: Any) -> None:
        self.servicer = servicer

    def __getattr__(self, method: str) -> Any:
        return lambda request: getattr(self.servicer, method)(request, None)


class Analyzer:
    """A client of the pack's Analyzer service, speaking as the engine: over gRPC to the process
    `policy_pack()` started, or (`in_process()`) to the same servicer class in this process."""

    def __init__(self, channel: Any) -> None:
        self.stub: Any = proto.AnalyzerStub(channel) if channel is not None else None

    @classmethod
    def in_process(cls) -> Analyzer:
        """pulumi_policy's own servicer over the pack's policies, configured as the engine does;
        the same requests as over gRPC, without starting a process (fast, for many cases)."""
        from pulumi_policy import EnforcementLevel
        from pulumi_policy.policy import _PolicyAnalyzerServicer

        from policy.openclaw_policies import build_policies

        analyzer = cls(None)
        servicer = _PolicyAnalyzerServicer(
            "openclaw-edge", "0.1.0", build_policies(), EnforcementLevel.ADVISORY
        )
        analyzer.stub = _InProcess(servicer)
        analyzer.configure("dev", dry_run=True)
        return analyzer

    def configure(self, stack: str, *, dry_run: bool) -> None:
        """GetAnalyzerInfo -> Configure (policy defaults) -> ConfigureStack, as the engine does."""
        config = _default_config(self.info())
        self.stub.Configure(proto.ConfigureAnalyzerRequest(policyConfig=config))
        self.stub.ConfigureStack(
            proto.AnalyzerStackConfigureRequest(
                stack=stack, project=PROJECT, organization="organization", dry_run=dry_run
            )
        )

    def info(self) -> Any:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def analyze(self, registration: Registration) -> list[Any]:
        request = proto.AnalyzeRequest(
            urn=registration.urn,
            type=registration.type,
            name=registration.name,
            properties=_properties(registration.inputs),
            options=_options(registration),
        )
        return list(self.stub.Analyze(request).diagnostics)

    def analyze_stack(self, registrations: list[Registration]) -> list[Any]:
        resources = [
            proto.AnalyzerResource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                properties=_properties(r.outputs),
                options=_options(r),
                parent=r.parent,
            )
            for r in registrations
        ]
        return list(
            self.stub.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources)).diagnostics
        )

    def preview(self, registrations: list[Registration]) -> list[Any]:
        """Every diagnostic of a preview: Analyze per registration, then AnalyzeStack."""
        found = [d for r in registrations for d in self.analyze(r)]
        return found + self.analyze_stack(registrations)

    def up_stops_at(self, registrations: list[Registration]) -> Registration | None:
        """`pulumi up` (no preview): the first registration a mandatory violation makes invalid;
        it and everything after it is never created."""
        for registration in registrations:
            if any(d.enforcementLevel == MANDATORY for d in self.analyze(registration)):
                return registration
        return None


def _default_config(info: Any) -> dict[str, Any]:
    """ReconcilePolicyPackConfig without a config file: each policy's level, schema defaults."""
    config = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema.properties)
        defaults = {k: v["default"] for k, v in schema.items() if "default" in v}
        properties = struct_pb2.Struct()
        properties.update(defaults)
        config[policy.name] = proto.PolicyConfig(
            enforcementLevel=policy.enforcementLevel, properties=properties
        )
    return config


@contextmanager
def policy_pack(stack: str = "dev", *, dry_run: bool = True) -> Iterator[Analyzer]:
    """Start `policy/` as the CLI does and configure it; yields the engine-side client."""
    environment = {
        **os.environ,
        "PULUMI_PROJECT": PROJECT,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
        "PULUMI_ORGANIZATION": "organization",
        "PULUMI_CONFIG": json.dumps(
            {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in BASE.items()}
        ),
    }
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(POLICY_DIR)],
        cwd=POLICY_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], 120)
        port = process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            process.kill()
            raise RuntimeError(f"policy pack did not print its port: {process.stderr.read()}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            analyzer = Analyzer(channel)
            analyzer.configure(stack, dry_run=dry_run)
            yield analyzer
    finally:
        process.kill()
        process.wait(timeout=30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def mandatory(diagnostics: list[Any]) -> list[Any]:
    return [d for d in diagnostics if d.enforcementLevel == MANDATORY]


def summary(diagnostics: list[Any]) -> list[tuple[str, str, str]]:
    """(policy, level, urn) per diagnostic, for readable assertions."""
    level = {proto.ADVISORY: "advisory", MANDATORY: "mandatory"}
    return [(d.policyName, level.get(d.enforcementLevel, "?"), d.urn) for d in diagnostics]
