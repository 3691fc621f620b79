"""The public hostname of the Worker (e.g. moltworker.<zone>) as a Workers custom domain: Cloudflare
creates the DNS record and certificate. Declared after the deploy AND the secrets, so the
hostname goes live only once the Worker has its gateway token and credentials.

A hostname that already has a DNS record (e.g. the Tunnel CNAME of a Kubernetes deployment)
makes Cloudflare refuse the custom domain: HTTP 409, error 100117 "Hostname '<host>' already has
externally managed DNS records (A, CNAME, etc). Delete them first or try a different hostname."
The README (Adopting what Terraform already created) gives the step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.outputs import WORKER_HOSTNAME_TYPE


@dataclass(frozen=True)
class WorkerHostnameArgs:
    account_id: str
    """Cloudflare account id."""
    zone_id: str
    """Zone that holds the hostname (`zoneId`)."""
    hostname: str
    """Full hostname (`hostname`; default `moltworker.<zoneName>`)."""
    worker_name: str
    """The Worker (service) the hostname routes to. A change is an in-place update (the
    provider replaces only on hostname or account_id, workers_custom_domain/schema.go)."""


class WorkerHostname(pulumi.ComponentResource):
    """A Workers custom domain bound to the deployed Worker."""

    domain: cloudflare.WorkersCustomDomain
    hostname: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: WorkerHostnameArgs,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(WORKER_HOSTNAME_TYPE, name, None, opts)
        self.domain = cloudflare.WorkersCustomDomain(
            f"{name}-domain",
            account_id=args.account_id,
            zone_id=args.zone_id,
            hostname=args.hostname,
            service=args.worker_name,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        self.hostname = self.domain.hostname
        self.url = self.domain.hostname.apply(lambda h: f"https://{h}")
        self.register_outputs({"hostname": self.hostname, "url": self.url})
