"""The shell step behind every `local.Command` of the Worker deploy: runs wrangler with the
rendered config, takes secret values on stdin only, and masks any secret in what it prints.

    python -m infra.wrangler_step deploy | delete | secret-put NAME | secret-delete NAME

Environment: WRANGLER_CONFIG (path of the rendered wrangler.jsonc, required),
CLOUDFLARE_API_TOKEN / CLOUDFLARE_ACCOUNT_ID (read by wrangler itself, never put in argv),
WRANGLER_BIN (default worker/node_modules/.bin/wrangler)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
MASK = "[redacted]"


class StepError(Exception):
    """Bad invocation; the message says what to do."""


def wrangler_args(step: str, name: str | None, config: str) -> list[str]:
    """Arguments after the wrangler executable. Only names and paths, never values."""
    if step == "deploy":
        return ["deploy", "--config", config]
    if step == "delete":
        return ["delete", "--config", config, "--force"]
    if step in ("secret-put", "secret-delete"):
        if name is None or not SECRET_NAME.match(name):
            raise StepError(f"{step} needs a secret NAME in upper case, got {name!r}")
        return ["secret", step.removeprefix("secret-"), name, "--config", config]
    raise StepError(f"unknown step {step!r}: use deploy, delete, secret-put or secret-delete")


def mask(line: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if len(secret) >= 4:
            line = line.replace(secret, MASK)
    return line


def run(argv: Sequence[str], stdin_value: str | None, env: dict[str, str]) -> int:
    step = argv[0] if argv else ""
    name = argv[1] if len(argv) > 1 else None
    config = env.get("WRANGLER_CONFIG")
    if not config:
        raise StepError("WRANGLER_CONFIG is not set: it must name the rendered wrangler.jsonc")
    config = str(ROOT / config) if not Path(config).is_absolute() else config
    if step != "delete" and not Path(config).is_file():
        raise StepError(f"WRANGLER_CONFIG {config} does not exist; run `pulumi up` again")
    if step == "secret-put" and not stdin_value:
        raise StepError(f"secret-put {name}: the value must arrive on stdin and was empty")
    wrangler = env.get("WRANGLER_BIN") or str(
        ROOT / "worker" / "node_modules" / ".bin" / "wrangler"
    )
    secrets = [v for v in (stdin_value, env.get("CLOUDFLARE_API_TOKEN")) if v]
    child_env = {**env, "WRANGLER_SEND_METRICS": "false", "CI": env.get("CI", "true")}
    process = subprocess.Popen(
        [wrangler, *wrangler_args(step, name, config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env,
        cwd=ROOT / "worker",
    )
    assert process.stdin is not None
    assert process.stdout is not None
    if stdin_value is not None:
        process.stdin.write(stdin_value)
    process.stdin.close()
    # Stream line by line so a long image build shows progress, masked before it is printed.
    for line in process.stdout:
        sys.stdout.write(mask(line, secrets))
        sys.stdout.flush()
    code = process.wait()
    if code != 0:
        print(f"wrangler {step} {name or ''} failed with exit code {code}", file=sys.stderr)
    return code


def main() -> int:
    stdin_value = None if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    try:
        return run(sys.argv[1:], stdin_value or None, dict(os.environ))
    except StepError as error:
        print(f"wrangler_step: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
