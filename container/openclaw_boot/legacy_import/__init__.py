"""Moving in from cloudflare/moltworker: import its state from R2 on the first boot.

Runs when boot restore finds the restic repository empty (first boot) and the bucket holds a
layout the reference implementation wrote. It only reads the source; everything is staged,
checked and sanitised before anything lands in HOME, and the first snapshot is tagged
`imported-from=<layout>`. A failed or impossible import changes nothing in HOME, writes nothing to
the repository, turns on protection (snapshots of this boot are tagged `restore-failed`, so the
next boot tries again from the unchanged source) and says why in `status.import`.

The layouts, from the reference's own code (cloudflare/moltworker; facts, not code, carried over):

- `moltworker-rclone` (start-openclaw.sh and src/gateway/sync.ts from 95307a3, 2026-02-11, to
  aa5f75b; the s3fs+rsync version 12eb483..6ecc273 wrote the same prefixes plus `.last-sync`):
  `openclaw/` = /root/.openclaw minus `*.lock *.log *.tmp .git/**` (config with secrets in plain
  text, agents/*/sessions, devices; `openclaw onboard` also put the workspace inside it, at
  /root/.openclaw/workspace), `workspace/` = /root/clawd minus `skills/** .git/** node_modules/**`,
  `skills/` = /root/clawd/skills. The rclone era keeps its last-sync time in the container
  (/tmp/.last-sync), not in R2.
- `moltworker-clawdbot` (039ae24, 2026-01-26, to 9ab56d7^, clawdbot 2026.1.24-3): `clawdbot/` =
  /root/.clawdbot (clawdbot.json), `skills/`, and `.last-sync` (ISO time) at the bucket root. The
  rclone era's restore still falls back to `clawdbot/clawdbot.json` when `openclaw/openclaw.json`
  is missing, renaming clawdbot.json to openclaw.json; we follow the same precedence.
- `moltworker-sdk-backup` (src/persistence.ts, Dockerfile "v32-home-dir", 2026-03-26 on): one
  Sandbox SDK backup of /home/openclaw (HOME there; /root/.openclaw and /root/clawd are symlinks
  into it). `backup-handle.json` = {"id", "dir"}; the SDK stores `backups/<id>/data.sqsh` (a plain
  squashfs) and `backups/<id>/meta.json` ({id, dir, name, sizeBytes, ttl, createdAt}); TTL 7 days,
  enforced only by the SDK's restore (the objects stay until deleted). We read the archive
  directly with unsquashfs (squashfs-tools, installed by container/Dockerfile), so an expired
  TTL does not matter; a missing archive is reported as not importable, with what to do.

Where things land: the config directory in ~/.openclaw, the agent workspace in
~/.openclaw/workspace (OpenClaw's default; the old config's absolute workspace path is dropped),
skills in ~/.openclaw/workspace/skills. Secrets are never copied: the config's gateway, model
providers, channels, env and every secret-named key are dropped (the stack's secrets are written
as `${NAME}` references on every boot), credential files (auth profiles, the generated
models.json, config backups) are skipped, and any remaining occurrence of a dropped secret value
in another file is masked.

Modules: layouts.py (detection and where each object goes), sanitize.py (secrets out),
importer.py (`LegacyImport`: stage, check, swap in, first snapshot, verification), report.py
(the persisted report and its summary), doctor.py (`openclaw doctor --fix` before the gateway
starts), routes.py (the control API's `/import` routes).
"""

from .doctor import before_gateway_start, doctor_due, doctor_notes, run_doctor
from .importer import ImportFailed, LegacyImport, NotImportable, after_boot_restore
from .layouts import LAYOUT_CLAWDBOT, LAYOUT_RCLONE, LAYOUT_SDK, Entry, Found, detect
from .report import plan_digest, read_report, summary
from .routes import control_routes
from .sanitize import credential_values, mask_secrets, sanitize_config

__all__ = [
    "LAYOUT_CLAWDBOT",
    "LAYOUT_RCLONE",
    "LAYOUT_SDK",
    "Entry",
    "Found",
    "ImportFailed",
    "LegacyImport",
    "NotImportable",
    "after_boot_restore",
    "before_gateway_start",
    "control_routes",
    "credential_values",
    "detect",
    "doctor_due",
    "doctor_notes",
    "mask_secrets",
    "plan_digest",
    "read_report",
    "run_doctor",
    "sanitize_config",
    "summary",
]
