"""Runs the Pulumi program in-process under mocks for the infra tests (no CLI, no cloud)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi

from infra.mock_run import ProgramRun, RecordingMocks, ResourceRecord, execute, plain_strings

ACCOUNT = "0123456789abcdef0123456789abcdef"
ZONE = "fedcba9876543210fedcba9876543210"
IDP = "3f2e1d0c-aaaa-4bbb-8ccc-0123456789ab"

BASE: dict[str, object] = {
    "accountId": ACCOUNT,
    "zoneId": ZONE,
    "zoneName": "example.com",
    "accessTeamDomain": "myteam.cloudflareaccess.com",
    "accessGithubIdpId": IDP,
    "accessAllowedEmails": ["you@example.com"],
}

# Distinct, greppable secret values: none may ever show up outside a secret marker.
SECRETS: dict[str, str] = {
    "MOLTBOT_GATEWAY_TOKEN": "SENTINEL-gateway-token-7f3a9c",
    "BACKUP_PASSWORD": "SENTINEL-backup-password-51be",
    "ANTHROPIC_API_KEY": "SENTINEL-anthropic-key-0d4e2a",
}
TOKEN_VALUE = "SENTINEL-r2-token-value-9c8b7a"


def run(
    tmp_path: Path,
    overrides: Mapping[str, object] | None = None,
    secrets: Mapping[str, str] | None = None,
    parameters: Mapping[str, str] | None = None,
    stack: str = "dev",
) -> ProgramRun:
    values = {**BASE, **(overrides or {})}
    secret_values = dict(SECRETS if secrets is None else secrets)

    def read_secret(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(secret_values[key]) if key in secret_values else None

    return execute(
        stack,
        values,
        read_secret,
        (parameters or {}).get,
        tmp_path / "build",
        RecordingMocks(token_value=TOKEN_VALUE),
    )


def of_type(result: ProgramRun, type_: str) -> list[ResourceRecord]:
    return [r for r in result.mocks.records if r.type == type_]


def one(result: ProgramRun, type_: str, name: str | None = None) -> ResourceRecord:
    found = [r for r in of_type(result, type_) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
    return found[0]


def all_plain_text(result: ProgramRun) -> Iterator[str]:
    """Every string any registration carries outside a secret marker."""
    for record in result.mocks.records:
        for text in plain_strings(record.inputs):
            yield text
        for text in plain_strings(record.options):
            yield text


def is_secret(value: Any) -> bool:
    from pulumi.runtime import rpc

    return bool(rpc.is_rpc_secret(value))
