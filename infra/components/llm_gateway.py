"""AI Gateway for the assistant's LLM traffic (logs, cache, rate limit) and the provider base URLs
that flow into the Worker and container configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.config import AiGatewaySettings
from infra.outputs import LLM_GATEWAY_TYPE

GATEWAY_HOST = "https://gateway.ai.cloudflare.com/v1"
PROVIDERS = ("anthropic", "openai")


def gateway_base_url(account_id: str, gateway_id: str) -> str:
    """Root URL of a gateway; a provider's URL is this plus `/<provider>`."""
    return f"{GATEWAY_HOST}/{account_id}/{gateway_id}"


@dataclass(frozen=True)
class LlmGatewayArgs:
    account_id: str
    """Cloudflare account id."""
    settings: AiGatewaySettings
    """Gateway id, log collection, cache TTL, rate limit, authentication."""
    adopt: bool = False
    """Import an existing gateway with this id (`adoptAiGateway`)."""


class LlmGateway(pulumi.ComponentResource):
    """One AI Gateway; exposes its base URL and per-provider URLs."""

    gateway: cloudflare.AiGateway
    gateway_id: pulumi.Output[str]
    base_url: pulumi.Output[str]
    provider_urls: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: LlmGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(LLM_GATEWAY_TYPE, name, None, opts)
        s = args.settings
        self.gateway = cloudflare.AiGateway(
            f"{name}-gateway",
            account_id=args.account_id,
            ai_gateway_id=s.gateway_id,
            collect_logs=s.collect_logs,
            cache_ttl=s.cache_ttl,
            cache_invalidate_on_update=True,
            rate_limiting_limit=s.rate_limit,
            rate_limiting_interval=s.rate_limit_interval,
            rate_limiting_technique="sliding",
            authentication=s.authentication,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=f"{args.account_id}/{s.gateway_id}" if args.adopt else None,
            ),
        )
        self.gateway_id = pulumi.Output.from_input(s.gateway_id)
        base = gateway_base_url(args.account_id, s.gateway_id)
        # The URLs are only valid once the gateway exists, so they carry its dependency.
        self.base_url = self.gateway.id.apply(lambda _id: base)
        self.provider_urls = {p: self.base_url.apply(_join(p)) for p in PROVIDERS}
        self.register_outputs(
            {"gatewayId": self.gateway_id, "baseUrl": self.base_url, **self.provider_urls}
        )


def _join(provider: str) -> Callable[[str], str]:
    return lambda base: f"{base}/{provider}"
