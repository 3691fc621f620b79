"""Zero Trust Access: reusable allow policy + self-hosted application covering the hostname."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.infra.pulumi_harness import ACCOUNT, IDP, all_plain_text, of_type, one, run

POLICY = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy"
APP = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication"
TOKEN = "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken"


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
    app = one(result, APP, "access-app")
    assert app.inputs["type"] == "self_hosted"
    assert app.inputs["domain"] == "bot.example.com"
    assert app.inputs["destinations"] == [{"type": "public", "uri": "bot.example.com"}]
    assert app.inputs["allowedIdps"] == [IDP]
    policy_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "access-policy"))  # the mock's id
    assert app.inputs["policies"] == [{"id": policy_id, "precedence": 1}]
    assert app.parent == "access"


def test_application_cookie_is_lax_and_http_only(tmp_path: Path) -> None:
    """Access would default to SameSite=None, sending the login along with any site's form post."""
    for index, overrides in enumerate(({}, {"accessProbeServiceToken": True})):
        apps = of_type(run(tmp_path / str(index), overrides), APP)
        assert {app.name for app in apps} == {"access-app", "access-cdp-bypass"}
        for app in apps:
            urn = f"{APP}::{app.name}"
            assert app.inputs["sameSiteCookieAttribute"] == "lax", urn
            assert app.inputs["httpOnlyCookieAttribute"] is True, urn


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
    assert one(result, APP, "access-app").options["import"] == f"accounts/{ACCOUNT}/{app_id}"
    assert one(result, POLICY).options["import"] == f"{ACCOUNT}/{policy_id}"


def test_no_probe_service_token_unless_asked(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert of_type(result, TOKEN) == []
    assert len(of_type(result, POLICY)) == 1
    assert "probeAccessClientId" not in result.outputs


def test_probe_service_token_gets_a_non_identity_policy_on_the_app(tmp_path: Path) -> None:
    result = run(tmp_path, {"hostname": "bot.example.com", "accessProbeServiceToken": True})
    token = one(result, TOKEN)
    assert token.inputs["accountId"] == ACCOUNT
    assert token.inputs["name"] == "bot.example.com latency probe"
    assert token.parent == "access"
    probe_policy = one(result, POLICY, "access-probe-policy")
    assert probe_policy.inputs["decision"] == "non_identity"
    token_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "access-probe-token"))  # the mock's id
    assert probe_policy.inputs["includes"] == [{"serviceToken": {"tokenId": token_id}}]
    # The people policy keeps precedence 1 and still requires the GitHub login.
    assert one(result, POLICY, "access-policy").inputs["requires"] == [{"loginMethod": {"id": IDP}}]
    app = one(result, APP, "access-app")
    assert app.inputs["policies"] == [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "access-policy")), "precedence": 1},
        {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "access-probe-policy")), "precedence": 2},
    ]
    # Client id is a plain output; the secret is a secret output and in no plain text.
    assert result.outputs["probeAccessClientId"].endswith(".access")
    assert "probeAccessClientSecret" in result.secret_outputs
    assert "probeAccessClientId" not in result.secret_outputs
    secret = result.outputs["probeAccessClientSecret"]
    assert secret.startswith("mock-client-secret-")
    assert not any(secret in text for text in all_plain_text(result))


def test_cdp_paths_bypass_access_on_their_own_path_scoped_application(tmp_path: Path) -> None:
    """Access runs before the Worker: DevTools clients reach the CDP_SECRET check only so."""
    result = run(tmp_path, {"hostname": "bot.example.com"})
    bypass = one(result, APP, "access-cdp-bypass")
    assert bypass.parent == "access"
    assert bypass.inputs["type"] == "self_hosted"
    assert bypass.inputs["domain"] == "bot.example.com/cdp"
    assert bypass.inputs["destinations"] == [
        {"type": "public", "uri": "bot.example.com/cdp"},
        {"type": "public", "uri": "bot.example.com/cdp/*"},
    ]
    assert bypass.inputs["appLauncherVisible"] is False
    assert [p["decision"] for p in bypass.inputs["policies"]] == ["bypass"]
    assert bypass.inputs["policies"][0]["includes"] == [{"everyone": {}}]
    # The login application still covers the whole host, and nothing else bypasses it.
    app = one(result, APP, "access-app")
    assert app.inputs["destinations"] == [{"type": "public", "uri": "bot.example.com"}]
    assert all(p.inputs["decision"] != "bypass" for p in of_type(result, POLICY))
