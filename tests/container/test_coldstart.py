"""The cold-start levers of the boot code: the prebuilt compile cache (read-only, a missing one
falls back cleanly), validation only when the inputs changed (a bad override still fails on every
boot), and the plugins.allow derived from the config (never without a configured channel's or
provider's plugin)."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot import compile_cache, config_validation, openclaw_config, plugin_allowlist
from openclaw_boot.gateway import gateway_env
from openclaw_boot.settings import load

from .conftest import ROOT, SECRETS, base_env

LOCAL_PLUGINS = ROOT / ".venv" / "openclaw" / "plugins" / "npm"


# --- compile cache --------------------------------------------------------------------------


def test_no_setting_leaves_the_environment_alone() -> None:
    env = {"PATH": "/bin", "NODE_COMPILE_CACHE": "/somewhere"}
    assert compile_cache.child_env(env) == env


def test_a_usable_cache_is_handed_to_node(tmp_path: Path) -> None:
    env = compile_cache.child_env({compile_cache.COMPILE_CACHE_ENV: str(tmp_path)})
    assert env["NODE_COMPILE_CACHE"] == str(tmp_path)


@pytest.mark.parametrize("value", ["missing", "off", "file"])
def test_an_unusable_or_disabled_cache_falls_back_to_openclaws_default(
    tmp_path: Path, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = {"missing": str(tmp_path / "nope"), "off": "off", "file": str(tmp_path / "f")}[value]
    (tmp_path / "f").write_text("x")
    caplog.set_level(logging.WARNING)
    env = compile_cache.child_env(
        {compile_cache.COMPILE_CACHE_ENV: path, "NODE_COMPILE_CACHE": "/inherited"}
    )
    # Neither the image's cache nor anything inherited: OpenClaw picks its temp-dir default.
    assert "NODE_COMPILE_CACHE" not in env
    if value != "off":
        assert path in caplog.text


def test_the_gateway_gets_the_cache_and_never_the_backup_credentials(tmp_path: Path) -> None:
    env = gateway_env(
        {
            compile_cache.COMPILE_CACHE_ENV: str(tmp_path),
            "BACKUP_PASSWORD": SECRETS["BACKUP_PASSWORD"],
            "HOME": "/root",
        }
    )
    assert env["NODE_COMPILE_CACHE"] == str(tmp_path)
    assert "BACKUP_PASSWORD" not in env


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(root)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in root.rglob("*")
    }


@pytest.fixture
def built_cache(tmp_path: Path, openclaw_bin: Path) -> Iterator[Path]:
    """A cache built as the image builds it (compile_cache.build, directories locked too)."""
    cache = tmp_path / "compile-cache"
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    files = compile_cache.build(str(openclaw_bin), cache, env)
    assert files > 1000  # OpenClaw's modules, not a stray file
    yield cache
    for path in [cache, *cache.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


@pytest.mark.slow
def test_the_built_cache_is_read_only_and_read_by_openclaw(home: Path, built_cache: Path) -> None:
    paths = [built_cache, *built_cache.rglob("*")]
    assert all(not path.stat().st_mode & WRITE_BITS for path in paths)
    before = _listing(built_cache)
    env = compile_cache.child_env(
        {
            **base_env(home),
            compile_cache.COMPILE_CACHE_ENV: str(built_cache),
            "NODE_DEBUG_NATIVE": "COMPILE_CACHE",
        }
    )
    (home / ".openclaw").mkdir()
    (home / ".openclaw" / "openclaw.json").write_text('{"gateway": {"mode": "local"}}')
    proc = subprocess.run(
        [env["OPENCLAW_BIN"], "config", "validate", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(proc.stdout[proc.stdout.index("{") :])["valid"] is True, proc.stderr[-2000:]
    # Node's own debug output (NODE_DEBUG_NATIVE=COMPILE_CACHE): entries read from this cache.
    hits = [
        line
        for line in proc.stderr.splitlines()
        if "reading cache from" in line and str(built_cache) in line and "success" in line
    ]
    assert len(hits) > 100, proc.stderr[-2000:]
    after = _listing(built_cache)
    assert set(after) == set(before)  # no entry added
    if os.geteuid() != 0:
        assert after == before  # nothing written at all: the permissions hold
    # (root, as in the container, ignores the permissions: Node may then refresh an entry whose
    # code cache grew; it adds none for modules the build loaded.)


@pytest.mark.slow
def test_a_missing_cache_still_validates(home: Path, openclaw_bin: Path, tmp_path: Path) -> None:
    env = {**base_env(home), compile_cache.COMPILE_CACHE_ENV: str(tmp_path / "gone")}
    result = openclaw_config.write(load(env))
    assert result.valid, result.issues
    assert result.validation == "ran"


# The channel start of the build (compile_cache.channel_start): every installed channel
# configured against a refused port, stopped once the channels are starting.


def test_the_build_configures_every_installed_channel_at_a_refused_port() -> None:
    config = compile_cache.channel_config(18789, 40000, ["discord", "slack"])
    channels: dict[str, Any] = config["channels"]
    assert set(channels) == {"telegram", "discord", "slack"}
    assert channels["telegram"]["apiRoot"] == "http://127.0.0.1:40000"
    assert config["plugins"] == {
        "entries": {"discord": {"enabled": True}, "slack": {"enabled": True}}
    }
    env = compile_cache.channel_env(40000)
    assert env["DISCORD_API_URL"].startswith("http://127.0.0.1:40000/")
    assert env["SLACK_API_URL"].startswith("http://127.0.0.1:40000/")
    # Only telegram (bundled) without external channel plugins.
    assert set(compile_cache.channel_config(1, 2, [])["channels"]) == {"telegram"}


def test_installed_channel_plugins_come_from_their_manifests(tmp_path: Path) -> None:
    for project, manifest in (
        ("openclaw-discord-1", {"id": "discord", "channels": ["discord"]}),
        ("openclaw-tools-1", {"id": "tools"}),  # not a channel plugin
    ):
        package = tmp_path / "projects" / project / "node_modules" / "@openclaw" / project[9:-2]
        package.mkdir(parents=True)
        (package / "openclaw.plugin.json").write_text(json.dumps(manifest))
    assert compile_cache.installed_channel_plugins(tmp_path) == ["discord"]
    if (LOCAL_PLUGINS / "projects").is_dir():  # what scripts/install-openclaw installed
        assert {"discord", "slack"} <= set(compile_cache.installed_channel_plugins(LOCAL_PLUGINS))


def test_channels_starting_are_read_from_the_coloured_gateway_log() -> None:
    # Lines as the 2026.9.6 gateway writes them to a file (ANSI colours included).
    log = (
        "\x1b[90m2026-12-02T14:18:32.321+00:00\x1b[39m \x1b[36m[discord]\x1b[39m "
        "\x1b[36m[default] starting provider\x1b[39m\n"
        "2026-12-02T14:18:35.837+00:00 [telegram] [default] starting provider (@bot)\n"
        "2026-12-02T14:18:36.110+00:00 [slack] [default] slack auth.test failed at boot\n"
    )
    assert compile_cache._channels_starting(log) == {"discord", "telegram"}


@pytest.mark.slow
def test_the_channel_start_caches_the_channel_runtime(tmp_path: Path, openclaw_bin: Path) -> None:
    """A real channel start against refused ports: every installed channel gets to `starting
    provider`, and the cache is written although OpenClaw's shutdown is cut short (the SIGTERM
    flush), so a second start reads the channels' modules from it."""
    if not (LOCAL_PLUGINS / "projects").is_dir():
        pytest.fail("no channel plugins: run scripts/install-openclaw (make setup)")
    cache = tmp_path / "cache"
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "NODE_COMPILE_CACHE": str(cache),
        "OPENCLAW_GATEWAY_TOKEN": SECRETS["OPENCLAW_GATEWAY_TOKEN"],
        "TMPDIR": str(tmp_path),
    }
    seen = compile_cache.channel_start(str(openclaw_bin), LOCAL_PLUGINS, env, tmp_path / "a", 120)
    assert set(seen) == {"telegram", *compile_cache.installed_channel_plugins(LOCAL_PLUGINS)}
    env["NODE_DEBUG_NATIVE"] = "COMPILE_CACHE"
    compile_cache.channel_start(str(openclaw_bin), LOCAL_PLUGINS, env, tmp_path / "b", 120)
    reads = [
        line
        for line in (tmp_path / "b" / "gateway.log").read_text(errors="replace").splitlines()
        if "reading cache from" in line and "/node_modules/openclaw/dist/" in line
    ]
    # OpenClaw's own modules, the channel runtime (telegram is bundled) among them, all read
    # from the cache the first start wrote.
    hits = [line for line in reads if "success" in line]
    assert any("telegram" in line for line in hits), reads[-5:]
    assert len(hits) >= 0.95 * len(reads) > 1000, (len(hits), len(reads))


# --- validation cache -----------------------------------------------------------------------


def fake_openclaw(tmp_path: Path) -> tuple[Path, Path]:
    """An `openclaw` package whose `config validate --json` counts its calls and answers as
    2026.9.6 does (`{"valid": true, "path": ..., "warnings": []}` on stdout, seen from the real
    binary; `issues` entries are `{path, message}`, config_validation.validate reads both); a file
    holding "notAKey" is invalid. The bin is a symlink into the package, as npm installs it."""
    package = tmp_path / "lib" / "node_modules" / "openclaw"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "openclaw", "version": "1.0.0"}))
    calls = tmp_path / "calls"
    script = package / "openclaw.mjs"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{calls}"\n'
        'if grep -q notAKey "$HOME/.openclaw/openclaw.json"; then\n'
        '  echo \'{"valid": false, "issues": [{"path": "notAKey", "message": "unknown key"}]}\'\n'
        "else\n"
        '  echo \'{"valid": true, "warnings": [{"path": "x", "message": "a warning"}]}\'\n'
        "fi\n"
    )
    script.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "openclaw").symlink_to(script)
    return bin_dir / "openclaw", calls


def _calls(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def _env(home: Path, bin_path: Path, **extra: str) -> dict[str, str]:
    return {**base_env(home), "OPENCLAW_BIN": str(bin_path), **extra}


def test_unchanged_inputs_skip_validation(home: Path, tmp_path: Path) -> None:
    bin_path, calls = fake_openclaw(tmp_path)
    env = _env(home, bin_path)
    first = openclaw_config.write(load(env))
    assert (first.valid, first.validation, _calls(calls)) == (True, "ran", 1)
    second = openclaw_config.write(load(env))
    assert (second.valid, second.validation, _calls(calls)) == (True, "cached", 1)
    assert second.warnings == first.warnings == ["x: a warning"]  # the verdict, not a blank one


@pytest.mark.parametrize(
    "change",
    ["config", "openclaw release", "referenced variable", "always"],
)
def test_any_changed_input_validates_again(home: Path, tmp_path: Path, change: str) -> None:
    bin_path, calls = fake_openclaw(tmp_path)
    overrides = json.dumps({"gateway": {"controlUi": {"basePath": "/x"}}})
    env = _env(home, bin_path, OPENCLAW_CONFIG_OVERRIDES=overrides)
    openclaw_config.write(load(env))
    assert _calls(calls) == 1
    if change == "config":
        env["OPENCLAW_CONFIG_OVERRIDES"] = json.dumps(
            {"gateway": {"controlUi": {"basePath": "/y"}}}
        )
    elif change == "openclaw release":
        manifest = tmp_path / "lib" / "node_modules" / "openclaw" / "package.json"
        manifest.write_text(json.dumps({"name": "openclaw", "version": "1.0.1"}))
    elif change == "referenced variable":
        # The file references ${OPENCLAW_GATEWAY_TOKEN}: whether it is set is part of the key.
        env["OPENCLAW_CONFIG_OVERRIDES"] = json.dumps({"env": {"vars": {"A": "${UNSET_VAR}"}}})
        openclaw_config.write(load(env))
        assert _calls(calls) == 2
        env["UNSET_VAR"] = "now-set"
    else:
        env[config_validation.VALIDATION_ENV] = "always"
    before = _calls(calls)
    result = openclaw_config.write(load(env))
    assert result.validation == "ran"
    assert _calls(calls) == before + 1


def test_switching_back_to_a_config_validated_before_costs_nothing(
    home: Path, tmp_path: Path
) -> None:
    bin_path, calls = fake_openclaw(tmp_path)
    plain = _env(home, bin_path)
    with_override = {
        **plain,
        "OPENCLAW_CONFIG_OVERRIDES": json.dumps({"gateway": {"controlUi": {"basePath": "/x"}}}),
    }
    openclaw_config.write(load(plain))
    openclaw_config.write(load(with_override))
    assert _calls(calls) == 2
    assert openclaw_config.write(load(plain)).validation == "cached"
    assert openclaw_config.write(load(with_override)).validation == "cached"
    assert _calls(calls) == 2
    # Only the last VALIDATED_KEEP valid configurations are remembered.
    for n in range(config_validation.VALIDATED_KEEP):
        other = json.dumps({"gateway": {"controlUi": {"basePath": f"/n{n}"}}})
        openclaw_config.write(load({**plain, "OPENCLAW_CONFIG_OVERRIDES": other}))
    assert openclaw_config.write(load(plain)).validation == "ran"


def test_a_bad_override_fails_loudly_on_every_boot(home: Path, tmp_path: Path) -> None:
    bin_path, calls = fake_openclaw(tmp_path)
    env = _env(home, bin_path, OPENCLAW_CONFIG_OVERRIDES=json.dumps({"notAKey": True}))
    for boot in range(3):
        result = openclaw_config.write(load(env))
        assert result.valid  # the file without the override
        assert any("overrides dropped" in i and "notAKey" in i for i in result.issues), boot
        assert "notAKey" not in (home / ".openclaw" / "openclaw.json").read_text()
    # The bad text is never recorded as valid: validated on every boot (then the good one is
    # served from the cache after the first boot).
    assert _calls(calls) == 3 + 1


def test_the_record_holds_no_secret(home: Path, tmp_path: Path) -> None:
    bin_path, _calls_file = fake_openclaw(tmp_path)
    env = _env(home, bin_path, DISCORD_BOT_TOKEN=SECRETS["DISCORD_BOT_TOKEN"])
    openclaw_config.write(load(env))
    record = (home / ".openclaw-edge" / "state" / "validated-config.json").read_text()
    assert all(secret not in record for secret in SECRETS.values())


# --- plugins.allow --------------------------------------------------------------------------


def allow(home: Path, **extra: str) -> list[str] | None:
    env = {
        **base_env(home),
        "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS),
        plugin_allowlist.ALLOWLIST_ENV: "on",
        **extra,
    }
    built, _paths = openclaw_config.build(load(env))
    plugins_section: Any = built.get("plugins") or {}
    value = plugins_section.get("allow")
    return value if isinstance(value, list) else None


CHANNELS = {
    "DISCORD_BOT_TOKEN": SECRETS["DISCORD_BOT_TOKEN"],
    "TELEGRAM_BOT_TOKEN": SECRETS["TELEGRAM_BOT_TOKEN"],
    "SLACK_BOT_TOKEN": SECRETS["SLACK_BOT_TOKEN"],
    "SLACK_APP_TOKEN": SECRETS["SLACK_APP_TOKEN"],
}


def test_configured_channels_and_providers_are_always_allowed(home: Path) -> None:
    allowed = allow(home, ANTHROPIC_API_KEY=SECRETS["ANTHROPIC_API_KEY"], **CHANNELS)
    assert allowed is not None
    assert {"discord", "telegram", "slack", "anthropic", "openai"} <= set(allowed)


def test_unused_provider_plugins_are_left_out_and_features_kept(home: Path) -> None:
    allowed = set(allow(home) or [])
    # Features OpenClaw enables by default stay (browser for the CDP shim, pairing, memory...).
    assert {"browser", "device-pair", "memory-core", "canvas", "file-transfer"} <= allowed
    # Model and media providers nothing configures, with no key in the environment, do not load.
    assert not {"ollama", "xai", "openrouter", "google", "minimax", "fal"} & allowed
    # Channels nobody configured do not load either.
    assert not {"discord", "slack", "telegram"} & allowed


def test_a_provider_the_config_or_the_environment_names_is_allowed(home: Path) -> None:
    overrides = {
        "models": {"providers": {"openrouter": {"apiKey": "${OPENROUTER_API_KEY}"}}},
        "agents": {"defaults": {"model": {"primary": "google/gemini-x"}}},
        "plugins": {"entries": {"webhooks": {"enabled": True}}},
    }
    allowed = set(
        allow(home, OPENCLAW_CONFIG_OVERRIDES=json.dumps(overrides), XAI_API_KEY="xai-key-123")
        or []
    )
    assert {"openrouter", "google", "xai", "webhooks"} <= allowed


def test_a_users_allowlist_is_kept_but_never_without_a_configured_channel(home: Path) -> None:
    overrides = json.dumps({"plugins": {"allow": ["browser"]}})
    allowed = allow(home, OPENCLAW_CONFIG_OVERRIDES=overrides, **CHANNELS)
    assert allowed is not None
    assert allowed[0] == "browser"
    assert {"discord", "telegram", "slack", "anthropic", "openai"} <= set(allowed)
    assert "canvas" not in allowed  # the user's choice otherwise stands


def test_a_list_the_user_wrote_into_the_file_survives_the_next_boot(home: Path) -> None:
    env = {
        **base_env(home),
        "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS),
        plugin_allowlist.ALLOWLIST_ENV: "on",
        **CHANNELS,
    }
    (home / ".openclaw").mkdir()
    (home / ".openclaw" / "openclaw.json").write_text(
        json.dumps({"plugins": {"allow": ["canvas"]}})
    )
    for _boot in range(2):
        openclaw_config.write(load(env), check=False)
        written = json.loads((home / ".openclaw" / "openclaw.json").read_text())
        assert written["plugins"]["allow"][0] == "canvas"
        assert {"discord", "telegram", "slack"} <= set(written["plugins"]["allow"])
        assert "browser" not in written["plugins"]["allow"]


@pytest.mark.parametrize("value", ["off", ""])
def test_unless_switched_on_no_allowlist_is_written(home: Path, value: str) -> None:
    assert allow(home, **{plugin_allowlist.ALLOWLIST_ENV: value}) is None


def test_a_removed_channel_leaves_the_allowlist_on_the_next_boot(
    home: Path, tmp_path: Path
) -> None:
    bin_path, _calls_file = fake_openclaw(tmp_path)
    env = {
        **_env(home, bin_path),
        "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS),
        plugin_allowlist.ALLOWLIST_ENV: "on",
    }
    # The fake package has no bundled manifests: point the package lookup at the real one.
    real = {
        **env,
        "OPENCLAW_BIN": str(ROOT / ".venv" / "openclaw" / "node_modules" / ".bin" / "openclaw"),
    }
    openclaw_config.write(load({**real, **CHANNELS}), check=False)
    written = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert "discord" in written["plugins"]["allow"]
    openclaw_config.write(load(real), check=False)
    written = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert "discord" not in written["plugins"]["allow"]


def test_without_manifests_no_allowlist_is_guessed(home: Path, tmp_path: Path) -> None:
    bin_path, _calls_file = fake_openclaw(tmp_path)
    env = {
        **_env(home, bin_path),
        "OPENCLAW_EDGE_PLUGIN_DIR": str(tmp_path / "none"),
        plugin_allowlist.ALLOWLIST_ENV: "on",
    }
    built, _paths = openclaw_config.build(load(env))
    assert "allow" not in (built.get("plugins") or {})
