"""The Worker hostname as a Workers custom domain, declared after the deploy and the secrets."""

from __future__ import annotations

from pathlib import Path

from tests.infra.pulumi_harness import ACCOUNT, ZONE, one, run

DOMAIN = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"


def test_custom_domain_goes_live_after_the_deploy_and_the_secrets(tmp_path: Path) -> None:
    """Defect 12: a public hostname on a Worker without its gateway token or R2 credentials would
    serve errors (or worse) until the secrets land."""
    result = run(tmp_path, {"hostname": "bot.example.com", "workerName": "moltbot-sandbox"})
    domain = one(result, DOMAIN)
    assert domain.inputs == {
        "accountId": ACCOUNT,
        "zoneId": ZONE,
        "hostname": "bot.example.com",
        "service": "moltbot-sandbox",
    }
    assert domain.options["dependsOn"] == ["worker-deploy", "worker-secrets"]
    assert result.outputs["hostname"] == "bot.example.com"
    assert result.outputs["workerUrl"] == "https://bot.example.com"
