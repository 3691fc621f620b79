"""The stack's Pulumi components, one per file, each file named after its class
(`backup_bucket.py` holds `BackupBucket`). Their type tokens are in infra/outputs.py."""
