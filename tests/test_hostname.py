"""The Worker hostname as a Workers custom domain, declared after the deploy."""

from __future__ import annotations

from pathlib import Path

from tests.pulumi_harness import ACCOUNT, ZONE, one, run

DOMAIN = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"


def test_custom_domain_binds_hostname_to_worker_after_deploy(tmp_path: Path) -> None:
    result = run(tmp_path, {"hostname": "bot.example.com", "workerName": "moltbot-sandbox"})
    domain = one(result, DOMAIN)
    assert domain.inputs == {
        "accountId": ACCOUNT,
        "zoneId": ZONE,
        "hostname": "bot.example.com",
        "service": "moltbot-sandbox",
    }
    assert domain.options["dependsOn"] == ["worker-deploy"]
    assert result.outputs["hostname"] == "bot.example.com"
    assert result.outputs["workerUrl"] == "https://bot.example.com"
