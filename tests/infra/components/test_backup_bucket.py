"""R2 bucket and the bucket-scoped S3 credentials the stack creates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from infra.components.backup_bucket import (
    R2_PERMISSION_GROUPS,
    bucket_token_resources,
    s3_secret_from_token,
)
from tests.infra.pulumi_harness import ACCOUNT, TOKEN_VALUE, is_secret, one, run

BUCKET = "cloudflare:index/r2Bucket:R2Bucket"
TOKEN = "cloudflare:index/accountToken:AccountToken"


def test_bucket_is_protected_and_named_from_config(tmp_path: Path) -> None:
    result = run(tmp_path, {"bucketName": "moltbot-data", "bucketLocation": "apac"})
    bucket = one(result, BUCKET)
    assert bucket.inputs["name"] == "moltbot-data"
    assert bucket.inputs["location"] == "apac"
    assert bucket.inputs["accountId"] == ACCOUNT
    assert bucket.options.get("protect") is True, bucket
    assert bucket.parent == "backups"


def test_protection_can_be_turned_off(tmp_path: Path) -> None:
    bucket = one(run(tmp_path, {"protectBucket": "false"}), BUCKET)
    assert "protect" not in bucket.options


def test_adopting_imports_the_existing_bucket(tmp_path: Path) -> None:
    bucket = one(run(tmp_path, {"bucketName": "moltbot-data", "adoptBucket": "true"}), BUCKET)
    assert bucket.options["import"] == f"{ACCOUNT}/moltbot-data/default"


def test_token_is_limited_to_the_bucket_with_read_write_groups(tmp_path: Path) -> None:
    result = run(tmp_path, {"bucketName": "moltbot-data"})
    token = one(result, TOKEN)
    (policy,) = token.inputs["policies"]
    assert policy["effect"] == "allow"
    assert json.loads(policy["resources"]) == {
        f"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_moltbot-data": "*"
    }
    expected_ids = [hashlib.md5(n.encode()).hexdigest() for n in R2_PERMISSION_GROUPS]  # noqa: S324
    assert [g["id"] for g in policy["permissionGroups"]] == expected_ids


def test_credentials_are_derived_and_secret(tmp_path: Path) -> None:
    result = run(tmp_path)
    token_id = hashlib.sha256(b"backups-s3-token").hexdigest()[:32]
    assert result.outputs["r2AccessKeyId"] == token_id
    assert result.outputs["r2SecretAccessKey"] == s3_secret_from_token(TOKEN_VALUE)
    assert {"r2AccessKeyId", "r2SecretAccessKey"} <= result.secret_outputs
    command = one(result, "command:local:Command", "worker-secrets")
    assert is_secret(command.inputs["stdin"])
    values = json.loads(command.inputs["stdin"]["value"])
    assert values["R2_ACCESS_KEY_ID"] == token_id
    assert values["R2_SECRET_ACCESS_KEY"] == result.outputs["r2SecretAccessKey"]


def test_token_resources_are_compact_json_as_terraform_writes_them() -> None:
    """Defect 10: Terraform's jsonencode (and the API) store the map without spaces; a spaced
    string would show as a diff of the stored value on every preview."""
    assert bucket_token_resources("a" * 32, "moltbot-data") == (
        '{"com.cloudflare.edge.r2.bucket.' + "a" * 32 + '_default_moltbot-data":"*"}'
    )


# SHA-256 of "abc", the FIPS 180-2 example (appendix B.1).
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_helpers() -> None:
    # R2's S3 secret access key is the SHA-256 hex digest of the API token's value.
    assert s3_secret_from_token("abc") == ABC_SHA256
    assert json.loads(bucket_token_resources("a" * 32, "b")) == {
        f"com.cloudflare.edge.r2.bucket.{'a' * 32}_default_b": "*"
    }
