"""Pulumi entry point: config -> components -> outputs (all in infra/program.py)."""

import pulumi

from infra.components.secret_store import pulumi_secret_reader, ssm_parameter_reader
from infra.config import NAMESPACE, PulumiSource
from infra.program import build_stack

config = pulumi.Config(NAMESPACE)
build_stack(
    source=PulumiSource(config.get),
    read_secret=pulumi_secret_reader(config),
    read_parameter=ssm_parameter_reader(),
    api_token=pulumi.Config("cloudflare").get_secret("apiToken"),
)
