"""The local stack as code: set-up, start/stop of each piece, readiness, logs.

`dev.run` (make dev), the e2e session fixture and the benchmarks all drive this one class, so
what the tests prove is what a developer runs. Pieces, in start order (all on 127.0.0.1):
s3 (moto, stands in for R2), access (Access stand-in: login, JWKS, and a front that admits the
service token as Access does), llm (LLM stand-in), edge (network stand-in: browsers reach the
gateway as remote clients, as in a deployment), discord and telegram (chat network fakes, only
with `channels=True`), boot (the container's boot code running a real OpenClaw gateway with the
real channel plugins on the host), worker (`wrangler dev`).

The configuration (ports, `StackConfig`, secrets) is in `dev.stack_config`, the process plumbing
(`PieceSpec`, `PieceFailed`, readiness probes) in `dev.pieces`; this module is the `Stack` class,
about 600 lines on purpose: each piece's spec (argv, environment, readiness) stands next to the
start order and the stop that use it, so one piece reads in one place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from dev.access import AccessIssuer, load_or_create_key
from dev.discord import GUILD_ID as DISCORD_GUILD_ID
from dev.pieces import (
    HEARTBEAT_SECONDS,
    PieceFailed,
    PieceSpec,
    Progress,
    Running,
    display_path,
    http_status,
    last_line,
    port_in_use,
    toolchain_bin_dirs,
)
from dev.s3 import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from dev.stack_config import (
    CHANNEL_PIECES,
    CHAT_USERS,
    PIECE_PORTS,
    PIECES,
    REAL_LLM_NAMES,
    ROOT,
    Ports,
    Secrets,
    StackConfig,
    discord_token,
    telegram_token,
)
from infra.config import dockerfile_openclaw_version

# What callers import from here (the stack's types live in stack_config and pieces).
__all__ = [
    "CHAT_USERS",
    "PIECES",
    "ROOT",
    "PieceFailed",
    "PieceSpec",
    "Ports",
    "Secrets",
    "Stack",
    "StackConfig",
    "discord_token",
    "http_status",
    "port_in_use",
    "telegram_token",
]


class Stack:
    """Start, watch and stop the local system. Use as a context manager or start()/stop()."""

    def __init__(self, config: StackConfig | None = None, progress: Progress | None = None):
        self.config = config or StackConfig()
        self.progress: Progress = progress or (lambda _line: None)
        self.running: dict[str, Running] = {}
        self.timings: dict[str, float] = {}
        self._secrets: Secrets | None = None
        self._issuer: AccessIssuer | None = None

    # -- set-up (idempotent; a second run reuses all of it) ----------------------------------

    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            self._secrets = Secrets.load_or_create(self.config.state_dir / "secrets.json")
        return self._secrets

    @property
    def issuer(self) -> AccessIssuer:
        """The same key the Access stand-in signs with: tests and benchmarks mint tokens here."""
        if self._issuer is None:
            key = load_or_create_key(self.config.state_dir / "access")
            cfg = self.config
            self._issuer = AccessIssuer(key, cfg.access_team_domain, cfg.aud, cfg.token_ttl_seconds)
        return self._issuer

    def access_token(self, email: str = "developer@example.com") -> str:
        return self.issuer.mint(email)

    def openclaw_bin(self) -> Path:
        override = self.config.host_env.get("OPENCLAW_BIN")
        return Path(override) if override else ROOT / ".venv/openclaw/node_modules/.bin/openclaw"

    def plugin_dir(self) -> Path:
        """The channel plugins scripts/install-openclaw installed (the image's
        /opt/openclaw-edge/plugins/npm)."""
        return ROOT / ".venv/openclaw/plugins/npm"

    def uses_real_llm(self) -> bool:
        mode = self.config.llm
        has_key = any(self.config.host_env.get(n) for n in REAL_LLM_NAMES[:2])
        if mode == "real" and not has_key:
            raise PieceFailed("llm", "--llm real needs ANTHROPIC_API_KEY or OPENAI_API_KEY", None)
        return mode == "real" or (mode == "auto" and has_key)

    def check_prerequisites(self, pieces: Iterable[str]) -> None:
        wanted = set(pieces)
        hint = "run `make setup` (or `make dev`, which runs it first)"
        if "boot" in wanted:
            if not (ROOT / "container" / "boot.py").exists():
                raise PieceFailed("boot", "container/boot.py is missing", None)
            if not os.access(self.openclaw_bin(), os.X_OK):
                raise PieceFailed(
                    "boot",
                    f"no OpenClaw at {self.openclaw_bin()}; {hint} or set OPENCLAW_BIN",
                    None,
                )
            if shutil.which("restic") is None:
                raise PieceFailed("boot", f"restic is not on PATH; {hint}", None)
            if self.config.channels and not (self.plugin_dir() / "projects").is_dir():
                raise PieceFailed(
                    "boot", f"no channel plugins in {self.plugin_dir()}; {hint}", None
                )
        if "worker" in wanted and not (ROOT / "worker/node_modules/.bin/wrangler").exists():
            raise PieceFailed("worker", f"worker/node_modules is missing; {hint}", None)
        if not toolchain_bin_dirs():
            raise PieceFailed("toolchain", f".venv with Node 24 is missing; {hint}", None)
        taken = [
            (name, port)
            for piece in PIECES
            if piece in wanted
            for name in PIECE_PORTS[piece]
            if port_in_use(port := getattr(self.config.ports, name))
        ]
        if taken:
            ports = ", ".join(f"{name} {port}" for name, port in taken)
            raise PieceFailed(
                taken[0][0],
                f"port already in use ({ports}): is another `make dev` or e2e run still up?",
                None,
            )

    def prepare(self) -> None:
        cfg = self.config
        for directory in (cfg.state_dir, cfg.logs_dir, cfg.home):
            directory.mkdir(parents=True, exist_ok=True)
        _ = self.secrets, self.issuer
        self._write_worker_env_file()
        self._link_tools()
        (cfg.state_dir / "outputs.json").write_text(json.dumps(self.outputs(), indent=2) + "\n")

    @property
    def tools_dir(self) -> Path:
        """First on the boot code's PATH: `openclaw` there, as in the image (`ops.verify`)."""
        return self.config.state_dir / "bin"

    def _link_tools(self) -> None:
        self.tools_dir.mkdir(parents=True, exist_ok=True)
        link = self.tools_dir / "openclaw"
        if not link.is_symlink() or link.readlink() != self.openclaw_bin():
            link.unlink(missing_ok=True)
            link.symlink_to(self.openclaw_bin())

    def outputs(self) -> dict[str, object]:
        """This stack in the shape of `pulumi stack output --json` (what `ops.verify` reads).

        Only what exists locally; the service token secret is masked as Pulumi masks it.
        """
        cfg = self.config
        package = json.loads((ROOT / "worker" / "package.json").read_text())
        return {
            "workerUrl": cfg.url("front").rstrip("/"),
            "hostname": "127.0.0.1",
            "workerName": "openclaw-edge-local",
            "environment": "local",
            "accessAud": cfg.aud,
            "accessTeamDomain": cfg.access_team_domain,
            "bucketName": cfg.bucket,
            "openclawVersion": dockerfile_openclaw_version(ROOT),
            "sandboxVersion": package["dependencies"]["@cloudflare/sandbox"],
            "workerSecretNames": ["MOLTBOT_GATEWAY_TOKEN"],
            "debugRoutes": True,
            "probeAccessClientId": self.secrets.access_client_id,
            "probeAccessClientSecret": "[secret]",
        }

    def _write_worker_env_file(self) -> Path:
        """The Worker's secret reaches `wrangler dev` in a file (mode 0600), not on argv."""
        path = self.config.state_dir / "worker.dev.vars"
        content = f"MOLTBOT_GATEWAY_TOKEN={self.secrets.gateway_token}\n"
        if not path.exists() or path.read_text() != content:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
        return path

    # -- piece definitions ---------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        path = os.pathsep.join([*map(str, toolchain_bin_dirs()), os.environ.get("PATH", "")])
        env = {"PATH": path, "LANG": os.environ.get("LANG", "C.UTF-8")}
        for name in ("TMPDIR", "TZ", "SSL_CERT_FILE"):
            if name in os.environ:
                env[name] = os.environ[name]
        env["HOME"] = os.environ.get("HOME", str(self.config.state_dir))
        return env

    def boot_env(self) -> dict[str, str]:
        cfg, ports = self.config, self.config.ports
        env = self._base_env()
        env["PATH"] = os.pathsep.join([str(self.tools_dir), env["PATH"]])
        env.update(
            {
                # This host has these of the image's tools (ops.verify's self-test check).
                "OPENCLAW_EDGE_SELFTEST_TOOLS": "node,openclaw,restic",
                "HOME": str(cfg.home),
                "OPENCLAW_BIN": str(self.openclaw_bin()),
                "OPENCLAW_GATEWAY_BIND": "loopback",
                "OPENCLAW_GATEWAY_PORT": str(ports.gateway),
                "OPENCLAW_GATEWAY_TOKEN": self.secrets.gateway_token,
                "OPENCLAW_EDGE_CONTROL_PORT": str(ports.control),
                "OPENCLAW_EDGE_CONTROL_BIND": "127.0.0.1",
                "BACKUP_PASSWORD": self.secrets.backup_password,
                "R2_ACCESS_KEY_ID": DEV_ACCESS_KEY_ID,
                "R2_SECRET_ACCESS_KEY": DEV_SECRET_ACCESS_KEY,
                "R2_BUCKET_NAME": cfg.bucket,
                "R2_ENDPOINT": cfg.url("s3").rstrip("/"),
                "BACKUP_INTERVAL_SECONDS": str(cfg.backup_interval_seconds),
                "WORKER_URL": cfg.url("worker").rstrip("/"),
                "OPENCLAW_EDGE_PLUGIN_DIR": str(self.plugin_dir()),
                # scripts/install-openclaw builds it (the image's /opt/openclaw-edge/compile-cache)
                "OPENCLAW_EDGE_COMPILE_CACHE": str(ROOT / ".venv/openclaw/compile-cache"),
            }
        )
        if cfg.channels:
            env.update(self.channel_env())
        if self.uses_real_llm():
            env.update({n: cfg.host_env[n] for n in REAL_LLM_NAMES if cfg.host_env.get(n)})
            for name in ("LLM_PROVIDER", "LLM_MODEL"):
                if cfg.host_env.get(name):
                    env[name] = cfg.host_env[name]
        else:
            # The stand-in ignores the key; OpenClaw only needs one to pick the provider.
            env.update(
                {
                    "AI_GATEWAY_BASE_URL": cfg.url("llm").rstrip("/"),
                    "LLM_PROVIDER": "anthropic",
                    "ANTHROPIC_API_KEY": "dev-standin-key-not-secret",
                }
            )
        return env

    def channel_env(self) -> dict[str, str]:
        """Discord and Telegram configured against the fakes, each with an allowlist; the bot
        answers mentions in the fake Discord guild."""
        cfg, users = self.config, CHAT_USERS
        return {
            "DISCORD_BOT_TOKEN": self.secrets.discord_bot_token,
            "DISCORD_ALLOWED_USER_IDS": users.discord_allowed,
            "DISCORD_GUILD_IDS": DISCORD_GUILD_ID,
            "DISCORD_API_URL": cfg.url("discord", "/api/v10"),
            "TELEGRAM_BOT_TOKEN": self.secrets.telegram_bot_token,
            "TELEGRAM_DM_ALLOW_FROM": users.telegram_allowed,
            "TELEGRAM_API_ROOT": cfg.url("telegram").rstrip("/"),
        }

    def gateway_origin(self) -> str:
        """What the Worker's GATEWAY_ORIGIN points at: the edge stand-in or the gateway."""
        cfg = self.config
        return cfg.url("edge" if cfg.simulate_remote_browser else "gateway").rstrip("/")

    def worker_argv(self) -> list[str]:
        cfg, ports = self.config, self.config.ports
        variables = {
            "GATEWAY_ORIGIN": cfg.url("edge" if cfg.simulate_remote_browser else "gateway").rstrip(
                "/"
            ),
            "CONTROL_ORIGIN": cfg.url("control").rstrip("/"),
            "CF_ACCESS_JWKS_URL": cfg.url("access", "/cdn-cgi/access/certs"),
            # Plain-HTTP login page: no self-signed certificate warning for a person.
            "CF_ACCESS_LOGIN_ORIGIN": cfg.url("access").rstrip("/"),
            "CF_ACCESS_TEAM_DOMAIN": cfg.access_team_domain,
            "CF_ACCESS_AUD": cfg.aud,
            "ENVIRONMENT": "local",
            "DEBUG_ROUTES": "true",
            "WORKER_URL": cfg.url("worker").rstrip("/"),
        }
        argv = [
            str(ROOT / "worker/node_modules/.bin/wrangler"),
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(ports.worker),
            "--inspector-port",
            str(ports.inspector),
            "--show-interactive-dev-session=false",
            "--persist-to",
            str(cfg.state_dir / "wrangler"),
            "--env-file",
            str(self._write_worker_env_file()),
        ]
        for name, value in variables.items():
            argv += ["--var", f"{name}:{value}"]
        return argv

    def _chat_fake_spec(self, name: str, token_env: str, token: str, describe: str) -> PieceSpec:
        """dev/discord.py or dev/telegram.py: the token in its environment, calls recorded."""
        cfg = self.config
        port = str(getattr(cfg.ports, name))
        record = str(cfg.logs_dir / f"{name}-calls.jsonl")
        env = {**self._base_env(), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        return PieceSpec(
            name,
            [sys.executable, "-m", f"dev.{name}", "--port", port, "--record", record],
            ROOT,
            {**env, token_env: token},
            lambda: http_status(cfg.url(name, "/healthz")) == 200,
            start_timeout=30,
            describe=describe,
        )

    def specs(self) -> dict[str, PieceSpec]:
        cfg, ports = self.config, self.config.ports
        python = sys.executable
        bearer = {"Authorization": f"Bearer {self.secrets.gateway_token}"}
        base = self._base_env()
        base["PYTHONPATH"] = str(ROOT)
        base["PYTHONUNBUFFERED"] = "1"
        return {
            "s3": PieceSpec(
                "s3",
                [
                    python,
                    "-m",
                    "dev.s3",
                    "--port",
                    str(ports.s3),
                    "--bucket",
                    cfg.bucket,
                    "--mirror",
                    str(cfg.state_dir / "r2"),
                ],
                ROOT,
                base,
                lambda: http_status(cfg.url("s3", f"/{cfg.bucket}")) == 200,
                start_timeout=60,
                stop_timeout=30,
                describe=f"S3 stand-in for R2 (moto), bucket {cfg.bucket}",
            ),
            "access": PieceSpec(
                "access",
                [
                    python,
                    "-m",
                    "dev.access",
                    "--port",
                    str(ports.access),
                    "--state-dir",
                    str(cfg.state_dir / "access"),
                    "--team-domain",
                    cfg.access_team_domain,
                    "--aud",
                    cfg.aud,
                    "--app-origin",
                    cfg.url("worker").rstrip("/"),
                    "--ttl-seconds",
                    str(cfg.token_ttl_seconds),
                    "--front-port",
                    str(ports.front),
                    "--upstream",
                    cfg.url("worker").rstrip("/"),
                ],
                ROOT,
                {
                    **base,
                    "ACCESS_SERVICE_TOKEN_ID": self.secrets.access_client_id,
                    "ACCESS_SERVICE_TOKEN_SECRET": self.secrets.access_client_secret,
                },
                lambda: (
                    http_status(cfg.url("access", "/cdn-cgi/access/certs")) == 200
                    and port_in_use(ports.front)
                ),
                start_timeout=30,
                describe="Access stand-in (login page + JWKS)",
            ),
            "llm": PieceSpec(
                "llm",
                [
                    python,
                    "-m",
                    "dev.llm",
                    "--port",
                    str(ports.llm),
                    "--request-log",
                    str(cfg.logs_dir / "llm-requests.jsonl"),
                ],
                ROOT,
                base,
                lambda: http_status(cfg.url("llm", "/healthz")) == 200,
                start_timeout=30,
                describe="LLM stand-in (OpenAI + Anthropic compatible)",
            ),
            "discord": self._chat_fake_spec(
                "discord",
                "DISCORD_FAKE_BOT_TOKEN",
                self.secrets.discord_bot_token,
                "Discord fake (REST + gateway WebSocket at DISCORD_API_URL)",
            ),
            "telegram": self._chat_fake_spec(
                "telegram",
                "TELEGRAM_FAKE_BOT_TOKEN",
                self.secrets.telegram_bot_token,
                "Telegram Bot API fake (TELEGRAM_API_ROOT)",
            ),
            "edge": PieceSpec(
                "edge",
                [
                    python,
                    "-m",
                    "dev.edge",
                    "--port",
                    str(ports.edge),
                    "--upstream-port",
                    str(ports.gateway),
                ],
                ROOT,
                base,
                lambda: port_in_use(ports.edge),
                start_timeout=30,
                describe="network stand-in (browser WebSockets reach the gateway as remote)",
            ),
            "boot": PieceSpec(
                "boot",
                [python, str(ROOT / "container" / "boot.py"), "run"],
                ROOT,
                self.boot_env(),
                lambda: (
                    http_status(cfg.url("gateway", "/readyz")) == 200
                    and http_status(cfg.url("control", "/status"), bearer) == 200
                ),
                start_timeout=240,
                stop_timeout=90,
                describe="container boot code: restore, config, snapshots, OpenClaw gateway",
            ),
            "worker": PieceSpec(
                "worker",
                self.worker_argv(),
                ROOT / "worker",
                {
                    **self._base_env(),
                    "WRANGLER_SEND_METRICS": "false",
                    "CLOUDFLARE_CF_FETCH_ENABLED": "false",
                    "NO_COLOR": "1",
                },
                lambda: http_status(cfg.url("worker", "/sandbox-health")) == 200,
                start_timeout=120,
                stop_timeout=10,
                describe="Worker under wrangler dev",
            ),
        }

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, pieces: Iterable[str] = PIECES) -> None:
        """Start the pieces (in PIECES order, independent ones together); raise PieceFailed."""
        wanted = [p for p in PIECES if p in set(pieces) and p not in self.running]
        if not self.config.channels:
            wanted = [p for p in wanted if p not in CHANNEL_PIECES]
        self.prepare()
        self.check_prerequisites(wanted)
        specs = self.specs()
        # Stand-ins first (the boot code restores from s3 at once), then boot + worker together.
        for wave in (["s3", "access", "llm", "edge", *CHANNEL_PIECES], ["boot", "worker"]):
            batch = [p for p in wave if p in wanted]
            if "edge" in batch and not self.config.simulate_remote_browser:
                batch.remove("edge")

            if "llm" in batch and self.uses_real_llm():
                batch.remove("llm")
                self.progress("llm: real provider key found in the environment; stand-in skipped")
            for name in batch:
                self._spawn(specs[name])
            try:
                self._wait_ready(batch)
            except PieceFailed:
                self.stop()
                raise

    def _spawn(self, spec: PieceSpec) -> None:
        log = self.config.logs_dir / f"{spec.name}.log"
        handle = log.open("ab")
        handle.write(
            f"\n===== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} start "
            f"{spec.name}\n".encode()
        )
        handle.flush()
        self.progress(f"{spec.name}: starting {spec.describe} (log {display_path(log)})")
        process = subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C reaches only us, we stop in order
        )
        self.running[spec.name] = Running(spec, process, log, handle, time.monotonic())

    def _wait_ready(self, names: list[str]) -> None:
        pending = set(names)
        next_note = time.monotonic() + HEARTBEAT_SECONDS
        while pending:
            if time.monotonic() >= next_note:
                next_note = time.monotonic() + HEARTBEAT_SECONDS
                for name in sorted(pending):
                    run = self.running[name]
                    waited = time.monotonic() - run.started_at
                    last = last_line(run.log)
                    self.progress(f"{name}: still starting ({waited:.0f}s) - {last}")
            for name in sorted(pending):
                run = self.running[name]
                code = run.process.poll()
                if code is not None:
                    raise PieceFailed(name, f"exited with code {code} while starting", run.log)
                if run.spec.ready():
                    elapsed = time.monotonic() - run.started_at
                    self.timings[name] = elapsed
                    self.progress(f"{name}: ready in {elapsed:.1f}s")
                    pending.discard(name)
                elif time.monotonic() - run.started_at > run.spec.start_timeout:
                    raise PieceFailed(
                        name, f"not ready after {run.spec.start_timeout:.0f}s", run.log
                    )
            if pending:
                time.sleep(0.25)

    def check_alive(self) -> None:
        """Raise PieceFailed for the first piece that died after starting."""
        for name, run in self.running.items():
            code = run.process.poll()
            if code is not None:
                raise PieceFailed(name, f"exited unexpectedly with code {code}", run.log)

    def stop(self, pieces: Iterable[str] | None = None) -> None:
        """Stop in reverse order: the Worker first, the boot code (final snapshot), S3 last."""
        wanted = set(pieces) if pieces is not None else set(self.running)
        for name in reversed(PIECES):
            run = self.running.get(name)
            if run is None or name not in wanted:
                continue
            if run.process.poll() is None:
                self.progress(f"{name}: stopping")
                self._signal(run, signal.SIGTERM)
                try:
                    run.process.wait(timeout=run.spec.stop_timeout)
                except subprocess.TimeoutExpired:
                    self.progress(f"{name}: no exit after {run.spec.stop_timeout:.0f}s, killing")
                    self._signal(run, signal.SIGKILL)
                    run.process.wait(timeout=10)
            else:
                # Its children may still hold the group (e.g. workerd under wrangler).
                self._signal(run, signal.SIGKILL)
            run.log_handle.close()
            del self.running[name]

    @staticmethod
    def _signal(run: Running, signum: int) -> None:
        # The group id is the pid we started (start_new_session): only our own processes.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.process.pid, signum)

    def wipe_gateway_state(self) -> None:
        """Delete the gateway's HOME (as a container losing its disk); backups stay in s3."""
        if any(n in self.running for n in ("boot",)):
            raise RuntimeError("stop the boot piece before wiping its state")
        shutil.rmtree(self.config.home, ignore_errors=True)
        self.config.home.mkdir(parents=True)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
