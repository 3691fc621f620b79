"""AI Gateway and the provider URLs that reach the Worker."""

from __future__ import annotations

from pathlib import Path

from tests.infra.pulumi_harness import ACCOUNT, one, run

GATEWAY = "cloudflare:index/aiGateway:AiGateway"


def test_gateway_settings_from_config(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "aiGatewayId": "bot-gw",
            "aiGatewayCollectLogs": "false",
            "aiGatewayCacheTtl": "300",
            "aiGatewayRateLimit": "100",
            "aiGatewayRateLimitInterval": "60",
            "aiGatewayAuthentication": "true",
            "optionalSecrets": ["AI_GATEWAY_API_KEY"],
        },
        secrets={
            "MOLTBOT_GATEWAY_TOKEN": "t" * 20,
            "BACKUP_PASSWORD": "p" * 20,
            "ANTHROPIC_API_KEY": "k" * 20,
            "AI_GATEWAY_API_KEY": "g" * 20,
        },
    )
    gateway = one(result, GATEWAY)
    assert gateway.inputs["aiGatewayId"] == "bot-gw"
    assert gateway.inputs["collectLogs"] is False
    assert gateway.inputs["cacheTtl"] == 300
    assert gateway.inputs["rateLimitingLimit"] == 100
    assert gateway.inputs["rateLimitingInterval"] == 60
    assert gateway.inputs["authentication"] is True


def test_base_urls_are_outputs_and_a_worker_var(tmp_path: Path) -> None:
    result = run(tmp_path, {"aiGatewayId": "bot-gw"})
    base = f"https://gateway.ai.cloudflare.com/v1/{ACCOUNT}/bot-gw"
    assert result.outputs["aiGatewayBaseUrl"] == base
    assert result.outputs["aiGatewayAnthropicUrl"] == f"{base}/anthropic"
    assert result.outputs["aiGatewayOpenaiUrl"] == f"{base}/openai"
    assert f'"AI_GATEWAY_BASE_URL": "{base}"' in result.stack.worker.config_path.read_text()


def test_adopting_imports_the_gateway(tmp_path: Path) -> None:
    result = run(tmp_path, {"aiGatewayId": "bot-gw", "adoptAiGateway": "true"})
    assert one(result, GATEWAY).options["import"] == f"{ACCOUNT}/bot-gw"
