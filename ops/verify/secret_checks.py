"""The Worker secrets by name (`wrangler secret list`) against the `workerSecretNames` output."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from typing import Any

from ops.verify.base import VerifierBase
from ops.verify.model import Failed, Skipped

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def wrangler_error(stderr: str) -> str:
    """The `✘ [ERROR] ...` line wrangler prints (colours removed), else its last line."""
    lines = [ANSI.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line and not line.startswith("🪵")]
    for line in lines:
        if "[ERROR]" in line:
            return line.split("[ERROR]", 1)[1].strip()[:300]
    return (lines[-1] if lines else "no output")[:300]


class SecretChecks(VerifierBase):
    """worker_secrets."""

    def check_secrets(self) -> tuple[str, dict[str, Any]]:
        creds = self.credentials
        if not (creds.api_token and creds.account_id):
            raise Skipped(
                "export CLOUDFLARE_API_TOKEN (`pulumi config get cloudflare:apiToken`) and "
                "CLOUDFLARE_ACCOUNT_ID to compare them"
            )
        worker = self.outputs.get("workerName")
        expected = self.outputs.get("workerSecretNames")
        if not isinstance(worker, str) or not isinstance(expected, list):
            raise Failed("the outputs lack workerName or workerSecretNames", "pulumi up")
        actual = self._wrangler_secret_names(worker)
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        facts = {"expected": sorted(expected), "actual": sorted(actual)}
        if missing or extra:
            what = []
            if missing:
                what.append(f"missing on the Worker: {', '.join(missing)}")
            if extra:
                what.append(f"on the Worker but not declared by the stack: {', '.join(extra)}")
            raise Failed(
                "; ".join(what),
                "`pulumi up` puts every declared secret (its secret step re-runs per secret); "
                f"`wrangler secret delete NAME --name {worker}` removes an undeclared one",
            )
        return f"{len(actual)} secrets, the same names as workerSecretNames", facts

    def _wrangler_secret_names(self, worker: str) -> list[str]:
        creds = self.credentials
        env: dict[str, str] = {
            name: self.env[name]
            for name in (
                "PATH",
                "HOME",
                "LANG",
                "TMPDIR",
                "SSL_CERT_FILE",
                "CLOUDFLARE_API_BASE_URL",
            )
            if name in self.env
        }
        env.update(
            {
                "CLOUDFLARE_API_TOKEN": creds.api_token or "",
                "CLOUDFLARE_ACCOUNT_ID": creds.account_id or "",
                "WRANGLER_SEND_METRICS": "false",
                "CI": "true",
                "NO_COLOR": "1",
            }
        )
        fix = "check the API token (Workers Scripts: Read) and CLOUDFLARE_ACCOUNT_ID"
        # An empty directory: no wrangler config of this checkout is picked up; its log stays there.
        with tempfile.TemporaryDirectory() as cwd:
            env["WRANGLER_LOG_PATH"] = cwd
            try:
                done = subprocess.run(
                    [self.wrangler, "secret", "list", "--name", worker, "--format", "json"],
                    cwd=cwd,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=max(self.timeout, 120.0),
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise Failed(f"wrangler secret list did not run: {exc}", fix) from exc
        if done.returncode != 0:
            raise Failed(f"wrangler secret list failed: {wrangler_error(done.stderr)}", fix)
        start = done.stdout.find("[")
        try:
            listed, _ = (
                json.JSONDecoder().raw_decode(done.stdout[start:]) if start >= 0 else (None, 0)
            )
        except ValueError:
            listed = None
        if not isinstance(listed, list):
            raise Failed("wrangler secret list printed no JSON list", fix)
        return [
            str(item["name"]) for item in listed if isinstance(item, Mapping) and "name" in item
        ]
