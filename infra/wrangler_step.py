"""The shell step behind every `local.Command` of the Worker deploy: runs wrangler, takes secret
values on stdin only, and masks any secret in what it prints.

    python -m infra.wrangler_step deploy --name W          (WRANGLER_CONFIG: rendered config)
    python -m infra.wrangler_step delete --name W          (Worker, its Durable Objects, secrets)
    python -m infra.wrangler_step secrets --name W         (stdin: {"NAME": "value", ...})
    python -m infra.wrangler_step secrets-delete --name W

Every step names its Worker in argv and reads the account from CLOUDFLARE_ACCOUNT_ID, so a delete
needs nothing but what Pulumi recorded (no build/ directory). Secrets go to wrangler in ONE
`wrangler secret bulk` call, never as concurrent single-secret calls: each `secret put` locks the
script and deploys a version, and the API does not handle concurrent ones
(cloudflare/wrangler-action#255).

`secrets` sends only what changed since its last successful run. It prints a manifest on stdout
(Worker name, a random key and one HMAC-SHA256 per secret, never a value); pulumi-command keeps
stdout as an output (marked secret) and hands it to the next run as PULUMI_COMMAND_STDOUT
(pulumi-command 1.2.1 provider/pkg/provider/local/commandOutputs.go, run()). Without a usable
manifest (first run, new Worker name) every secret is sent.

Environment: CLOUDFLARE_API_TOKEN / CLOUDFLARE_ACCOUNT_ID (read by wrangler itself, never in
argv), WRANGLER_BIN (default worker/node_modules/.bin/wrangler)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
WORKER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MASK = "[redacted]"
MANIFEST_VERSION = 1
# Cloudflare's "no such Worker" codes as wrangler prints them ("... [code: 10007]"):
# WORKER_NOT_FOUND_ERR_CODE / WORKER_LEGACY_ENVIRONMENT_NOT_FOUND_ERR_CODE in wrangler 4.155
# (wrangler-dist/cli.js, isWorkerNotFoundError).
WORKER_NOT_FOUND = re.compile(r"\[code: (10007|10090)\]")
STEPS = ("deploy", "delete", "secrets", "secrets-delete")


class StepError(Exception):
    """Bad invocation or input; the message says what to do."""


@dataclass(frozen=True)
class Invocation:
    step: str
    worker: str | None
    """The Worker name from `--name`; None only for the legacy forms."""
    legacy_secret: str | None = None


def parse_argv(argv: Sequence[str]) -> Invocation:
    """`STEP --name W`, or a legacy form an older openclaw-edge recorded in state."""
    if not argv:
        raise StepError(f"no step given: use one of {', '.join(STEPS)}")
    step, rest = argv[0], list(argv[1:])
    if step == "secret-delete" and len(rest) == 1:
        if not SECRET_NAME.match(rest[0]):
            raise StepError(f"secret-delete needs a secret NAME in upper case, got {rest[0]!r}")
        return Invocation(step, None, legacy_secret=rest[0])
    if step not in STEPS:
        raise StepError(f"unknown step {step!r}: use one of {', '.join(STEPS)}")
    if step == "delete" and not rest:
        return Invocation(step, None)
    if len(rest) != 2 or rest[0] != "--name":
        raise StepError(f"{step} needs --name WORKER, got {' '.join(rest)!r}")
    if not WORKER_NAME.match(rest[1]):
        raise StepError(f"{step}: {rest[1]!r} is not a Worker name (a-z, 0-9, '-')")
    return Invocation(step, rest[1])


def wrangler_args(invocation: Invocation, config: str | None = None) -> list[str]:
    """Arguments after the wrangler executable. Only names and paths, never values."""
    worker = invocation.worker or ""
    if invocation.step == "deploy":
        if config is None:
            raise StepError("deploy needs the rendered config (WRANGLER_CONFIG)")
        return ["deploy", "--config", config]
    if invocation.step == "delete":
        # `--force`: never stop at wrangler's "used by other Workers" prompt (src/delete.ts).
        return ["delete", "--name", worker, "--force"]
    # `secret bulk` without a file reads JSON from stdin; null deletes a key (src/secret/index.ts,
    # parseBulkInputToObject with includeNull) — all in one PATCH of .../secrets-bulk.
    return ["secret", "bulk", "--name", worker]


def mask(line: str, values: Iterable[str]) -> str:
    for value in values:
        if len(value) >= 4:
            line = line.replace(value, MASK)
    return line


def parse_secrets(stdin_value: str | None) -> dict[str, str]:
    """The desired secrets, trimmed of trailing whitespace as `wrangler secret put` does
    (trimTrailingWhitespace = String.trimEnd in cli.js); `secret bulk` does not trim, so the step
    does, and a file read with `aws ssm ... file://` keeps working."""
    if not stdin_value:
        raise StepError("secrets: the values must arrive on stdin as a JSON object; got nothing")
    try:
        parsed = json.loads(stdin_value)
    except json.JSONDecodeError:
        raise StepError("secrets: stdin is not a JSON object of NAME: value") from None
    if not isinstance(parsed, dict):
        raise StepError("secrets: stdin is not a JSON object of NAME: value")
    values: dict[str, str] = {}
    for name, value in parsed.items():
        if not SECRET_NAME.match(str(name)):
            raise StepError(f"secrets: {name!r} is not a secret NAME in upper case")
        if not isinstance(value, str) or not value.rstrip():
            raise StepError(
                f"secrets: {name} is empty; set it with `pulumi config set --secret {name}` "
                "or in SSM"
            )
        values[str(name)] = value.rstrip()
    return values


@dataclass(frozen=True)
class Manifest:
    """What the last successful `secrets` run left on the Worker, without a single value."""

    worker: str
    key: str
    digests: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MANIFEST_VERSION,
                "worker": self.worker,
                "key": self.key,
                "digests": dict(sorted(self.digests.items())),
            },
            separators=(",", ":"),
        )

    @staticmethod
    def parse(text: str | None) -> Manifest | None:
        """The previous run's manifest, or None when there is none or it is unreadable (then
        every secret is sent again: safe, only slower)."""
        if not text:
            return None
        try:
            data = json.loads(text.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            return None
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return None
        worker, key, digests = data.get("worker"), data.get("key"), data.get("digests")
        if not (isinstance(worker, str) and isinstance(key, str) and isinstance(digests, dict)):
            return None
        return Manifest(worker, key, {str(k): str(v) for k, v in digests.items()})


def fingerprint(key: str, name: str, value: str) -> str:
    return hmac.new(bytes.fromhex(key), f"{name}\0{value}".encode(), hashlib.sha256).hexdigest()


def plan_secrets(
    worker: str, desired: Mapping[str, str], previous: Manifest | None
) -> tuple[dict[str, str | None], Manifest]:
    """The `secret bulk` payload (changed values, None for removed names) and the new manifest.
    A previous manifest of another Worker (a rename) says nothing about this one."""
    known = previous if previous is not None and previous.worker == worker else None
    key = known.key if known is not None else secrets.token_hex(32)
    old = known.digests if known is not None else {}
    digests = {name: fingerprint(key, name, value) for name, value in desired.items()}
    payload: dict[str, str | None] = {
        name: value for name, value in desired.items() if old.get(name) != digests[name]
    }
    payload.update({name: None for name in sorted(old) if name not in desired})
    return payload, Manifest(worker, key, digests)


def wrangler_binary(env: Mapping[str, str]) -> str:
    binary = env.get("WRANGLER_BIN") or str(ROOT / "worker" / "node_modules" / ".bin" / "wrangler")
    if not Path(binary).is_file():
        raise StepError(f"wrangler not found at {binary}: run `make setup` (or set WRANGLER_BIN)")
    return binary


def run_wrangler(
    args: list[str],
    stdin_value: str | None,
    env: Mapping[str, str],
    masked: Sequence[str],
    out: TextIO,
    cwd: Path,
) -> tuple[int, str]:
    """Run wrangler, streaming its output (masked, line by line so a long image build shows
    progress) to `out`; returns the exit code and the masked output."""
    child_env = {**env, "WRANGLER_SEND_METRICS": "false", "CI": env.get("CI", "true")}
    process = subprocess.Popen(
        [wrangler_binary(env), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env,
        cwd=cwd,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    if stdin_value is not None:
        process.stdin.write(stdin_value)
    process.stdin.close()
    seen: list[str] = []
    for line in process.stdout:
        shown = mask(line, masked)
        seen.append(shown)
        out.write(shown)
        out.flush()
    return process.wait(), "".join(seen)


def _rendered_name(config: Path) -> str | None:
    """The `name` of the rendered config (a '//' header line, then JSON)."""
    lines = [line for line in config.read_text().splitlines() if not line.startswith("//")]
    try:
        data = json.loads("\n".join(lines))
    except json.JSONDecodeError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def run(argv: Sequence[str], stdin_value: str | None, env: dict[str, str]) -> int:
    invocation = parse_argv(argv)
    token = [env["CLOUDFLARE_API_TOKEN"]] if env.get("CLOUDFLARE_API_TOKEN") else []
    if invocation.worker is None:
        return _legacy(invocation)
    worker = invocation.worker
    if invocation.step == "deploy":
        config = env.get("WRANGLER_CONFIG")
        if not config:
            raise StepError("WRANGLER_CONFIG is not set: it must name the rendered wrangler.jsonc")
        path = Path(config) if Path(config).is_absolute() else ROOT / config
        if not path.is_file():
            raise StepError(f"WRANGLER_CONFIG {path} does not exist; run `pulumi up` again")
        if _rendered_name(path) != worker:
            raise StepError(f"{path} does not deploy {worker}; run `pulumi up` again")
        # cwd worker/: wrangler resolves the bundle's node_modules from the project it runs in.
        code, _ = run_wrangler(
            wrangler_args(invocation, str(path)), None, env, token, sys.stdout, ROOT / "worker"
        )
        return _report(code, f"deploy {worker}")
    if invocation.step == "delete":
        code, output = run_wrangler(wrangler_args(invocation), None, env, token, sys.stdout, ROOT)
        if code != 0 and WORKER_NOT_FOUND.search(output):
            print(f"Worker {worker} does not exist (already deleted): nothing to do")
            return 0
        return _report(code, f"delete {worker}")
    previous = Manifest.parse(env.get("PULUMI_COMMAND_STDOUT"))
    if invocation.step == "secrets":
        desired = parse_secrets(stdin_value)
        payload, manifest = plan_secrets(worker, desired, previous)
        masked = [*desired.values(), *token]
        code = _bulk(invocation, payload, env, masked, missing_ok=False)
        if code == 0:
            print(manifest.to_json())  # the only thing on stdout: kept for the next run
        return code
    names = sorted(previous.digests) if previous is not None and previous.worker == worker else []
    return _bulk(invocation, dict.fromkeys(names), env, token, missing_ok=True)


def _bulk(
    invocation: Invocation,
    payload: Mapping[str, str | None],
    env: Mapping[str, str],
    masked: Sequence[str],
    missing_ok: bool,
) -> int:
    worker = invocation.worker
    if not payload:
        print(f"Worker {worker}: secrets unchanged, nothing sent", file=sys.stderr)
        return 0
    setting = sorted(name for name, value in payload.items() if value is not None)
    deleting = sorted(name for name, value in payload.items() if value is None)
    print(
        f"Worker {worker}: one `secret bulk` setting [{', '.join(setting)}]"
        f" deleting [{', '.join(deleting)}]",
        file=sys.stderr,
    )
    body = json.dumps(dict(payload), separators=(",", ":"))
    # Output to stderr: stdout carries the manifest alone.
    code, output = run_wrangler(wrangler_args(invocation), body, env, masked, sys.stderr, ROOT)
    if code != 0 and missing_ok and WORKER_NOT_FOUND.search(output):
        print(f"Worker {worker} does not exist: its secrets are gone with it", file=sys.stderr)
        return 0
    return _report(code, f"secret bulk --name {worker}")


def _legacy(invocation: Invocation) -> int:
    """Delete commands recorded by openclaw-edge before secrets moved to one bulk step. They ran
    against build/<stack>/wrangler.jsonc, which names the CURRENT Worker: running them while
    Pulumi replaces or drops those resources would delete the live Worker or its secrets. So
    they do nothing and say how to remove an old Worker by hand."""
    if invocation.step == "delete":
        print(
            "wrangler_step: skipping a `delete` recorded by an older openclaw-edge (it named no "
            "Worker); the Worker stays. To remove an old Worker: wrangler delete --name NAME"
        )
    else:
        print(
            f"wrangler_step: skipping `secret-delete {invocation.legacy_secret}` recorded by an "
            "older openclaw-edge: the secrets step manages Worker secrets now"
        )
    return 0


def _report(code: int, what: str) -> int:
    if code != 0:
        print(f"wrangler {what} failed with exit code {code}", file=sys.stderr)
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
