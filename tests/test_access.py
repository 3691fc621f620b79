"""Zero Trust Access: reusable allow policy + self-hosted application covering the hostname."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.pulumi_harness import ACCOUNT, IDP, one, run

POLICY = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy"
APP = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication"


def test_policy_requires_github_login_and_includes_emails_and_org(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        {
            "accessAllowedEmails": ["a@example.com", "b@example.com"],
            "accessGithubOrganization": "boxp",
        },
    )
    policy = one(result, POLICY)
    assert policy.inputs["decision"] == "allow"
    assert policy.inputs["requires"] == [{"loginMethod": {"id": IDP}}]
    assert {"email": {"email": "a@example.com"}} in policy.inputs["includes"]
    assert {"email": {"email": "b@example.com"}} in policy.inputs["includes"]
    assert {"githubOrganization": {"identityProviderId": IDP, "name": "boxp"}} in policy.inputs[
        "includes"
    ]


def test_application_covers_the_worker_hostname(tmp_path: Path) -> None:
    result = run(tmp_path, {"hostname": "bot.example.com"})
    app = one(result, APP)
    assert app.inputs["type"] == "self_hosted"
    assert app.inputs["domain"] == "bot.example.com"
    assert app.inputs["destinations"] == [{"type": "public", "uri": "bot.example.com"}]
    assert app.inputs["allowedIdps"] == [IDP]
    policy_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "access-policy"))  # the mock's id
    assert app.inputs["policies"] == [{"id": policy_id, "precedence": 1}]
    assert app.parent == "access"


def test_aud_and_team_domain_flow_into_worker_vars(tmp_path: Path) -> None:
    result = run(tmp_path)
    rendered = result.stack.worker.config_path.read_text()
    assert result.outputs["accessAud"] in rendered
    assert '"CF_ACCESS_TEAM_DOMAIN": "myteam.cloudflareaccess.com"' in rendered
    assert result.outputs["accessTeamDomain"] == "myteam.cloudflareaccess.com"


def test_adoption_imports_application_and_policy(tmp_path: Path) -> None:
    app_id = "11111111-2222-4333-8444-555555555555"
    policy_id = "66666666-7777-4888-8999-000000000000"
    result = run(tmp_path, {"adoptAccessApplicationId": app_id, "adoptAccessPolicyId": policy_id})
    assert one(result, APP).options["import"] == f"accounts/{ACCOUNT}/{app_id}"
    assert one(result, POLICY).options["import"] == f"{ACCOUNT}/{policy_id}"
