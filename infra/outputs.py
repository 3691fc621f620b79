"""What the program shows the outside, each name written once: the stack output names, the type
tokens of its components and the default monthly budget. No pulumi import: ops/, the policy pack
and the tests read these without loading the Pulumi SDK."""

from __future__ import annotations

from typing import Final

BUDGET_USD: Final = 50.0
"""Plan T-20260219-003 stop criterion (phases 1 and 2): monthly cost above $50. The default of
`monthlyBudgetUsd`, the policy pack's `maxMonthlyUsd` and the phase documents' cost judge."""

# --- Stack outputs (`pulumi stack output <name>`) -----------------------------------------------

WORKER_URL: Final = "workerUrl"
HOSTNAME: Final = "hostname"
WORKER_NAME: Final = "workerName"
ACCESS_AUD: Final = "accessAud"
ACCESS_TEAM_DOMAIN: Final = "accessTeamDomain"
ACCESS_APPLICATION_ID: Final = "accessApplicationId"
BUCKET_NAME: Final = "bucketName"
AI_GATEWAY_ID: Final = "aiGatewayId"
AI_GATEWAY_BASE_URL: Final = "aiGatewayBaseUrl"
AI_GATEWAY_ANTHROPIC_URL: Final = "aiGatewayAnthropicUrl"
AI_GATEWAY_OPENAI_URL: Final = "aiGatewayOpenaiUrl"
SSM_PARAMETER_NAMES: Final = "ssmParameterNames"
WORKER_SECRET_NAMES: Final = "workerSecretNames"  # noqa: S105 (an output name)
INSTANCE_TYPE: Final = "instanceType"
MAX_INSTANCES: Final = "maxInstances"
SLEEP_AFTER: Final = "sleepAfter"
OPENCLAW_VERSION: Final = "openclawVersion"
SANDBOX_VERSION: Final = "sandboxVersion"
ENVIRONMENT: Final = "environment"
DEBUG_ROUTES: Final = "debugRoutes"
COST_ESTIMATE: Final = "costEstimate"
R2_ACCESS_KEY_ID: Final = "r2AccessKeyId"
R2_SECRET_ACCESS_KEY: Final = "r2SecretAccessKey"  # noqa: S105 (an output name)
PROBE_ACCESS_CLIENT_ID: Final = "probeAccessClientId"
PROBE_ACCESS_CLIENT_SECRET: Final = "probeAccessClientSecret"  # noqa: S105 (an output name)

OUTPUTS: Final = frozenset(
    {
        WORKER_URL,
        HOSTNAME,
        WORKER_NAME,
        ACCESS_AUD,
        ACCESS_TEAM_DOMAIN,
        ACCESS_APPLICATION_ID,
        BUCKET_NAME,
        AI_GATEWAY_ID,
        AI_GATEWAY_BASE_URL,
        AI_GATEWAY_ANTHROPIC_URL,
        AI_GATEWAY_OPENAI_URL,
        SSM_PARAMETER_NAMES,
        WORKER_SECRET_NAMES,
        INSTANCE_TYPE,
        MAX_INSTANCES,
        SLEEP_AFTER,
        OPENCLAW_VERSION,
        SANDBOX_VERSION,
        ENVIRONMENT,
        DEBUG_ROUTES,
        COST_ESTIMATE,
        R2_ACCESS_KEY_ID,
        R2_SECRET_ACCESS_KEY,
        PROBE_ACCESS_CLIENT_ID,
        PROBE_ACCESS_CLIENT_SECRET,
    }
)
"""Every stack output; the probe's two only with `accessProbeServiceToken`."""
PROBE_OUTPUTS: Final = frozenset({PROBE_ACCESS_CLIENT_ID, PROBE_ACCESS_CLIENT_SECRET})
SECRET_OUTPUTS: Final = frozenset(
    {R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, PROBE_ACCESS_CLIENT_SECRET}
)
"""Outputs that are secret-marked (shown as [secret] by `pulumi stack output`)."""

# --- Component type tokens (part of every URN: changing one needs `aliases`) -------------------

BACKUP_BUCKET_TYPE: Final = "openclaw-edge:r2:BackupBucket"
ACCESS_GATE_TYPE: Final = "openclaw-edge:access:AccessGate"
LLM_GATEWAY_TYPE: Final = "openclaw-edge:ai:LlmGateway"
SECRET_STORE_TYPE: Final = "openclaw-edge:ssm:SecretStore"  # noqa: S105 (a type token)
WORKER_DEPLOY_TYPE: Final = "openclaw-edge:worker:WorkerDeploy"
WORKER_HOSTNAME_TYPE: Final = "openclaw-edge:hostname:WorkerHostname"
COST_GUARD_TYPE: Final = "openclaw-edge:cost:CostGuard"
