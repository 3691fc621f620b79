"""The whole stack: config → components → outputs. `__main__.py`, the tests and the offline plan
all run this one function, so what they check is what `pulumi up` declares."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pulumi

from infra import outputs as out
from infra.catalog import Catalog, load_catalog
from infra.channel_checks import checked_secrets
from infra.components.access_gate import AccessGate, AccessGateArgs
from infra.components.backup_bucket import BackupBucket, BackupBucketArgs
from infra.components.cost_guard import CostGuard, CostGuardArgs
from infra.components.llm_gateway import LlmGateway, LlmGatewayArgs
from infra.components.secret_store import (
    ParameterReader,
    SecretReader,
    SecretStore,
    SecretStoreArgs,
    needed_secrets,
    required_optional,
)
from infra.components.worker_deploy import WorkerDeploy, WorkerDeployArgs, stack_vars
from infra.components.worker_hostname import WorkerHostname, WorkerHostnameArgs
from infra.config import REPO_ROOT, ConfigSource, StackConfig, load_config
from infra.cost import CostInputs, estimate
from infra.sleep_warnings import chat_channels, sleep_warnings

SANDBOX_PIN = re.compile(r'"@cloudflare/sandbox":\s*"([^"]+)"')


@dataclass
class Stack:
    """Handles on every component, for tests and the offline plan."""

    config: StackConfig
    bucket: BackupBucket
    access: AccessGate
    ai_gateway: LlmGateway
    secrets: SecretStore
    worker: WorkerDeploy
    hostname: WorkerHostname
    cost: CostGuard
    warnings: list[str]
    """Valid but probably unintended settings, shown by `pulumi preview` and the offline plan."""


def sandbox_version(root: Path = REPO_ROOT) -> str | None:
    """The exact @cloudflare/sandbox pin of the Worker (= the container base image tag)."""
    package = root / "worker" / "package.json"
    match = SANDBOX_PIN.search(package.read_text()) if package.is_file() else None
    return match.group(1) if match else None


def build_stack(
    source: ConfigSource,
    read_secret: SecretReader,
    read_parameter: ParameterReader,
    api_token: pulumi.Output[str] | None = None,
    catalog: Catalog | None = None,
    build_dir: Path | None = None,
    export: Callable[[str, object], None] = pulumi.export,
    source_root: Path | None = None,
) -> Stack:
    catalog = catalog or load_catalog()
    config = load_config(source, pulumi.get_stack(), catalog)

    # First: `pulumi up` (which skips the preview) runs each resource policy as the resource
    # registers, so an over-budget CostGuard stops the update before anything is created.
    cost_inputs = CostInputs(
        instance_type=config.instance_type,
        sleep_after=config.sleep_after,
        active_hours_per_day=config.cost.active_hours_per_day,
        max_instances=config.max_instances,
        state_size_mb=config.cost.state_size_mb,
        snapshot_interval_seconds=config.backup_interval_seconds,
        cron_interval_seconds=config.cron.interval_seconds,
    )
    cost = CostGuard(
        "cost", CostGuardArgs(inputs=cost_inputs, budget_usd=config.cost.monthly_budget_usd)
    )

    bucket = BackupBucket(
        "backups",
        BackupBucketArgs(
            account_id=config.account_id,
            bucket_name=config.bucket_name,
            location=config.bucket_location,
            protect=config.protect_bucket,
            adopt=config.adopt.bucket,
        ),
    )
    access = AccessGate(
        "access",
        AccessGateArgs(
            account_id=config.account_id,
            hostname=config.hostname,
            settings=config.access,
            application_id=config.adopt.access_application_id,
            policy_id=config.adopt.access_policy_id,
        ),
    )
    ai_gateway = LlmGateway(
        "llm",
        LlmGatewayArgs(
            account_id=config.account_id, settings=config.ai_gateway, adopt=config.adopt.ai_gateway
        ),
    )
    wanted = needed_secrets(config, catalog, lambda key: read_secret(key) is not None)
    store = SecretStore(
        "secrets",
        SecretStoreArgs(
            prefix=config.ssm_prefix,
            secrets=wanted,
            required={s.name for s in wanted if s.required == "always"} | required_optional(config),
            adopt=config.adopt.ssm_parameters,
        ),
        read_config=read_secret,
        read_parameter=read_parameter,
    )
    worker_secrets = {
        **checked_secrets(store.values, config.worker_vars),
        "R2_ACCESS_KEY_ID": bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": bucket.secret_access_key,
    }
    vars_ = pulumi.Output.all(access.worker_vars(), ai_gateway.base_url).apply(
        lambda parts: {**stack_vars(config), **parts[0], "AI_GATEWAY_BASE_URL": parts[1]}
    )
    worker = WorkerDeploy(
        "worker",
        WorkerDeployArgs(
            config=config,
            vars_=vars_,
            r2_binding=bucket.wrangler_binding(),
            secrets=worker_secrets,
            api_token=api_token,
            **({"build_dir": build_dir} if build_dir else {}),
            **({"source_root": source_root} if source_root else {}),
        ),
    )
    hostname = WorkerHostname(
        "hostname",
        WorkerHostnameArgs(
            account_id=config.account_id,
            zone_id=config.zone_id,
            hostname=config.hostname,
            worker_name=config.worker_name,
        ),
        # Live only after the secrets: a Worker without its gateway token must not be public.
        depends_on=[worker.deploy, worker.secrets],
    )

    export(out.WORKER_URL, hostname.url)
    export(out.HOSTNAME, hostname.hostname)
    export(out.WORKER_NAME, config.worker_name)
    export(out.ACCESS_AUD, access.aud)
    export(out.ACCESS_TEAM_DOMAIN, access.team_domain)
    export(out.ACCESS_APPLICATION_ID, access.application.id)
    export(out.BUCKET_NAME, bucket.bucket_name)
    export(out.AI_GATEWAY_ID, ai_gateway.gateway_id)
    export(out.AI_GATEWAY_BASE_URL, ai_gateway.base_url)
    export(out.AI_GATEWAY_ANTHROPIC_URL, ai_gateway.provider_urls["anthropic"])
    export(out.AI_GATEWAY_OPENAI_URL, ai_gateway.provider_urls["openai"])
    export(out.SSM_PARAMETER_NAMES, store.parameter_names)
    export(out.WORKER_SECRET_NAMES, sorted(worker_secrets))
    export(out.INSTANCE_TYPE, config.instance_type)
    export(out.MAX_INSTANCES, config.max_instances)
    export(out.SLEEP_AFTER, config.sleep_after.text)
    export(out.OPENCLAW_VERSION, config.openclaw_version)
    export(out.SANDBOX_VERSION, sandbox_version())
    export(out.ENVIRONMENT, config.stack)
    export(out.DEBUG_ROUTES, config.debug_routes)
    export(out.COST_ESTIMATE, estimate(cost_inputs).to_output())
    export(out.R2_ACCESS_KEY_ID, bucket.access_key_id)
    export(out.R2_SECRET_ACCESS_KEY, bucket.secret_access_key)
    probe = access.probe_credentials()
    if probe is not None:
        export(out.PROBE_ACCESS_CLIENT_ID, probe[0])
        export(out.PROBE_ACCESS_CLIENT_SECRET, probe[1])
    channels = chat_channels(spec.name for spec in wanted)
    warnings = sleep_warnings(config.sleep_after, config.cron, channels)
    for warning in warnings:
        pulumi.log.warn(warning)
    return Stack(config, bucket, access, ai_gateway, store, worker, hostname, cost, warnings)
