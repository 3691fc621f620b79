"""Everything the boot code reads from the environment, parsed once into a typed Settings.

Names follow docs/interfaces.md and worker/src/env-catalog.json (container-side names).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

GATEWAY_PORT_DEFAULT = 18789
CONTROL_PORT_DEFAULT = 18790
BACKUP_INTERVAL_DEFAULT = 60
RETENTION_INTERVAL_DEFAULT = 6 * 3600
REPOSITORY_PREFIX = "openclaw-edge"
# How long a stop may take. In the image (container/Dockerfile) 4.5 s and 1.5 s: the Sandbox SDK's
# container server answers a stop (container SIGTERM, or killProcess) by sending SIGTERM to the
# whole process tree and SIGKILL 5 s later (sandbox-container/src/session.ts, killCommand). On a
# host nothing is known to SIGKILL, so a final snapshot is not given up that early.
SHUTDOWN_BUDGET_DEFAULT = 60.0
GATEWAY_STOP_GRACE_DEFAULT = 10.0
LOG_MAX_BYTES_DEFAULT = 1024 * 1024
LOG_BACKUPS_DEFAULT = 2

CATALOG_PATH = Path(__file__).resolve().parent.parent / "env-catalog.json"
"""The Worker's environment catalogue (container/env-catalog.json, linked from
worker/src/env-catalog.json), shipped next to the boot code in the image."""

# In the catalogue's secrets, but an allowlist of user ids written into openclaw.json as values
# (allowFrom is a list; ${VAR} substitutes strings only), so not a credential.
NOT_CREDENTIALS = frozenset({"DISCORD_ALLOWED_USER_IDS"})


def _secret_env_names(path: Path = CATALOG_PATH) -> tuple[str, ...]:
    """Container-side names of the secrets the Worker forwards (`containerName`, else `name`)."""
    catalog = json.loads(path.read_text())
    names = (s.get("containerName") or s["name"] for s in catalog["secrets"] if s.get("container"))
    return tuple(n for n in names if n not in NOT_CREDENTIALS)


# Values that must never reach a file, argv or a log line. The boot code also refuses to write
# any of these values into openclaw.json (they are replaced by ${NAME} references).
SECRET_ENV_NAMES = _secret_env_names()

# Backup credentials stay with the boot code: the gateway (and every tool the agent runs)
# never sees them.
BACKUP_ONLY_ENV_NAMES = ("BACKUP_PASSWORD", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY")


class SettingsError(ValueError):
    """An environment variable has a value the boot code cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be > 0, got {value}")
    return value


def _level(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip().upper() or default
    if raw not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"{name} must be DEBUG, INFO, WARNING or ERROR, got {raw!r}")
    return raw


def split_list(raw: str | None) -> list[str]:
    """Comma/space separated list → trimmed, de-duplicated entries in input order."""
    if not raw:
        return []
    seen: list[str] = []
    for part in raw.replace("\n", ",").replace(" ", ",").split(","):
        item = part.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


@dataclass(frozen=True)
class BackupSettings:
    """Where and how restic stores snapshots. `configured` is False when anything is missing."""

    repository: str | None
    password_set: bool
    interval_seconds: int
    retention_interval_seconds: int
    keep_last: int = 48
    keep_daily: int = 14

    @property
    def configured(self) -> bool:
        return self.repository is not None and self.password_set


@dataclass(frozen=True)
class LogSettings:
    """Where `run` writes its own and the gateway's output: size-bounded rotating files.

    The Sandbox SDK keeps every byte a process prints in memory (and in a session log under
    /tmp) for as long as it runs, so `run` prints little: its log file gets `level`, stderr only
    `stderr_level` (the image sets WARNING), and the gateway's output never reaches the SDK.
    """

    level: str = "INFO"
    stderr_level: str = "INFO"
    max_bytes: int = LOG_MAX_BYTES_DEFAULT
    backups: int = LOG_BACKUPS_DEFAULT


@dataclass(frozen=True)
class Settings:
    home: Path
    gateway_token_set: bool
    gateway_port: int
    gateway_bind: str
    control_port: int
    control_bind: str
    openclaw_bin: str
    restic_bin: str
    backup: BackupSettings
    env: Mapping[str, str] = field(repr=False)
    logs: LogSettings = field(default_factory=LogSettings)
    shutdown_budget_seconds: float = SHUTDOWN_BUDGET_DEFAULT
    """Seconds from SIGTERM until `run` is gone (image: 4.5, the SDK SIGKILLs after 5)."""
    gateway_stop_grace_seconds: float = GATEWAY_STOP_GRACE_DEFAULT
    """How long a stop waits for the gateway before killing it and taking the final snapshot."""

    @property
    def openclaw_dir(self) -> Path:
        return self.home / ".openclaw"

    @property
    def config_path(self) -> Path:
        return self.openclaw_dir / "openclaw.json"

    @property
    def edge_dir(self) -> Path:
        """Boot-code state that is backed up (managed-key record, SQLite copies)."""
        return self.home / ".openclaw-edge" / "state"

    @property
    def run_dir(self) -> Path:
        """Per-container state that is never backed up (status, locks, fingerprints, logs)."""
        return self.home / ".openclaw-edge" / "run"

    @property
    def run_lock(self) -> Path:
        """Held (flock) by the one live `boot.py run` of this HOME."""
        return self.run_dir / "run.lock"

    @property
    def boot_log(self) -> Path:
        return self.run_dir / "boot.log"

    @property
    def gateway_log(self) -> Path:
        return self.run_dir / "gateway.log"

    def get(self, name: str) -> str:
        """Stripped value of an environment variable, '' when unset."""
        return self.env.get(name, "").strip()

    def has(self, name: str) -> bool:
        return bool(self.get(name))


def r2_location(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(S3 endpoint, bucket) of the backup bucket, or None unless it and its keys are set."""
    bucket = env.get("R2_BUCKET_NAME", "").strip()
    endpoint = env.get("R2_ENDPOINT", "").strip().rstrip("/")
    account = env.get("CF_ACCOUNT_ID", "").strip()
    if not endpoint and account:
        endpoint = f"https://{account}.r2.cloudflarestorage.com"
    keys = env.get("R2_ACCESS_KEY_ID", "").strip() and env.get("R2_SECRET_ACCESS_KEY", "").strip()
    return (endpoint, bucket) if bucket and endpoint and keys else None


def repository_url(env: Mapping[str, str]) -> str | None:
    """s3:<R2_ENDPOINT>/<R2_BUCKET_NAME>/openclaw-edge, or None when not configured."""
    location = r2_location(env)
    if location is None:
        return None
    return f"s3:{location[0]}/{location[1]}/{REPOSITORY_PREFIX}"


def load(env: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("HOME") or Path.home())
    bind = env.get("OPENCLAW_GATEWAY_BIND", "").strip() or "lan"
    if bind not in {"lan", "loopback", "auto", "tailnet"}:
        raise SettingsError(f"OPENCLAW_GATEWAY_BIND must be lan or loopback, got {bind!r}")
    openclaw_bin = env.get("OPENCLAW_BIN", "").strip() or shutil.which("openclaw") or "openclaw"
    restic_bin = env.get("RESTIC_BIN", "").strip() or shutil.which("restic") or "restic"
    backup = BackupSettings(
        repository=repository_url(env),
        password_set=bool(env.get("BACKUP_PASSWORD", "").strip()),
        interval_seconds=_int(env, "BACKUP_INTERVAL_SECONDS", BACKUP_INTERVAL_DEFAULT),
        retention_interval_seconds=_int(
            env, "BACKUP_RETENTION_INTERVAL_SECONDS", RETENTION_INTERVAL_DEFAULT
        ),
        keep_last=_int(env, "BACKUP_KEEP_LAST", 48),
        keep_daily=_int(env, "BACKUP_KEEP_DAILY", 14),
    )
    level = _level(env, "OPENCLAW_EDGE_LOG_LEVEL", "INFO")
    logs = LogSettings(
        level=level,
        stderr_level=_level(env, "OPENCLAW_EDGE_STDERR_LEVEL", level),
        max_bytes=_int(env, "OPENCLAW_EDGE_LOG_MAX_BYTES", LOG_MAX_BYTES_DEFAULT, minimum=4096),
        backups=_int(env, "OPENCLAW_EDGE_LOG_BACKUPS", LOG_BACKUPS_DEFAULT),
    )
    return Settings(
        home=home,
        gateway_token_set=bool(env.get("OPENCLAW_GATEWAY_TOKEN", "").strip()),
        gateway_port=_int(env, "OPENCLAW_GATEWAY_PORT", GATEWAY_PORT_DEFAULT),
        gateway_bind=bind,
        control_port=_int(env, "OPENCLAW_EDGE_CONTROL_PORT", CONTROL_PORT_DEFAULT, minimum=0),
        control_bind=env.get("OPENCLAW_EDGE_CONTROL_BIND", "").strip() or "0.0.0.0",  # noqa: S104
        openclaw_bin=openclaw_bin,
        restic_bin=restic_bin,
        backup=backup,
        env=env,
        logs=logs,
        shutdown_budget_seconds=_seconds(
            env, "OPENCLAW_EDGE_SHUTDOWN_BUDGET_SECONDS", SHUTDOWN_BUDGET_DEFAULT
        ),
        gateway_stop_grace_seconds=_seconds(
            env, "OPENCLAW_EDGE_GATEWAY_STOP_GRACE_SECONDS", GATEWAY_STOP_GRACE_DEFAULT
        ),
    )
