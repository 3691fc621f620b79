"""The Worker, its Sandbox Durable Object and container image, shipped with wrangler because no
Pulumi provider has Containers: renders wrangler.jsonc from config, runs `wrangler deploy` when
what ships (Worker sources, build context, rendered config) changes, then sets every Worker
secret in one `wrangler secret bulk` (values as JSON on stdin).

Lifecycle, as the engine runs it (pulumi-command 1.2.1, see docs/lifecycle.md):
- The deploy Command's `triggers` are only the Worker's identity (account id, name): a rename
  replaces it (create-before-delete: the new Worker is deployed, the old one's `delete` removes
  the old name only). A content change is in the `environment` and runs `update` in place, so
  `wrangler delete` never runs as part of an update.
- Every command carries what it needs in its own inputs (`--name`, account id), so a delete
  works from recorded state alone (`pulumi destroy` on a fresh clone, after a rename)."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command

from infra.config import REPO_ROOT, StackConfig
from infra.content import container_digest, worker_digest
from infra.outputs import WORKER_DEPLOY_TYPE

CONTAINER_CLASS = "Sandbox"
DO_BINDING = "SANDBOX"
BROWSER_BINDING = "BROWSER"
STEP = "scripts/with-toolchain python -m infra.wrangler_step"
DEPLOY_HASH_VAR = "OPENCLAW_EDGE_DEPLOY_HASH"


def render_wrangler_config(
    config: StackConfig,
    *,
    config_dir: Path,
    vars_: Mapping[str, str],
    r2_binding: Mapping[str, str],
    image: str | None = None,
    source_root: Path = REPO_ROOT,
) -> dict[str, Any]:
    """The deploy-time wrangler config. Paths are relative to `config_dir`, where the file is
    written; `image` swaps the Dockerfile for a registry reference (dry runs without Docker);
    `source_root` holds worker/ and container/ (the checkout, or a copy in tests)."""
    worker_main = Path(os.path.relpath(source_root / "worker" / "src" / "index.ts", config_dir))
    dockerfile = Path(os.path.relpath(source_root / "container" / "Dockerfile", config_dir))
    build_context = Path(os.path.relpath(source_root / "container", config_dir))
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
        "triggers": {"crons": [config.cron.text]},
        "vars": dict(sorted(vars_.items())),
    }


def stack_vars(config: StackConfig) -> dict[str, str]:
    """Vars known from config alone; the Access and AI Gateway fragments are merged in later."""
    values = {
        **config.worker_vars,
        "CF_ACCOUNT_ID": config.account_id,
        "R2_BUCKET_NAME": config.bucket_name,
        "LLM_PROVIDER": config.llm_provider,
        "SANDBOX_SLEEP_AFTER": config.sleep_after.text,
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
    header = (
        "// Rendered by openclaw-edge (infra/components/worker_deploy.py) from Pulumi config. "
        "Do not edit.\n"
    )
    return header + json.dumps(rendered, indent=2) + "\n"


def deploy_hash(source_root: Path, rendered: str) -> str:
    """One digest of everything a deploy ships: Worker bundle inputs, container build context
    and the rendered config. It lives in the deploy Command's `environment`, so a change is an
    in-place update (pulumi-command: only `triggers` replace)."""
    parts = (
        worker_digest(source_root / "worker"),
        container_digest(source_root / "container"),
        hashlib.sha256(rendered.encode()).hexdigest(),
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def secrets_json(values: Mapping[str, str]) -> str:
    """The stdin of the secrets step: every Worker secret as one JSON object, sorted, so the same
    values give the same input (no spurious update) and one changed value changes only it."""
    return json.dumps(dict(sorted(values.items())), separators=(",", ":"))


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
    source_root: Path = REPO_ROOT
    """Directory holding worker/ and container/ (default: this checkout)."""


class WorkerDeploy(pulumi.ComponentResource):
    """`wrangler deploy` and one `wrangler secret bulk`, as two pulumi-command resources."""

    deploy: command.local.Command
    secrets: command.local.Command
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
        super().__init__(WORKER_DEPLOY_TYPE, name, props, opts)
        self.config_path = args.build_dir / cfg.stack / "wrangler.jsonc"

        def render(parts: list[Any]) -> str:
            text = config_text(
                render_wrangler_config(
                    cfg,
                    config_dir=self.config_path.parent,
                    vars_=parts[0],
                    r2_binding=parts[1],
                    source_root=args.source_root,
                )
            )
            write_if_changed(self.config_path, text)
            return text

        self.rendered = pulumi.Output.all(args.vars_, args.r2_binding).apply(render)
        # Credentials reach wrangler through the environment only. The account id is in every
        # command's own inputs, so its delete needs nothing but recorded state.
        credentials: dict[str, pulumi.Input[str]] = {"CLOUDFLARE_ACCOUNT_ID": cfg.account_id}
        if args.api_token is not None:
            credentials["CLOUDFLARE_API_TOKEN"] = pulumi.Output.secret(args.api_token)
        name_arg = f"--name {shlex.quote(cfg.worker_name)}"

        deploy_step = f"{STEP} deploy {name_arg}"
        self.deploy = command.local.Command(
            f"{name}-deploy",
            create=deploy_step,
            # Without `update`, pulumi-command would run `create` too (commandController.go
            # Update); naming it keeps the intent visible in the plan.
            update=deploy_step,
            delete=f"{STEP} delete {name_arg}",
            environment={
                **credentials,
                # Relative to the project, so state does not depend on where the checkout lives.
                "WRANGLER_CONFIG": _project_relative(self.config_path),
                DEPLOY_HASH_VAR: self.rendered.apply(
                    lambda text: deploy_hash(args.source_root, text)
                ),
            },
            # The only inputs that replace: a new name or account is a new Worker. Replacement
            # is create-before-delete, and the old delete targets the old name (--name above).
            triggers=[cfg.account_id, cfg.worker_name],
            logging=command.local.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self),
        )
        secrets_step = f"{STEP} secrets {name_arg}"
        self.secrets = command.local.Command(
            f"{name}-secrets",
            create=secrets_step,
            update=secrets_step,
            delete=f"{STEP} secrets-delete {name_arg}",
            environment=credentials,
            stdin=pulumi.Output.secret(_secrets_stdin(args.secrets)),  # type: ignore[arg-type]
            # The step prints only its manifest (names and keyed digests, no value) on stdout,
            # which pulumi-command keeps for the next run; stderr is masked progress.
            logging=command.local.Logging.STDERR,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.deploy],
                additional_secret_outputs=["stdout", "stderr"],
                # If this Command is ever replaced (`pulumi up --replace`), the old one's delete
                # removes every secret it set: run it BEFORE the new create, not after it.
                delete_before_replace=True,
            ),
        )
        self.register_outputs(
            {"configPath": _project_relative(self.config_path), "secretNames": sorted(args.secrets)}
            | {"hostname": cfg.hostname}  # the stack policy sees a component's outputs only
        )


def _secrets_stdin(secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    values: pulumi.Output[dict[str, str]] = pulumi.Output.all(**secrets)
    return values.apply(secrets_json)


def _project_relative(path: Path) -> str:
    """Path as the commands see it: they run in the project directory (Pulumi's cwd)."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
