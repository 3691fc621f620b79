"""`openclaw config validate` of the written openclaw.json, skipped when its inputs are unchanged.

`openclaw config validate` is a second full OpenClaw CLI start (3-6 s of every boot, see
docs/benchmarks.md). Its verdict depends only on the file's text, the OpenClaw release, the
plugins whose schemas judge the channel blocks, and which referenced ${VAR}s are set, so a
boot whose inputs hash to the key of the last *successful* validation skips it. Only a valid
file is ever recorded: a bad override changes the text, misses the cache and fails loudly on
every boot. The last VALIDATED_KEEP valid keys are kept. OPENCLAW_EDGE_CONFIG_VALIDATION=always
validates on every boot regardless.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import compile_cache, plugins
from .files import atomic_write, read_json
from .settings import BACKUP_ONLY_ENV_NAMES, Settings


def validate(
    settings: Settings, env: Mapping[str, str], timeout: float = 60
) -> tuple[bool, list[str], list[str]]:
    """Run the real `openclaw config validate --json`; (valid, issues, warnings)."""
    child_env = compile_cache.child_env(
        {k: v for k, v in env.items() if k not in BACKUP_ONLY_ENV_NAMES}
    )
    try:
        proc = subprocess.run(
            [settings.openclaw_bin, "config", "validate", "--json"],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, [f"openclaw config validate could not run: {type(exc).__name__}"], []
    try:
        start = proc.stdout.index("{")
        result = json.loads(proc.stdout[start:])
    except ValueError:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return False, [f"openclaw config validate exited {proc.returncode}: {' '.join(tail)}"], []
    issues = [f"{item.get('path')}: {item.get('message')}" for item in result.get("issues", [])]
    warnings = [f"{item.get('path')}: {item.get('message')}" for item in result.get("warnings", [])]
    return bool(result.get("valid")), issues, warnings


VALIDATION_ENV = "OPENCLAW_EDGE_CONFIG_VALIDATION"
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _validated_record(settings: Settings) -> Path:
    return settings.edge_dir / "validated-config.json"


def validation_key(settings: Settings, text: str) -> str:
    """Hash of everything `openclaw config validate` judges `text` with (never a secret value:
    only whether each referenced variable is set)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    package = plugins.openclaw_package(settings)
    if package is not None:  # its package.json names the release (npm's mtimes are all equal)
        manifest = hashlib.sha256((package / "package.json").read_bytes()).hexdigest()
        digest.update(f"\0openclaw {package} {manifest}".encode())
    else:
        digest.update(f"\0openclaw-bin {settings.openclaw_bin}".encode())
    for plugin in plugins.installed(plugins.plugin_dir(settings)):
        digest.update(f"\0plugin {plugin.package}@{plugin.version} {plugin.path}".encode())
    for name in sorted(set(REFERENCE.findall(text))):
        digest.update(f"\0env {name}={'set' if settings.env.get(name) else 'unset'}".encode())
    return digest.hexdigest()


VALIDATED_KEEP = 4
"""Valid configurations remembered (switching an override off and on again costs nothing)."""


def _validated(settings: Settings) -> dict[str, list[str]]:
    """key → warnings of the last VALIDATED_KEEP successful validations (oldest first)."""
    try:
        record = read_json(_validated_record(settings))
    except (OSError, ValueError):
        return {}
    entries = record.get("valid") if isinstance(record, dict) else None
    if not isinstance(entries, list):
        return {}
    found: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            warnings = entry.get("warnings")
            found[entry["key"]] = [str(w) for w in warnings] if isinstance(warnings, list) else []
    return found


def _cached_warnings(settings: Settings, key: str) -> list[str] | None:
    """The warnings of a successful validation with key `key`, else None."""
    if settings.get(VALIDATION_ENV).lower() == "always":
        return None
    return _validated(settings).get(key)


def _remember_valid(settings: Settings, key: str, warnings: list[str]) -> None:
    known = _validated(settings)
    known.pop(key, None)
    known[key] = warnings
    kept = list(known.items())[-VALIDATED_KEEP:]
    entries = [{"key": k, "warnings": w} for k, w in kept]
    atomic_write(_validated_record(settings), json.dumps({"valid": entries}, indent=1) + "\n")


@dataclass(frozen=True)
class Verdict:
    valid: bool
    issues: list[str]
    warnings: list[str]
    validation: str
    """ran | cached (the same inputs validated before)."""


def check(settings: Settings, env: Mapping[str, str], path: Path) -> Verdict:
    """Validate the file at `path`, or take the verdict of an earlier run on the same inputs."""
    key = validation_key(settings, path.read_text(encoding="utf-8"))
    cached = _cached_warnings(settings, key)
    if cached is not None:
        return Verdict(True, [], cached, "cached")
    valid, issues, warnings = validate(settings, env)
    if valid:
        _remember_valid(settings, key, warnings)
    return Verdict(valid, issues, warnings, "ran")
