"""restic plumbing: its environment, one bounded run (SIGINT at the deadline), safe errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any, Literal

from ..settings import Settings

# restic needs well under a second after SIGINT to remove its lock from the repository.
INTERRUPT_GRACE_SECONDS = 0.4
# Names whose values never appear in an error message (restic echoes URLs and keys back).
MASKED_SECRETS = ("BACKUP_PASSWORD", "R2_SECRET_ACCESS_KEY", "R2_ACCESS_KEY_ID")


class BackupError(RuntimeError):
    """restic failed; the message is safe to show (no secret in it)."""


class DeadlineExceeded(BackupError):
    """The operation could not finish before its deadline and was stopped cleanly."""


# restic's exit status when a backup created its snapshot but could not read some of the source
# (an item vanished or could not be opened while it walked the tree): restic 0.14
# cmd/restic/main.go maps ErrInvalidSourceData ("at least one source file could not be read")
# to exit code 3; stdout still ends with the summary and its snapshot_id, and each unreadable item
# is a `{"message_type":"error",...,"during":"archival","item":<path>}` line (seen with restic
# 0.14.0 on a directory deleted during the backup).
INCOMPLETE_SOURCE_EXIT = 3


def unreadable_items(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The items a `restic backup --json` could not read, in order, each once."""
    items: list[str] = []
    for item in json_lines(proc.stdout + "\n" + proc.stderr):
        path = item.get("item")
        if item.get("message_type") == "error" and isinstance(path, str) and path not in items:
            items.append(path)
    return items


def json_lines(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of restic's `--json` progress output, one a line, others skipped."""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                yield item


class Restic:
    """The restic binary against the repository the settings name (R2 through its S3 API)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def env(self) -> dict[str, str]:
        env = self.settings.env
        home = self.settings.home
        out = {
            "PATH": env.get("PATH", os.defpath),
            "HOME": str(home),
            "RESTIC_REPOSITORY": self.settings.backup.repository or "",
            "RESTIC_PASSWORD": env.get("BACKUP_PASSWORD", ""),
            "AWS_ACCESS_KEY_ID": env.get("R2_ACCESS_KEY_ID", ""),
            "AWS_SECRET_ACCESS_KEY": env.get("R2_SECRET_ACCESS_KEY", ""),
            "RESTIC_CACHE_DIR": str(home / ".cache" / "restic"),
            "RESTIC_PROGRESS_FPS": "0.2",
        }
        for name in ("TMPDIR", "AWS_DEFAULT_REGION", "SSL_CERT_FILE"):
            if env.get(name):
                out[name] = env[name]
        return out

    def run(
        self, *args: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run restic; at `timeout` it gets SIGINT (it then removes its repository lock)."""
        if not self.settings.backup.configured:
            raise BackupError("backup is not configured (R2_* and BACKUP_PASSWORD)")
        cmd = [self.settings.restic_bin, *args]
        try:
            child = subprocess.Popen(
                cmd,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            raise BackupError(f"restic could not run: {exc.strerror}") from None
        try:
            stdout, stderr = child.communicate(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
            try:
                child.communicate(timeout=INTERRUPT_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
            raise DeadlineExceeded(
                f"restic {args[0]} stopped after {timeout:.1f}s (deadline)"
            ) from None
        proc = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
        if check and proc.returncode != 0:
            raise self.failed(args[0], proc)
        return proc

    def failed(self, command: str, proc: subprocess.CompletedProcess[str]) -> BackupError:
        return BackupError(f"restic {command} failed ({proc.returncode}): {self.tail(proc)}")

    def tail(self, proc: subprocess.CompletedProcess[str]) -> str:
        """The last lines of restic's stderr, secrets masked: what an error message shows."""
        lines = [line for line in (proc.stderr or "").splitlines() if line.strip()]
        text = " | ".join(lines[-3:])[:500]
        for name in MASKED_SECRETS:
            secret = self.settings.get(name)
            if secret:
                text = text.replace(secret, "***")
        return text

    def ensure_repository(self) -> Literal["exists", "initialized"]:
        """'exists' or 'initialized'; raises BackupError when the repository is unusable."""
        probe = self.run("cat", "config", timeout=120, check=False)
        if probe.returncode == 0:
            self.run("unlock", timeout=120, check=False)  # stale locks of killed runs
            return "exists"
        missing = probe.returncode == 10 or "Is there a repository at the following" in (
            probe.stderr or ""
        )
        if not missing:
            raise BackupError(f"repository unreachable: {self.tail(probe)}")
        # `restic init` refuses to overwrite an existing repository, so a wrong guess is safe.
        self.run("init", timeout=120)
        return "initialized"
