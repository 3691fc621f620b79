"""The Worker, its Sandbox Durable Object and container image, shipped with wrangler because no
Pulumi provider has Containers: renders wrangler.jsonc from config, runs `wrangler deploy` when
the content of worker/, container/ or the rendered config changes, and one
`wrangler secret put NAME` per secret (value on stdin) after it."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command

from infra.config import REPO_ROOT, StackConfig

CONTAINER_CLASS = "Sandbox"
DO_BINDING = "SANDBOX"
BROWSER_BINDING = "BROWSER"
STEP = "scripts/with-toolchain python -m infra.wrangler_step"
# Paths whose changes do not change what is deployed.
IGNORED_PARTS = frozenset(
    {"node_modules", ".wrangler", "dist", "coverage", "test", "tests", "__pycache__", ".dev.vars"}
)


def content_hash(root: Path, ignored: Iterable[str] = IGNORED_PARTS) -> str:
    """SHA-256 over the relative paths and bytes of every file under root (sorted), skipping
    build output, dependencies and tests, so the deploy re-runs exactly when sources change."""
    skip = set(ignored)
    digest = hashlib.sha256()
    if not root.is_dir():
        return digest.hexdigest()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or skip.intersection(relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def render_wrangler_config(
    config: StackConfig,
    *,
    config_dir: Path,
    vars_: Mapping[str, str],
    r2_binding: Mapping[str, str],
    image: str | None = None,
) -> dict[str, Any]:
    """The deploy-time wrangler config. Paths are relative to `config_dir`, where the file is
    written; `image` swaps the Dockerfile for a registry reference (dry runs without Docker)."""
    worker_main = Path(os.path.relpath(REPO_ROOT / "worker" / "src" / "index.ts", config_dir))
    dockerfile = Path(os.path.relpath(REPO_ROOT / "container" / "Dockerfile", config_dir))
    build_context = Path(os.path.relpath(REPO_ROOT / "container", config_dir))
    container: dict[str, Any] = {
        "class_name": CONTAINER_CLASS,
        "image": image or dockerfile.as_posix(),
        "instance_type": config.instance_type,
        "max_instances": config.max_instances,
    }
    if image is None:
        container["image_build_context"] = build_context.as_posix()
        container["image_vars"] = {"OPENCLAW_VERSION": config.openclaw_version}
    return {
        "name": config.worker_name,
        "main": worker_main.as_posix(),
        "compatibility_date": config.compatibility_date,
        "compatibility_flags": ["nodejs_compat"],
        "workers_dev": False,
        "preview_urls": False,
        "observability": {"enabled": True},
        "containers": [container],
        "durable_objects": {"bindings": [{"name": DO_BINDING, "class_name": CONTAINER_CLASS}]},
        "migrations": [{"tag": "v1", "new_sqlite_classes": [CONTAINER_CLASS]}],
        "r2_buckets": [dict(r2_binding)],
        "browser": {"binding": BROWSER_BINDING},
        "triggers": {"crons": [config.cron]},
        "vars": dict(sorted(vars_.items())),
    }


def stack_vars(config: StackConfig) -> dict[str, str]:
    """Vars known from config alone; the Access and AI Gateway fragments are merged in later."""
    values = {
        **config.worker_vars,
        "CF_ACCOUNT_ID": config.account_id,
        "R2_BUCKET_NAME": config.bucket_name,
        "LLM_PROVIDER": config.llm_provider,
        "SANDBOX_SLEEP_AFTER": config.sleep_after,
        "DEBUG_ROUTES": "true" if config.debug_routes else "false",
        "ENVIRONMENT": config.stack,
        "WORKER_URL": config.worker_url,
        "OPENCLAW_VERSION": config.openclaw_version,
        "BACKUP_INTERVAL_SECONDS": str(config.backup_interval_seconds),
    }
    if config.gateway_origin:
        values["GATEWAY_ORIGIN"] = config.gateway_origin
    return values


def write_if_changed(path: Path, text: str) -> bool:
    """Write only when the content differs, so file watchers and mtimes stay quiet."""
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def config_text(rendered: Mapping[str, Any]) -> str:
    header = "// Rendered by openclaw-edge (infra/worker.py) from Pulumi config. Do not edit.\n"
    return header + json.dumps(rendered, indent=2) + "\n"


@dataclass
class WorkerDeployArgs:
    config: StackConfig
    """Validated stack config (names, container settings, cron, vars)."""
    vars_: pulumi.Output[dict[str, str]]
    """All non-secret vars: stack_vars() merged with the Access and AI Gateway fragments."""
    r2_binding: pulumi.Output[dict[str, str]]
    """The backup bucket's `r2_buckets` entry."""
    secrets: Mapping[str, pulumi.Output[str]]
    """Worker secret name -> secret value (from SSM/config or created by the stack)."""
    api_token: pulumi.Output[str] | None = None
    """Cloudflare API token for wrangler (`cloudflare:apiToken`); None: inherit the env var."""
    build_dir: Path = field(default_factory=lambda: REPO_ROOT / "build")
    """Where the rendered config is written (`build/<stack>/wrangler.jsonc`)."""


class WorkerDeploy(pulumi.ComponentResource):
    """`wrangler deploy` + one `wrangler secret put` per secret, as pulumi-command resources."""

    deploy: command.local.Command
    secret_commands: dict[str, command.local.Command]
    config_path: Path
    rendered: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkerDeployArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        cfg = args.config
        # Props are visible to the policy pack (debug routes on a non-dev stack, hostname).
        props = {
            "debugRoutes": cfg.debug_routes,
            "environment": cfg.stack,
            "hostname": cfg.hostname,
            "workerName": cfg.worker_name,
            "secretNames": sorted(args.secrets),
        }
        super().__init__("openclaw-edge:worker:WorkerDeploy", name, props, opts)
        self.config_path = args.build_dir / cfg.stack / "wrangler.jsonc"

        def render(parts: list[Any]) -> str:
            text = config_text(
                render_wrangler_config(
                    cfg, config_dir=self.config_path.parent, vars_=parts[0], r2_binding=parts[1]
                )
            )
            write_if_changed(self.config_path, text)
            return text

        self.rendered = pulumi.Output.all(args.vars_, args.r2_binding).apply(render)
        # Relative to the project, so state does not depend on where the checkout lives.
        environment: dict[str, pulumi.Input[str]] = {
            "WRANGLER_CONFIG": _project_relative(self.config_path),
            "CLOUDFLARE_ACCOUNT_ID": cfg.account_id,
        }
        if args.api_token is not None:
            environment["CLOUDFLARE_API_TOKEN"] = pulumi.Output.secret(args.api_token)

        triggers = [
            content_hash(REPO_ROOT / "worker"),
            content_hash(REPO_ROOT / "container"),
            self.rendered.apply(lambda text: hashlib.sha256(text.encode()).hexdigest()),
        ]
        self.deploy = command.local.Command(
            f"{name}-deploy",
            create=f"{STEP} deploy",
            delete=f"{STEP} delete",
            environment=environment,
            triggers=triggers,
            logging=command.local.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_commands = {}
        for secret_name, value in sorted(args.secrets.items()):
            self.secret_commands[secret_name] = command.local.Command(
                f"{name}-secret-{secret_name.lower().replace('_', '-')}",
                create=f"{STEP} secret-put {secret_name}",
                delete=f"{STEP} secret-delete {secret_name}",
                environment=environment,
                stdin=pulumi.Output.secret(value),  # type: ignore[arg-type]
                # Output is masked by wrangler_step; stderr only keeps the logs short.
                logging=command.local.Logging.STDERR,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deploy]),
            )
        self.register_outputs(
            {"configPath": _project_relative(self.config_path), "secretNames": sorted(args.secrets)}
            | {"hostname": cfg.hostname}  # the stack policy sees a component's outputs only
        )


def _project_relative(path: Path) -> str:
    """Path as the commands see it: they run in the project directory (Pulumi's cwd)."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
