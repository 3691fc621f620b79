"""Fake providers for the lifecycle engine: pulumi-command's local.Command (runs the real command
strings), and the Cloudflare and AWS SSM resources of the program, acting on the fake account.

Each behaviour cites the code it follows. What they do not model: provider Check/defaults,
computed attributes the program does not set, refresh, partial failures inside one call."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from infra.components.backup_bucket import R2_PERMISSION_GROUPS
from infra.mock_run import PERMISSION_GROUPS_INVOKE
from tests.infra.lifecycle.account import FakeAccount
from tests.infra.lifecycle.model import Goal, ResourceState, has_secret, unwrap


class ProviderError(Exception):
    """A failed provider operation; the message is the provider's own text."""


@dataclass
class Applied:
    id: str
    outputs: dict[str, Any]
    """Wire form: secret outputs wrapped."""


@dataclass
class CommandRun:
    """One execution of a Command's shell string."""

    resource: str
    operation: str  # create | update | delete
    command: str
    exit_code: int
    stdout: str
    stderr: str
    started: float
    ended: float


COMMAND_TYPE = "command:local:Command"


@dataclass
class CommandProvider:
    """pulumi-command 1.2.1 local.Command (provider/pkg/provider/local/commandController.go and
    commandOutputs.go run()):
    - create runs `create`; update runs `update`, or `create` when there is no `update`;
      delete runs the `delete` recorded in STATE, with the state's environment and stdin.
    - `/bin/sh -c <command>` in the provider's working directory (the project directory),
      environment = the process environment + `environment` + PULUMI_COMMAND_STDOUT/STDERR of
      the previous run (when non-empty, addPreviousOutputInEnv defaults to true); stdin only
      when non-empty.
    - stdout/stderr are kept (one trailing newline trimmed) only on success; a failure's error
      carries the combined output: `<exit status>: running "<cmd>":\\n<output>`.
    - Outputs are the inputs plus stdout/stderr; every output depends on every input (infer's
      default), so they are secret when any input is."""

    project_dir: Path
    process_env: Mapping[str, str]
    runs: list[CommandRun] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    replace_keys: tuple[str, ...] = ()  # triggers replace through the SDK's replaceOnChanges

    def create(self, goal: Goal) -> Applied:
        inputs = unwrap(goal.inputs)
        stdout, stderr = self._run(goal.name, "create", inputs.get("create"), inputs, {})
        resource_id = f"{goal.name}-{hashlib.sha256(goal.urn.encode()).hexdigest()[:8]}"
        return Applied(resource_id, self._outputs(goal, stdout, stderr))

    def read(self, goal: Goal, import_id: str) -> tuple[dict[str, Any], Applied] | None:
        raise ProviderError("local.Command cannot be imported")

    def update(self, old: ResourceState, goal: Goal, inputs: dict[str, Any]) -> Applied:
        plain = unwrap(inputs)
        command = plain.get("update") or plain.get("create")
        previous = unwrap(old.outputs)
        stdout, stderr = self._run(goal.name, "update", command, plain, previous)
        if command is None:  # "If neither are specified, do nothing": old outputs stay
            stdout, stderr = previous.get("stdout", ""), previous.get("stderr", "")
        return Applied(old.id, self._outputs(goal, stdout, stderr, inputs))

    def delete(self, old: ResourceState) -> None:
        state = unwrap(old.outputs)
        self._run(old.name, "delete", state.get("delete"), state, state)

    def _outputs(
        self, goal: Goal, stdout: str, stderr: str, inputs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        source = goal.inputs if inputs is None else inputs
        secret = has_secret(source)
        outputs = dict(source)
        for key, value in (("stdout", stdout), ("stderr", stderr)):
            wrap = secret or key in goal.additional_secret_outputs
            outputs[key] = rpc.wrap_rpc_secret(value) if wrap else value
        return outputs

    def _run(
        self,
        resource: str,
        operation: str,
        command: str | None,
        inputs: Mapping[str, Any],
        previous: Mapping[str, Any],
    ) -> tuple[str, str]:
        if not command:
            return "", ""
        env = {**self.process_env, **(inputs.get("environment") or {})}
        for key, name in (("stdout", "PULUMI_COMMAND_STDOUT"), ("stderr", "PULUMI_COMMAND_STDERR")):
            if previous.get(key):
                env[name] = str(previous[key])
        stdin = inputs.get("stdin") or None
        started = time.monotonic()
        result = subprocess.run(
            ["/bin/sh", "-c", command],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=inputs.get("dir") or self.project_dir,
            env=env,
            check=False,
        )
        run = CommandRun(
            resource,
            operation,
            command,
            result.returncode,
            result.stdout,
            result.stderr,
            started,
            time.monotonic(),
        )
        with self.lock:
            self.runs.append(run)
        if result.returncode != 0:
            raise ProviderError(
                f"exit status {result.returncode}: running {command!r}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result.stdout.removesuffix("\n"), result.stderr.removesuffix("\n")


@dataclass(frozen=True)
class Kind:
    """How one Cloudflare/AWS resource type lives in the fake account."""

    collection: str
    replace_keys: tuple[str, ...]
    """Inputs whose change replaces (the provider's RequiresReplace / ForceNew), as cited."""
    make_id: Callable[[dict[str, Any]], str]
    import_key: Callable[[str], str]
    computed: Callable[[str, dict[str, Any]], dict[str, Any]] = lambda _id, _record: {}
    """Computed outputs (secret ones wrapped) from the stored record."""


def _uuid(_inputs: dict[str, Any]) -> str:
    return str(uuid.uuid4())


def _last(import_id: str) -> str:
    return import_id.rsplit("/", 1)[-1]


KINDS: dict[str, Kind] = {
    # r2_bucket/schema.go: name and account_id RequiresReplace. Import id
    # "<account>/<name>/<jurisdiction>" (what infra/r2.py passes).
    "cloudflare:index/r2Bucket:R2Bucket": Kind(
        "buckets", ("name", "accountId"), lambda i: str(i["name"]), lambda x: x.split("/")[1]
    ),
    "cloudflare:index/accountToken:AccountToken": Kind(
        "tokens",
        (),
        lambda _i: uuid.uuid4().hex,
        _last,
        lambda _id, record: {"value": rpc.wrap_rpc_secret(record["value"])},
    ),
    "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy": Kind(
        "access_policies", (), _uuid, _last
    ),
    "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication": Kind(
        "access_apps", (), _uuid, _last, lambda _id, record: {"aud": record["aud"]}
    ),
    "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken": Kind(
        "service_tokens",
        (),
        _uuid,
        _last,
        lambda _id, record: {
            "clientId": record["clientId"],
            "clientSecret": rpc.wrap_rpc_secret(record["clientSecret"]),
        },
    ),
    "cloudflare:index/aiGateway:AiGateway": Kind(
        "ai_gateways", (), lambda i: str(i["aiGatewayId"]), _last
    ),
    # workers_custom_domain/schema.go: hostname and account_id RequiresReplace; service is an
    # in-place update.
    "cloudflare:index/workersCustomDomain:WorkersCustomDomain": Kind(
        "custom_domains", ("hostname", "accountId"), lambda i: str(i["hostname"]), lambda x: x
    ),
    # terraform-provider-aws ssm/parameter.go: name and data_type ForceNew; the id is the name.
    "aws:ssm/parameter:Parameter": Kind("ssm", ("name", "dataType"), lambda i: str(i["name"]), str),
}


@dataclass
class CloudProvider:
    """Create/read/update/delete of the non-command resources against the fake account."""

    account: FakeAccount
    type: str
    kind: Kind = field(init=False)

    def __post_init__(self) -> None:
        self.kind = KINDS[self.type]

    @property
    def replace_keys(self) -> tuple[str, ...]:
        return self.kind.replace_keys

    def create(self, goal: Goal) -> Applied:
        inputs = unwrap(goal.inputs)
        with self.account.transaction() as data:
            resource_id = self.kind.make_id(inputs)
            items = data[self.kind.collection]
            self._refuse_create(data, resource_id, inputs)
            record = {**items.get(resource_id, {}), **inputs, **self._computed(inputs)}
            items[resource_id] = record
        return Applied(resource_id, self._outputs(goal.inputs, resource_id, record))

    def read(self, goal: Goal, import_id: str) -> tuple[dict[str, Any], Applied] | None:
        with self.account.transaction() as data:
            resource_id = self.kind.import_key(import_id)
            record = data[self.kind.collection].get(resource_id)
        if record is None:
            return None
        # Read returns the resource's identity attributes whatever else it has (the id is the
        # SSM name and the bucket name; the account is the one asked).
        record = {**self._identity(resource_id), **record}
        read_inputs = {k: record[k] for k in unwrap(goal.inputs) if k in record}
        if self.type == "aws:ssm/parameter:Parameter" and "value" in read_inputs:
            read_inputs["value"] = rpc.wrap_rpc_secret(read_inputs["value"])
        return read_inputs, Applied(resource_id, self._outputs(read_inputs, resource_id, record))

    def update(self, old: ResourceState, goal: Goal, inputs: dict[str, Any]) -> Applied:
        plain = unwrap(inputs)
        with self.account.transaction() as data:
            items = data[self.kind.collection]
            if old.id not in items:
                # The engine would learn this on refresh; an update of a vanished resource
                # fails in the provider (not found).
                raise ProviderError(f"updating {old.name}: {old.id} not found")
            self._refuse_update(data, plain)
            items[old.id].update(plain)
            record = items[old.id]
        return Applied(old.id, self._outputs(inputs, old.id, record))

    def delete(self, old: ResourceState) -> None:
        with self.account.transaction() as data:
            # terraform-provider-aws DeleteParameter ignores ParameterNotFound; the others are
            # treated alike (a vanished resource is gone).
            data[self.kind.collection].pop(old.id, None)

    def _identity(self, resource_id: str) -> dict[str, Any]:
        if self.type == "aws:ssm/parameter:Parameter":
            return {"name": resource_id}
        identity: dict[str, Any] = {"accountId": self.account.read()["account_id"]}
        if self.type == "cloudflare:index/r2Bucket:R2Bucket":
            identity["name"] = resource_id
        return identity

    def _computed(self, inputs: dict[str, Any]) -> dict[str, Any]:
        seed = uuid.uuid4().hex
        if self.kind.collection == "tokens":
            return {"value": f"SENTINEL-account-token-{seed}"}
        if self.kind.collection == "access_apps":
            return {"aud": hashlib.sha256(seed.encode()).hexdigest()}
        if self.kind.collection == "service_tokens":
            return {"clientId": f"{seed[:32]}.access", "clientSecret": f"SENTINEL-client-{seed}"}
        if self.kind.collection == "buckets":
            return {"objects": {}}
        return {}

    def _refuse_create(
        self, data: dict[str, Any], resource_id: str, inputs: dict[str, Any]
    ) -> None:
        if self.type == "aws:ssm/parameter:Parameter" and resource_id in data["ssm"]:
            # resourceParameterCreate: PutParameter with Overwrite false for a new resource
            # (shouldUpdateParameter), AWS answers ParameterAlreadyExists; the provider wraps
            # it as "creating SSM Parameter (%s): %s" (terraform-provider-aws ssm/parameter.go).
            raise ProviderError(
                f"creating SSM Parameter ({resource_id}): operation error SSM: PutParameter, "
                "https response error StatusCode: 400, RequestID: "
                f"{uuid.uuid4()}, ParameterAlreadyExists: The parameter already exists. To "
                "overwrite this value, set the overwrite option in the request to true."
            )
        if self.type == "cloudflare:index/r2Bucket:R2Bucket" and resource_id in data["buckets"]:
            raise ProviderError(
                f"creating R2 bucket {resource_id}: The bucket you tried to create already "
                "exists, and you own it. (fake; code 10004 assumed)"
            )
        if self.type.endswith("WorkersCustomDomain"):
            self._check_domain(data, inputs)

    def _refuse_update(self, data: dict[str, Any], inputs: dict[str, Any]) -> None:
        if self.type.endswith("WorkersCustomDomain"):
            self._check_domain(data, inputs)

    @staticmethod
    def _check_domain(data: dict[str, Any], inputs: dict[str, Any]) -> None:
        hostname = str(inputs["hostname"])
        if hostname in data["dns_records"]:
            # The API's answer seen in the field: HTTP 409, error 100117 (vm0-ai/vm0#33406).
            raise ProviderError(
                f"Hostname '{hostname}' already has externally managed DNS records (A, CNAME, "
                "etc). Delete them first or try a different hostname. (100117)"
            )
        if inputs["service"] not in data["workers"]:
            raise ProviderError(
                f"workers custom domain {hostname}: Worker {inputs['service']} not found "
                "(fake: a domain needs its Worker)"
            )

    def _outputs(
        self, inputs: dict[str, Any], resource_id: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        return {**inputs, **self.kind.computed(resource_id, record), "id": resource_id}


@dataclass
class Invokes:
    """Data sources the program calls, answered from the fake account."""

    account: FakeAccount
    calls: list[str] = field(default_factory=list)

    def __call__(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(token)
        if token == PERMISSION_GROUPS_INVOKE:
            groups = (*R2_PERMISSION_GROUPS, "Account Settings Read")
            return {
                # The ids the offline plan's mocks use (md5 of the name: an id, not a digest).
                "results": [
                    {"id": hashlib.md5(n.encode()).hexdigest(), "name": n}  # noqa: S324
                    for n in groups
                ]
            }
        data = self.account.read()["ssm"]
        if token == "aws:ssm/getParametersByPath:getParametersByPath":
            # Pages through what exists directly under the path; never fails for an absent
            # name (parameters_by_path_data_source.go).
            path = str(args["path"])
            names = sorted(n for n in data if n.rsplit("/", 1)[0] + "/" == path)
            return {
                "path": path,
                "id": path,
                "names": names,
                "values": [data[n]["value"] for n in names],
                "types": [data[n].get("type", "SecureString") for n in names],
                "arns": [f"arn:aws:ssm:ap-northeast-1:123456789012:parameter{n}" for n in names],
            }
        if token == "aws:ssm/getParameter:getParameter":
            # parameter_data_source.go: "reading SSM Parameter (%s): %s" around
            # retry.NotFoundError, whose text is "couldn't find resource".
            name = str(args["name"])
            if name not in data:
                raise ProviderError(f"reading SSM Parameter ({name}): couldn't find resource")
            return {"name": name, "id": name, "value": data[name]["value"], "type": "SecureString"}
        raise ProviderError(f"the lifecycle fakes do not model the invoke {token}")


def base_process_env(account: FakeAccount, wrangler: Path) -> dict[str, str]:
    """The environment `pulumi up` would run the commands in: the user's, with the fake
    wrangler selected (WRANGLER_BIN) and no stale command output."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_COMMAND_", "CLOUDFLARE_"))
    }
    env.update(
        {"WRANGLER_BIN": str(wrangler), "FAKE_CLOUDFLARE_ACCOUNT": str(account.path), "CI": "true"}
    )
    return env
