"""Zero Trust Access in front of the Worker hostname: a reusable allow policy (GitHub login method,
allowed emails and/or a GitHub organisation) and a self-hosted application covering the hostname.
Its AUD and the team domain flow into the Worker's vars for JWT verification.

With `accessProbeServiceToken`, also a service token and a `non_identity` policy admitting only
that token, so the latency probe (plan item 2-5) can log in without a browser.

One path-scoped bypass application covers `<host>/cdp` and `<host>/cdp/*`: Access runs before the
Worker, so without it a DevTools client (which has no Access cookie) never reaches the Worker's
own CDP_SECRET check. Access applies the most specific application's policy; every other path
stays behind the login (and the Worker checks the Access JWT itself on every non-/cdp route)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.config import AccessSettings
from infra.outputs import ACCESS_GATE_TYPE

COOKIE_SAME_SITE = "lax"
"""SameSite of the CF_Authorization cookie on the Worker's hostname (the policy pack checks it)."""


@dataclass(frozen=True)
class AccessGateArgs:
    account_id: str
    """Cloudflare account id."""
    hostname: str
    """The Worker hostname the application covers (whole host, every path)."""
    settings: AccessSettings
    """Team domain, GitHub IdP id, allowed emails / organisation, session length."""
    application_id: str | None = None
    """Adopt this existing application instead of creating one (`adoptAccessApplicationId`)."""
    policy_id: str | None = None
    """Adopt this existing reusable policy (`adoptAccessPolicyId`)."""


CDP_PATHS = ("/cdp", "/cdp/*")
"""The only paths that skip Access: the Worker's CDP shim (routes/cdp.ts), guarded by CDP_SECRET."""


def cdp_bypass_uris(hostname: str) -> list[str]:
    return [f"{hostname}{path}" for path in CDP_PATHS]


class AccessGate(pulumi.ComponentResource):
    """Login in front of the Worker: only what this policy allows reaches it."""

    policy: cloudflare.ZeroTrustAccessPolicy
    application: cloudflare.ZeroTrustAccessApplication
    cdp_bypass: cloudflare.ZeroTrustAccessApplication
    probe_token: cloudflare.ZeroTrustAccessServiceToken | None
    probe_policy: cloudflare.ZeroTrustAccessPolicy | None
    aud: pulumi.Output[str]
    team_domain: str

    def __init__(
        self, name: str, args: AccessGateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ACCESS_GATE_TYPE, name, None, opts)
        s = args.settings
        includes: list[cloudflare.ZeroTrustAccessPolicyIncludeArgs] = [
            cloudflare.ZeroTrustAccessPolicyIncludeArgs(
                email=cloudflare.ZeroTrustAccessPolicyIncludeEmailArgs(email=email)
            )
            for email in s.allowed_emails
        ]
        if s.github_organization:
            includes.append(
                cloudflare.ZeroTrustAccessPolicyIncludeArgs(
                    github_organization=cloudflare.ZeroTrustAccessPolicyIncludeGithubOrganizationArgs(
                        identity_provider_id=s.github_idp_id, name=s.github_organization
                    )
                )
            )
        self.policy = cloudflare.ZeroTrustAccessPolicy(
            f"{name}-policy",
            account_id=args.account_id,
            name=f"{args.hostname} allow",
            decision="allow",
            includes=includes,
            requires=[
                cloudflare.ZeroTrustAccessPolicyRequireArgs(
                    login_method=cloudflare.ZeroTrustAccessPolicyRequireLoginMethodArgs(
                        id=s.github_idp_id
                    )
                )
            ],
            session_duration=s.session_duration.text,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=f"{args.account_id}/{args.policy_id}" if args.policy_id else None,
            ),
        )
        policies = [
            cloudflare.ZeroTrustAccessApplicationPolicyArgs(id=self.policy.id, precedence=1)
        ]
        self.probe_token = self.probe_policy = None
        if s.probe_service_token:
            self.probe_token = cloudflare.ZeroTrustAccessServiceToken(
                f"{name}-probe-token",
                account_id=args.account_id,
                name=f"{args.hostname} latency probe",
                duration="8760h",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.probe_policy = cloudflare.ZeroTrustAccessPolicy(
                f"{name}-probe-policy",
                account_id=args.account_id,
                name=f"{args.hostname} latency probe",
                decision="non_identity",
                includes=[
                    cloudflare.ZeroTrustAccessPolicyIncludeArgs(
                        service_token=cloudflare.ZeroTrustAccessPolicyIncludeServiceTokenArgs(
                            token_id=self.probe_token.id
                        )
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            policies.append(
                cloudflare.ZeroTrustAccessApplicationPolicyArgs(
                    id=self.probe_policy.id, precedence=2
                )
            )
        self.application = cloudflare.ZeroTrustAccessApplication(
            f"{name}-app",
            account_id=args.account_id,
            name=args.hostname,
            type="self_hosted",
            domain=args.hostname,
            destinations=[
                cloudflare.ZeroTrustAccessApplicationDestinationArgs(
                    type="public", uri=args.hostname
                )
            ],
            allowed_idps=[s.github_idp_id],
            auto_redirect_to_identity=True,
            app_launcher_visible=True,
            session_duration=s.session_duration.text,
            policies=policies,
            # Access's defaults are SameSite=None and no HttpOnly: any site's form post would
            # carry the login. Lax keeps it on top-level navigations (links from chat apps) and
            # same-site requests (the Control UI); Strict breaks the login redirect chain
            # (Access docs: ERR_TOO_MANY_REDIRECTS). No page script reads the cookie.
            same_site_cookie_attribute=COOKIE_SAME_SITE,
            http_only_cookie_attribute=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=(
                    f"accounts/{args.account_id}/{args.application_id}"
                    if args.application_id
                    else None
                ),
            ),
        )
        # An app-scoped (inline) bypass policy, so the policy pack sees the decision on the app.
        self.cdp_bypass = cloudflare.ZeroTrustAccessApplication(
            f"{name}-cdp-bypass",
            account_id=args.account_id,
            name=f"{args.hostname} CDP shim (guarded by CDP_SECRET)",
            type="self_hosted",
            domain=cdp_bypass_uris(args.hostname)[0],
            destinations=[
                cloudflare.ZeroTrustAccessApplicationDestinationArgs(type="public", uri=uri)
                for uri in cdp_bypass_uris(args.hostname)
            ],
            app_launcher_visible=False,
            # No login here, but the cookie rules of the pack hold for every application.
            same_site_cookie_attribute=COOKIE_SAME_SITE,
            http_only_cookie_attribute=True,
            policies=[
                cloudflare.ZeroTrustAccessApplicationPolicyArgs(
                    name="CDP shim: the Worker checks CDP_SECRET",
                    decision="bypass",
                    includes=[
                        cloudflare.ZeroTrustAccessApplicationPolicyIncludeArgs(
                            # The generated class takes no arguments and has no annotation.
                            everyone=cloudflare.ZeroTrustAccessApplicationPolicyIncludeEveryoneArgs()  # type: ignore[no-untyped-call]
                        )
                    ],
                    precedence=1,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.aud = self.application.aud
        self.team_domain = s.team_domain
        self.register_outputs({"aud": self.aud, "teamDomain": self.team_domain})

    def probe_credentials(self) -> tuple[pulumi.Output[str], pulumi.Output[str]] | None:
        """(client id, client secret) of the probe's service token; the secret stays secret."""
        if self.probe_token is None:
            return None
        return self.probe_token.client_id, pulumi.Output.secret(self.probe_token.client_secret)

    def worker_vars(self) -> pulumi.Output[dict[str, str]]:
        """The fragment of Worker vars the Access JWT check needs."""
        return self.aud.apply(
            lambda aud: {"CF_ACCESS_AUD": aud, "CF_ACCESS_TEAM_DOMAIN": self.team_domain}
        )
