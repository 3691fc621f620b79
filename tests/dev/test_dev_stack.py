"""Local stack orchestration: secrets stay off argv, LLM choice, failures name the piece."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from dev import stack as stack_module
from dev.stack import PieceFailed, PieceSpec, Ports, Stack, StackConfig


def _stack(tmp_path: Path, **overrides: object) -> Stack:
    config = StackConfig(state_dir=tmp_path / "state", host_env={}, **overrides)  # type: ignore[arg-type]
    return Stack(config)


def test_secrets_are_generated_once_private_and_never_on_argv(tmp_path: Path) -> None:
    local = _stack(tmp_path)
    local.prepare()
    first = local.secrets
    again = _stack(tmp_path).secrets
    assert (first.gateway_token, first.backup_password) == (
        again.gateway_token,
        again.backup_password,
    )
    secrets_file = tmp_path / "state" / "secrets.json"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    argv = " ".join(" ".join(spec.argv) for spec in local.specs().values())
    assert first.gateway_token not in argv
    assert first.backup_password not in argv
    env_file = tmp_path / "state" / "worker.dev.vars"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert env_file.read_text() == f"MOLTBOT_GATEWAY_TOKEN={first.gateway_token}\n"
    assert "--env-file" in local.worker_argv()


def test_boot_env_follows_the_interfaces_contract(tmp_path: Path) -> None:
    local = _stack(tmp_path)
    env = local.boot_env()
    assert env["HOME"] == str(tmp_path / "state" / "home")
    assert env["OPENCLAW_GATEWAY_BIND"] == "loopback"
    assert env["R2_ENDPOINT"] == "http://127.0.0.1:8792"
    assert env["OPENCLAW_EDGE_CONTROL_PORT"] == "18790"
    assert env["OPENCLAW_GATEWAY_TOKEN"] == local.secrets.gateway_token
    assert env["AI_GATEWAY_BASE_URL"] == "http://127.0.0.1:8791"
    # The Worker passes the browser's Origin through; the boot code allows WORKER_URL's origin.
    assert env["WORKER_URL"] == "http://127.0.0.1:8787"
    assert "OPENCLAW_CONFIG_OVERRIDES" not in env


def test_worker_vars_point_at_the_local_pieces(tmp_path: Path) -> None:
    argv = _stack(tmp_path).worker_argv()
    variables = dict(argv[i + 1].split(":", 1) for i, a in enumerate(argv) if a == "--var")
    assert variables["GATEWAY_ORIGIN"] == "http://127.0.0.1:8794"
    assert variables["CONTROL_ORIGIN"] == "http://127.0.0.1:18790"
    assert variables["CF_ACCESS_JWKS_URL"] == "http://127.0.0.1:8790/cdn-cgi/access/certs"
    assert variables["CF_ACCESS_TEAM_DOMAIN"] == "127.0.0.1:8790"
    direct = _stack(tmp_path, simulate_remote_browser=False).worker_argv()
    assert "GATEWAY_ORIGIN:http://127.0.0.1:18789" in direct


def test_developer_keys_reach_the_gateway_only_in_real_mode(tmp_path: Path) -> None:
    host = {"ANTHROPIC_API_KEY": "sk-real-key"}
    standin = Stack(StackConfig(state_dir=tmp_path, llm="standin", host_env=host))
    assert standin.boot_env()["ANTHROPIC_API_KEY"] != "sk-real-key"
    auto = Stack(StackConfig(state_dir=tmp_path, llm="auto", host_env=host))
    assert auto.uses_real_llm()
    env = auto.boot_env()
    assert env["ANTHROPIC_API_KEY"] == "sk-real-key"
    assert "AI_GATEWAY_BASE_URL" not in env
    with pytest.raises(PieceFailed, match="needs ANTHROPIC_API_KEY"):
        Stack(StackConfig(state_dir=tmp_path, llm="real", host_env={})).uses_real_llm()


def test_a_piece_that_dies_while_starting_is_named_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _stack(tmp_path, ports=Ports(s3=1, access=2, llm=3, edge=4))
    spec = PieceSpec(
        "llm",
        [sys.executable, "-c", "import sys; print('stand-in exploded'); sys.exit(3)"],
        tmp_path,
        {},
        lambda: False,
        start_timeout=30,
    )
    monkeypatch.setattr(local, "specs", lambda: {"llm": spec})
    monkeypatch.setattr(local, "check_prerequisites", lambda pieces: None)
    with pytest.raises(PieceFailed) as failed:
        local.start(["llm"])
    message = str(failed.value)
    assert message.startswith("llm: exited with code 3 while starting")
    assert "llm.log" in message
    assert "stand-in exploded" in message
    assert local.running == {}


def test_stop_ends_the_whole_process_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = _stack(tmp_path)
    spec = PieceSpec(
        "access",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        tmp_path,
        {},
        lambda: True,
        start_timeout=30,
        stop_timeout=5,
    )
    monkeypatch.setattr(local, "specs", lambda: {"access": spec})
    monkeypatch.setattr(local, "check_prerequisites", lambda pieces: None)
    local.start(["access"])
    process = local.running["access"].process
    local.stop()
    assert process.poll() is not None
    assert "access" in local.timings


def test_busy_port_is_reported_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        local = _stack(tmp_path, ports=Ports(access=port))
        with pytest.raises(PieceFailed, match="port already in use"):
            local.check_prerequisites(["access"])
    assert stack_module.port_in_use(port) is False


def test_shifted_ports_reach_every_piece(tmp_path: Path) -> None:
    local = _stack(tmp_path, ports=Ports().shifted(100))
    env = local.boot_env()
    assert env["OPENCLAW_GATEWAY_PORT"] == "18889"
    assert env["OPENCLAW_EDGE_CONTROL_PORT"] == "18890"
    assert env["R2_ENDPOINT"] == "http://127.0.0.1:8892"
    argv = local.worker_argv()
    assert argv[argv.index("--port") + 1] == "8887"
    assert "GATEWAY_ORIGIN:http://127.0.0.1:8894" in argv
    edge_argv = local.specs()["edge"].argv
    assert edge_argv[edge_argv.index("--upstream-port") + 1] == "18889"


def test_channels_flag_adds_the_fakes_with_tokens_in_env_never_argv(tmp_path: Path) -> None:
    plain = _stack(tmp_path)
    assert "DISCORD_BOT_TOKEN" not in plain.boot_env()
    local = _stack(tmp_path, channels=True)
    env = local.boot_env()
    secrets = local.secrets
    assert env["DISCORD_BOT_TOKEN"] == secrets.discord_bot_token
    assert env["DISCORD_API_URL"] == "http://127.0.0.1:8796/api/v10"
    assert env["TELEGRAM_API_ROOT"] == "http://127.0.0.1:8797"
    assert env["DISCORD_ALLOWED_USER_IDS"] == stack_module.CHAT_USERS.discord_allowed
    assert env["TELEGRAM_DM_ALLOW_FROM"] == stack_module.CHAT_USERS.telegram_allowed
    assert env["OPENCLAW_EDGE_PLUGIN_DIR"].endswith(".venv/openclaw/plugins/npm")
    specs = local.specs()
    assert specs["discord"].env["DISCORD_FAKE_BOT_TOKEN"] == secrets.discord_bot_token
    assert specs["telegram"].env["TELEGRAM_FAKE_BOT_TOKEN"] == secrets.telegram_bot_token
    argv = " ".join(" ".join(spec.argv) for spec in specs.values())
    for value in secrets.values().values():
        assert value not in argv
    # Tokens are shaped like the real ones, so the preview checks would accept them.
    from infra.channel_checks import secret_problems

    assert (
        secret_problems(
            {
                "DISCORD_BOT_TOKEN": secrets.discord_bot_token,
                "TELEGRAM_BOT_TOKEN": secrets.telegram_bot_token,
            }
        )
        == []
    )


def test_old_secrets_files_get_the_new_secrets_added(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text('{"gateway_token": "g", "backup_password": "b"}')
    loaded = stack_module.Secrets.load_or_create(path)
    assert (loaded.gateway_token, loaded.backup_password) == ("g", "b")
    assert loaded.discord_bot_token.count(".") == 2
    assert stack_module.Secrets.load_or_create(path) == loaded
