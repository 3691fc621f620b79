"""Checks of the edge: DNS and TLS, Access in front, the service token reaching the Worker."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ops.verify.base import VerifierBase
from ops.verify.model import Failed, Skipped


class EdgeChecks(VerifierBase):
    """dns_tls, access, service_token."""

    def check_dns_tls(self) -> tuple[str, dict[str, Any]]:
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme == "http":
            if self.local:
                raise Skipped(f"{self.url} is on this machine: no DNS name or certificate")
            raise Failed(f"workerUrl {self.url} is plain HTTP", "serve it over HTTPS")
        try:
            infos = socket.getaddrinfo(self.host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise Failed(
                f"{self.host} does not resolve ({exc.strerror})",
                "a new Workers custom domain takes a few minutes; check the zone's DNS and "
                "that `pulumi up` created the custom domain",
            ) from exc
        addresses = sorted({str(info[4][0]) for info in infos})
        context = ssl.create_default_context()
        try:
            with (
                socket.create_connection((self.host, port), timeout=self.timeout) as raw,
                context.wrap_socket(raw, server_hostname=self.host) as tls,
            ):
                cert = tls.getpeercert() or {}
                version = tls.version()
        except ssl.SSLCertVerificationError as exc:
            raise Failed(
                f"TLS certificate of {self.host} not trusted: {exc.verify_message}",
                "a new custom domain's certificate is issued within minutes; retry, or check "
                "SSL/TLS → Edge Certificates for the zone",
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise Failed(
                f"no TLS connection to {self.host}:{port}: {exc}",
                "check that the hostname is proxied by Cloudflare",
            ) from exc
        issuer: dict[str, str] = {}
        for rdn in cert.get("issuer", ()):
            for pair in rdn:
                if isinstance(pair, tuple) and len(pair) == 2:
                    issuer[str(pair[0])] = str(pair[1])
        not_after = str(cert.get("notAfter", ""))
        days = None
        if not_after:
            days = round((ssl.cert_time_to_seconds(not_after) - time.time()) / 86400, 1)
        by = issuer.get("organizationName") or issuer.get("commonName")
        facts = {
            "host": self.host,
            "addresses": addresses,
            "tls": {"version": version, "issuer": by, "notAfter": not_after, "daysLeft": days},
        }
        return (
            f"{self.host} -> {', '.join(addresses)}; {version}, certificate by {by} valid "
            f"{days} more days",
            facts,
        )

    def check_access(self) -> tuple[str, dict[str, Any]]:
        team = str(self.outputs.get("accessTeamDomain") or "")
        try:
            answer = self.client.request("GET", "/", auth=False)
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"{self.url} unreachable: {exc}", "check DNS/TLS above") from exc
        location = answer.headers.get("location", "")
        facts = {"status": answer.status, "location": location or None, "enforced": False}
        if answer.status in (301, 302, 303, 307, 308):
            target = urlsplit(location)
            if target.netloc == team and target.path.startswith("/cdn-cgi/access/login/"):
                facts["enforced"] = True
                return f"HTTP {answer.status} to the Access login at {team}", facts
            raise Failed(
                f"HTTP {answer.status} to {location}, not to the Access login of {team or '?'}",
                "the Access application must cover this hostname (accessTeamDomain output)",
            )
        body = answer.json()
        if (
            answer.status == 401
            and isinstance(body, Mapping)
            and body.get("error") == ("unauthorized")
        ):
            raise Failed(
                "the Worker's own JWT check answered (HTTP 401): Cloudflare Access is not in "
                f"front of {self.host}",
                "the Access application must cover this hostname on all paths (policy "
                "access-covers-worker-hostname); check Zero Trust → Access → Applications",
            )
        if answer.status in (401, 403):
            facts["enforced"] = True
            return f"refused with HTTP {answer.status} before the Worker", facts
        raise Failed(
            f"answered HTTP {answer.status} without credentials",
            "nothing protects this hostname: add it to the Access application (pulumi up)",
        )

    def check_token(self) -> tuple[str, dict[str, Any]]:
        creds = self.credentials
        if not (creds.client_id and creds.client_secret):
            raise Failed(
                "no Access service token",
                "set accessProbeServiceToken: true and `pulumi up`, then export "
                'CF_ACCESS_CLIENT_SECRET="$(pulumi stack output --show-secrets '
                'probeAccessClientSecret)"',
            )
        try:
            answer = self.client.request("GET", "/sandbox-health")
        except (OSError, http.client.HTTPException) as exc:
            raise Failed(f"{self.url} unreachable: {exc}", "check DNS/TLS above") from exc
        body = answer.json()
        if answer.status in (301, 302, 303, 307, 308):
            raise Failed(
                "Access sent the service token to the login page: no policy admits it",
                "the Access application needs the non_identity policy of this token "
                "(accessProbeServiceToken: true); an expired or revoked token does this too",
            )
        if (
            answer.status == 401
            and isinstance(body, Mapping)
            and body.get("error") == ("unauthorized")
        ):
            raise Failed(
                f"Access admitted the token but the Worker refused its JWT ({body.get('reason')})",
                "the Worker's CF_ACCESS_AUD / CF_ACCESS_TEAM_DOMAIN must be this Access "
                "application's (accessAud, accessTeamDomain outputs): pulumi up",
            )
        if answer.status in (401, 403):
            raise Failed(
                f"Access refused the service token (HTTP {answer.status})",
                "check CF_ACCESS_CLIENT_ID/CF_ACCESS_CLIENT_SECRET against the stack outputs; "
                "`pulumi up --replace <URN of access-probe-token>` issues a new one",
            )
        if answer.status != 200 or not isinstance(body, Mapping):
            raise Failed(
                f"/sandbox-health answered HTTP {answer.status}: {answer.text()}",
                "the Worker is not deployed at this hostname: run `pulumi up`",
            )
        if body.get("service") != "openclaw-edge":
            raise Failed(
                "/sandbox-health is not this project's Worker",
                "the hostname routes to another Worker: check the custom domain",
            )
        expected = self.outputs.get("environment")
        if expected is not None and body.get("environment") != expected:
            raise Failed(
                f"the Worker serves environment {body.get('environment')!r}, outputs say "
                f"{expected!r}",
                "these outputs belong to another stack (pulumi stack select)",
            )
        self.authorized = True
        self.backend = str(body.get("backend") or "") or None
        return (
            f"Worker {body.get('environment')!r} answered, backend {self.backend}",
            {"environment": body.get("environment"), "backend": self.backend},
        )
