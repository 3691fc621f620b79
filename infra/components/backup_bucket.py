"""R2 backup bucket and the S3 credentials the container's restic uses, created by the stack:
an account API token limited to this bucket (access key id = token id, secret = SHA-256 of the
token value). No dashboard step."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from infra.outputs import BACKUP_BUCKET_TYPE

# Permission groups that give object read/write on one bucket (names as the API lists them).
R2_PERMISSION_GROUPS = (
    "Workers R2 Storage Bucket Item Read",
    "Workers R2 Storage Bucket Item Write",
)
BUCKET_BINDING = "BACKUP_BUCKET"


@dataclass(frozen=True)
class BackupBucketArgs:
    account_id: str
    """Cloudflare account id."""
    bucket_name: str
    """Physical bucket name (`bucketName`; default `openclaw-edge-<stack>-data`)."""
    location: str | None = None
    """Location hint (`bucketLocation`); default none (Cloudflare picks)."""
    protect: bool = True
    """Refuse `pulumi destroy` of the bucket unless the user opts out (`protectBucket`)."""
    adopt: bool = False
    """Import an existing bucket of that name instead of creating it (`adoptBucket`)."""


def bucket_token_resources(account_id: str, bucket_name: str) -> str:
    """The token policy's resource map: exactly one bucket, default jurisdiction. Compact, as
    Terraform's jsonencode writes it (and the API returns it), so the stored value does not
    show a whitespace-only diff on every preview."""
    return json.dumps(
        {f"com.cloudflare.edge.r2.bucket.{account_id}_default_{bucket_name}": "*"},
        separators=(",", ":"),
    )


def s3_secret_from_token(token_value: str) -> str:
    """R2's S3 secret access key is the SHA-256 hex digest of the API token value."""
    return hashlib.sha256(token_value.encode()).hexdigest()


class BackupBucket(pulumi.ComponentResource):
    """The bucket restic writes encrypted snapshots to, plus its bucket-scoped credentials."""

    bucket: cloudflare.R2Bucket
    token: cloudflare.AccountToken
    bucket_name: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]

    def __init__(
        self, name: str, args: BackupBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(BACKUP_BUCKET_TYPE, name, None, opts)
        self.bucket = cloudflare.R2Bucket(
            f"{name}-bucket",
            account_id=args.account_id,
            name=args.bucket_name,
            location=args.location,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                import_=f"{args.account_id}/{args.bucket_name}/default" if args.adopt else None,
            ),
        )
        groups = cloudflare.get_account_api_token_permission_groups_list_output(
            account_id=args.account_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        group_ids = groups.results.apply(
            lambda results: _permission_group_ids([(g.name, g.id) for g in results])
        )
        self.token = cloudflare.AccountToken(
            f"{name}-s3-token",
            account_id=args.account_id,
            name=f"{args.bucket_name}-backups",
            policies=[
                cloudflare.AccountTokenPolicyArgs(
                    effect="allow",
                    resources=self.bucket.name.apply(
                        lambda bucket: bucket_token_resources(args.account_id, bucket)
                    ),
                    permission_groups=group_ids.apply(
                        lambda ids: [
                            cloudflare.AccountTokenPolicyPermissionGroupArgs(id=i) for i in ids
                        ]
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["value"]),
        )
        self.bucket_name = self.bucket.name
        self.access_key_id = pulumi.Output.secret(self.token.id)
        self.secret_access_key = pulumi.Output.secret(self.token.value.apply(s3_secret_from_token))
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "accessKeyId": self.access_key_id,
                "secretAccessKey": self.secret_access_key,
            }
        )

    def wrangler_binding(self) -> pulumi.Output[dict[str, str]]:
        """The fragment the Worker deploy puts under `r2_buckets`."""
        return self.bucket_name.apply(lambda b: {"binding": BUCKET_BINDING, "bucket_name": b})


def _permission_group_ids(groups: list[tuple[str, str]]) -> list[str]:
    by_name = dict(groups)
    missing = [g for g in R2_PERMISSION_GROUPS if g not in by_name]
    if missing:
        raise ValueError(
            f"Cloudflare returned no permission group named {', '.join(missing)}; the API token "
            "used by Pulumi needs 'Account API Tokens: Edit' to list and grant them"
        )
    return [by_name[g] for g in R2_PERMISSION_GROUPS]
