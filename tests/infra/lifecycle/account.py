"""The fake cloud account of the lifecycle tests, kept in one JSON file so the fake `wrangler`
(a separate process per call) and the in-process fake providers see the same Cloudflare and
AWS state. Every change happens under an exclusive file lock (read, modify, write)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACCOUNT_ENV = "FAKE_CLOUDFLARE_ACCOUNT"
"""Where the fake wrangler finds the account file (set in the commands' process environment)."""


def empty_account(account_id: str) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "workers": {},  # name -> {versions, secrets, durable_object_storage, created_seq}
        "custom_domains": {},  # hostname -> {service, zone_id}
        "dns_records": {},  # hostname -> record type of an externally managed record
        "buckets": {},  # name -> {location, objects}
        "tokens": {},  # id -> {name, value, policies}
        "access_policies": {},  # id -> inputs
        "access_apps": {},  # id -> inputs + aud
        "service_tokens": {},  # id -> inputs + client id/secret
        "ai_gateways": {},  # id -> inputs
        "ssm": {},  # name -> {value, type, description, tags, version}
        "calls": [],  # every fake wrangler invocation: argv, cwd, outcome
        "conflicts": [],  # concurrent single-secret calls the fake refused
        "seq": 0,
    }


class FakeAccount:
    """Handle on the account file. `transaction()` yields the parsed data and writes it back."""

    def __init__(self, path: Path, account_id: str | None = None) -> None:
        self.path = path
        self.lock_path = path.with_suffix(".lock")
        if account_id is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(empty_account(account_id)))

    @staticmethod
    def from_env() -> FakeAccount:
        return FakeAccount(Path(os.environ[ACCOUNT_ENV]))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        # A separate open() per transaction: flock then excludes threads as well as processes.
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data: dict[str, Any] = json.loads(self.path.read_text())
                yield data
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
                temporary.replace(self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read(self) -> dict[str, Any]:
        with self.transaction() as data:
            copy: dict[str, Any] = json.loads(json.dumps(data))
            return copy

    @staticmethod
    def next_seq(data: dict[str, Any]) -> int:
        data["seq"] = int(data["seq"]) + 1
        return int(data["seq"])
