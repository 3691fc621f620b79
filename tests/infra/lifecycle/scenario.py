"""One stack in one fake account, driven the way a user drives it (edit, `pulumi up`, rotate,
`pulumi destroy` from a fresh clone), and the checks every scenario runs after every step."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra.components.secret_store import ssm_parameter_reader
from tests.infra.lifecycle.account import FakeAccount
from tests.infra.lifecycle.engine import Engine, Outcome
from tests.infra.lifecycle.fake_wrangler import SINGLE_SECRET_MODE_ENV
from tests.infra.lifecycle.model import ResourceState, secret_strings, unwrap
from tests.infra.lifecycle.providers import COMMAND_TYPE, base_process_env
from tests.infra.pulumi_harness import ACCOUNT, BASE, SECRETS

ROOT = Path(__file__).resolve().parents[3]
FAKE_WRANGLER = Path(__file__).with_name("fake_wrangler.py")
API_TOKEN = "SENTINEL-cloudflare-api-token-lifecycle-5a1"
PREFIX = "/lolice/openclaw/"
# What the deploy ships, and files next to it that must not count (README, tests, benchmarks).
SOURCE_FILES = (
    "worker/src",
    "worker/package-lock.json",
    "worker/tsconfig.json",
    "worker/README.md",
    "worker/test/config.test.ts",
    "container",
)


def copy_sources(target: Path) -> Path:
    for relative in SOURCE_FILES:
        source, destination = ROOT / relative, target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination)
    return target


@dataclass
class Deployment:
    """`pulumi up` / `pulumi destroy` of the real program against a fake account."""

    root: Path
    config: dict[str, object] = field(default_factory=lambda: dict(BASE))
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))
    history: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.account = FakeAccount(self.root / "account" / "account.json", ACCOUNT)
        self.sources = copy_sources(self.root / "checkout")
        self.build_dir = self.root / "checkout" / "build"
        self.engine = Engine(self.account, ROOT, base_process_env(self.account, FAKE_WRANGLER))

    @property
    def worker_name(self) -> str:
        return str(self.config.get("workerName", "openclaw-edge-dev"))

    def up(self, replace: tuple[str, ...] = ()) -> Outcome:
        def read_secret(key: str) -> pulumi.Output[str] | None:
            value = self.secrets.get(key)
            return None if value is None else pulumi.Output.secret(value)

        outcome = self.engine.up(
            self.config,
            read_secret,
            ssm_parameter_reader(),  # the real reader, answered by the fake SSM
            self.build_dir,
            self.sources,
            API_TOKEN,
            replace,
        )
        self.history.append(outcome)
        return outcome

    def destroy(self, exclude_protected: bool = True) -> Outcome:
        outcome = self.engine.destroy(exclude_protected=exclude_protected)
        self.history.append(outcome)
        return outcome

    def fresh_clone(self) -> None:
        """A new checkout: same stack state in the backend, no build/ directory."""
        shutil.rmtree(self.build_dir, ignore_errors=True)

    def edit(self, relative: str, append: str) -> None:
        path = self.sources / relative
        path.write_text(path.read_text() + append)

    # -- what the account holds -------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        return self.account.read()

    def worker(self, name: str | None = None) -> dict[str, Any] | None:
        worker: dict[str, Any] | None = self.data()["workers"].get(name or self.worker_name)
        return worker

    def worker_secrets(self, name: str | None = None) -> dict[str, str]:
        worker = self.worker(name)
        assert worker is not None, f"Worker {name or self.worker_name} does not exist"
        return {k: v["value"] for k, v in worker["secrets"].items()}

    def revisions(self) -> dict[str, int]:
        worker = self.worker()
        assert worker is not None
        return {k: int(v["revision"]) for k, v in worker["secrets"].items()}

    def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self.data()["calls"]
        return calls

    def ssm(self) -> dict[str, str]:
        return {name: p["value"] for name, p in self.data()["ssm"].items()}


def expected_secrets(deployment: Deployment, ssm_before: Mapping[str, str]) -> dict[str, str]:
    """The Worker secrets the configuration asks for, with the value each must have: config
    first, else the real SSM value; the R2 pair from the bucket token the stack created."""
    from infra.catalog import load_catalog

    catalog = load_catalog()
    optional = set(json.loads(json.dumps(deployment.config.get("optionalSecrets", []))))
    expected: dict[str, str] = {}
    for spec in catalog.secrets:
        if spec.source != "ssm":
            continue
        wanted = (
            spec.required == "always"
            or spec.name
            == f"{str(deployment.config.get('llmProvider', 'anthropic')).upper()}_API_KEY"
            or spec.name in optional
            or spec.name in deployment.secrets
        )
        if not wanted:
            continue
        value = deployment.secrets.get(spec.name, ssm_before.get(PREFIX + spec.name))
        assert value is not None, f"{spec.name}: the scenario gives it no value"
        expected[spec.name] = value
    tokens = deployment.data()["tokens"]
    (token_id, token), *_ = tokens.items()
    expected["R2_ACCESS_KEY_ID"] = token_id
    expected["R2_SECRET_ACCESS_KEY"] = hashlib.sha256(token["value"].encode()).hexdigest()
    return expected


def all_secret_values(deployment: Deployment) -> set[str]:
    """Every value that must never be seen outside a secret: config secrets, the API token,
    what SSM holds, the token value, the S3 secret, the probe's client secret."""
    data = deployment.data()
    values = {*deployment.secrets.values(), API_TOKEN}
    values |= {p["value"] for p in data["ssm"].values()}
    for token in data["tokens"].values():
        values |= {token["value"], hashlib.sha256(token["value"].encode()).hexdigest()}
    values |= {t["clientSecret"] for t in data["service_tokens"].values()}
    for worker in data["workers"].values():
        values |= {s["value"] for s in worker["secrets"].values()}
    return {v for v in values if len(v) >= 8 and v != "managed-outside-pulumi"}


def leaks(deployment: Deployment, outcome: Outcome) -> list[str]:
    """Places a secret value showed up outside a secret marker."""
    secrets = all_secret_values(deployment)
    places: list[tuple[str, str]] = []
    places += [(f"argv {c['argv']}", json.dumps(c["argv"])) for c in deployment.calls()]
    for run in outcome.runs:
        places += [
            (f"{run.resource} {run.operation} command", run.command),
            (f"{run.resource} {run.operation} stdout", run.stdout),
            (f"{run.resource} {run.operation} stderr", run.stderr),
        ]
    places += [(f"error {i}", e) for i, e in enumerate(outcome.errors)]
    if outcome.run is not None:
        plain = {
            k: v for k, v in outcome.run.outputs.items() if k not in outcome.run.secret_outputs
        }
        places.append(("plain stack outputs", json.dumps(plain, default=str)))
    rendered = deployment.build_dir / "dev" / "wrangler.jsonc"
    if rendered.is_file():
        places.append(("rendered config", rendered.read_text()))
    for state in deployment.engine.state.values():
        shown = json.dumps(unwrap(state.inputs), default=str)
        hidden = secret_strings(state.inputs) | secret_strings(state.outputs)
        visible = [v for v in secrets if v in shown and not any(v in h for h in hidden)]
        places += [(f"state of {state.name} (not marked secret)", v) for v in visible]
    return sorted({where for where, text in places for value in secrets if value in text})


def wrangler_steps(state: Mapping[str, ResourceState]) -> list[ResourceState]:
    return [s for s in state.values() if s.type == COMMAND_TYPE]


def independent_pairs(state: Mapping[str, ResourceState]) -> list[tuple[str, str]]:
    """Command resources neither of which (transitively) depends on the other: the engine may
    run them at the same time, i.e. concurrent wrangler calls on one script."""

    def closure(urn: str) -> set[str]:
        seen: set[str] = set()
        frontier = [urn]
        while frontier:
            current = state.get(frontier.pop())
            for dependency in current.dependencies if current else ():
                if dependency not in seen:
                    seen.add(dependency)
                    frontier.append(dependency)
        return seen

    commands = wrangler_steps(state)
    return [
        (a.name, b.name)
        for i, a in enumerate(commands)
        for b in commands[i + 1 :]
        if a.urn not in closure(b.urn) and b.urn not in closure(a.urn)
    ]


def check(
    deployment: Deployment,
    outcome: Outcome,
    ssm_before: Mapping[str, str],
    *,
    worker_exists: bool = True,
    errors: tuple[str, ...] = (),
) -> None:
    """What every scenario asserts after every step."""
    if errors:
        for fragment in errors:
            assert any(fragment in e for e in outcome.errors), (fragment, outcome.errors)
    else:
        assert outcome.errors == [], outcome.errors
    assert leaks(deployment, outcome) == []
    data = deployment.data()
    assert data["conflicts"] == [], "concurrent single-secret calls on one script"
    if os.environ.get(SINGLE_SECRET_MODE_ENV) != "wait":
        assert independent_pairs(deployment.engine.state) == [], "wrangler steps that may overlap"
    # SSM: nothing lost. A parameter the stack manages holds the config value when config sets
    # one; every other value is what it was before the step.
    ssm = deployment.ssm()
    for name, value in ssm_before.items():
        assert name in ssm, f"{name} was deleted from SSM"
        key = name.removeprefix(PREFIX)
        expected = deployment.secrets.get(key, value) if name.startswith(PREFIX) else value
        if value == "managed-outside-pulumi" and key not in deployment.secrets:
            continue
        assert ssm[name] == expected, f"{name} changed unexpectedly"
    if worker_exists:
        assert deployment.worker() is not None, f"Worker {deployment.worker_name} is gone"
        assert deployment.worker_secrets() == expected_secrets(deployment, ssm_before)
