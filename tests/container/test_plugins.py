"""Channel plugins: installed at build time at exactly the OpenClaw version (they cannot drift),
the same ones locally, and linked into a fresh or restored ~/.openclaw without installing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openclaw_boot import openclaw_config, plugins
from openclaw_boot.settings import load

from .conftest import BOOT, CONTAINER, ROOT, SECRETS, base_env

DOCKERFILE = (CONTAINER / "Dockerfile").read_text()
LOCAL_PLUGINS = ROOT / ".venv" / "openclaw" / "plugins" / "npm"
DISCORD_TOKEN = "MTQ5MDAwMDAwMDAwMDAwMDAwMQ.Gtests.a-well-formed-discord-token-for-tests"


def _arg(name: str) -> str:
    match = re.search(rf'^ARG {name}="?([^"\n]*)"?$', DOCKERFILE, re.MULTILINE)
    assert match, f"no ARG {name} in container/Dockerfile"
    return match.group(1)


def test_plugins_have_no_version_of_their_own_so_they_cannot_drift_from_openclaw() -> None:
    packages = _arg("OPENCLAW_PLUGINS").split()
    assert packages == ["@openclaw/discord", "@openclaw/slack"]
    assert all("@" not in package[1:] for package in packages), "no version in the list"
    # The one install line takes every plugin at ${OPENCLAW_VERSION}, and checks it afterwards.
    installs = re.findall(r'plugins install "npm:\$\{plugin\}@\$\{(\w+)\}" --pin', DOCKERFILE)
    assert installs == ["OPENCLAW_VERSION"]
    assert "for plugin in ${OPENCLAW_PLUGINS}; do" in DOCKERFILE
    assert '[ "$(jq -r .version "$manifest")" = "${OPENCLAW_VERSION}" ] || exit 1' in DOCKERFILE
    # Nothing else in the image names a plugin version or installs a plugin.
    assert not re.search(r"@openclaw/(discord|slack)@\d", DOCKERFILE)
    assert DOCKERFILE.count("plugins install") == 1


def test_plugins_are_installed_at_build_time_and_the_boot_code_finds_them() -> None:
    before_install = DOCKERFILE.split("plugins install", 1)[0]
    assert before_install.rstrip().rsplit("\n", 1)[0], "installed by a RUN step of the image"
    assert before_install.rfind("RUN ") > before_install.rfind("npm install --global")
    assert "OPENCLAW_EDGE_PLUGIN_DIR=/opt/openclaw-edge/plugins/npm" in DOCKERFILE
    assert 'mv "$state/npm" /opt/openclaw-edge/plugins/npm' in DOCKERFILE


# Stands in for the `openclaw` CLI and records every call with what HOME held at that moment.
# `config validate --json` answers as the real one does when valid (openclaw 2026.9,
# dist/config-cli-*.mjs runConfigValidate: `{"valid": true, "path", "warnings"}`); `doctor --fix`
# rewrites a managed key of openclaw.json as the real one may (it repairs the config); doctor
# and `gateway run` exit 0 (the gateway exiting on its own ends `boot.py run`).
FAKE_OPENCLAW = """#!/usr/bin/env python3
import json, os, sys
from pathlib import Path

state = Path(os.environ["HOME"]) / ".openclaw"
with open(os.environ["FAKE_OPENCLAW_CALLS"], "a") as calls:
    calls.write(json.dumps({
        "argv": sys.argv[1:],
        "config_written": (state / "openclaw.json").is_file(),
        "plugins_linked": (state / "npm").is_symlink(),
        "doctor_rewrite": "token-doctor-wrote" in (state / "openclaw.json").read_text()
        if (state / "openclaw.json").is_file() else False,
    }) + "\\n")
if sys.argv[1:2] == ["doctor"]:
    config = json.loads((state / "openclaw.json").read_text())
    config["gateway"]["auth"] = {"mode": "token", "token": "token-doctor-wrote"}
    (state / "openclaw.json").write_text(json.dumps(config))
if sys.argv[1:3] == ["config", "validate"]:
    print(json.dumps({"valid": True, "path": str(state / "openclaw.json"), "warnings": []}))
"""


def _run_with_fake_openclaw(home: Path, tmp_path: Path) -> list[dict[str, Any]]:
    fake = tmp_path / "openclaw"
    fake.write_text(FAKE_OPENCLAW)
    fake.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    env = {
        **base_env(home),
        "OPENCLAW_BIN": str(fake),
        "FAKE_OPENCLAW_CALLS": str(calls),
        "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS),
        "OPENCLAW_EDGE_CONTROL_PORT": "0",
    }
    proc = subprocess.run(
        [sys.executable, str(BOOT), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in calls.read_text().splitlines()]


def test_run_never_installs_plugins_and_runs_no_doctor_without_an_import(
    home: Path, tmp_path: Path
) -> None:
    calls = _run_with_fake_openclaw(home, tmp_path)
    argvs = [c["argv"] for c in calls]
    assert argvs[-1][:2] == ["gateway", "run"], argvs
    assert not any("doctor" in a or "install" in a for a in argvs), argvs
    assert calls[-1]["config_written"], calls[-1]
    assert calls[-1]["plugins_linked"], calls[-1]


def test_doctor_fix_runs_once_after_an_import_with_the_config_and_plugins_in_place(
    home: Path, tmp_path: Path
) -> None:
    """`doctor --fix` also repairs plugin installs: it runs only in the move-in migration, after
    the config is written (the image's plugins linked), and the config is written again after."""
    report = home / ".openclaw-edge" / "state" / "legacy-import.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"state": "imported", "doctor": {"state": "pending"}}))
    calls = _run_with_fake_openclaw(home, tmp_path)
    argvs = [c["argv"] for c in calls]
    doctor = ["doctor", "--fix", "--non-interactive"]
    assert argvs.count(doctor) == 1, argvs
    at = argvs.index(doctor)
    assert ["config", "validate", "--json"] in argvs[:at], "the config is written first"
    assert calls[at]["config_written"], calls[at]
    assert calls[at]["plugins_linked"], calls[at]
    assert not any("install" in a for a in argvs), argvs
    assert argvs[-1][:2] == ["gateway", "run"], argvs
    assert not calls[-1]["doctor_rewrite"], "the config is written again after Doctor"
    assert json.loads(report.read_text())["doctor"]["state"] == "done"
    # Done once: the next start runs no Doctor.
    (tmp_path / "calls.jsonl").unlink()
    again = _run_with_fake_openclaw(home, tmp_path)
    assert all(c["argv"][0] != "doctor" for c in again), again


def test_local_toolchain_installs_the_same_plugins_at_the_same_version() -> None:
    script = (ROOT / "scripts" / "install-openclaw").read_text()
    assert "ARG OPENCLAW_PLUGINS" in script
    assert 'plugins install "npm:$plugin@$version" --pin' in script
    version = _arg("OPENCLAW_VERSION")
    found = {p.package: p.version for p in plugins.installed(LOCAL_PLUGINS)}
    assert found == dict.fromkeys(_arg("OPENCLAW_PLUGINS").split(), version), (
        "run scripts/install-openclaw (make setup)"
    )
    openclaw = json.loads((ROOT / ".venv/openclaw/node_modules/openclaw/package.json").read_text())[
        "version"
    ]
    assert openclaw == version


def test_link_points_a_fresh_home_at_the_image_plugins(home: Path) -> None:
    settings = load({**base_env(home), "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS)})
    assert plugins.link(settings) == LOCAL_PLUGINS
    link = home / ".openclaw" / "npm"
    assert link.is_symlink()
    assert link.resolve() == LOCAL_PLUGINS.resolve()
    assert plugins.link(settings) == LOCAL_PLUGINS  # idempotent


def test_link_moves_a_restored_real_directory_aside(home: Path) -> None:
    old = home / ".openclaw" / "npm" / "projects" / "openclaw-discord-x"
    old.mkdir(parents=True)
    (old / "package.json").write_text("{}")
    settings = load({**base_env(home), "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS)})
    plugins.link(settings)
    assert (home / ".openclaw" / "npm").is_symlink()
    aside = list((home / ".openclaw-edge" / "run").glob("npm-replaced-*"))
    assert len(aside) == 1
    assert (aside[0] / "projects" / "openclaw-discord-x").is_dir()


def test_no_plugin_dir_means_no_link(home: Path, tmp_path: Path) -> None:
    assert plugins.link(load(base_env(home))) is None
    missing = load({**base_env(home), "OPENCLAW_EDGE_PLUGIN_DIR": str(tmp_path / "nope")})
    assert plugins.link(missing) is None
    assert not (home / ".openclaw" / "npm").exists()


@pytest.mark.slow
def test_the_real_plugins_read_the_config_the_boot_code_writes(
    home: Path, openclaw_bin: Path
) -> None:
    """Validation runs the plugins' own schemas once they are installed (without the plugin,
    `openclaw config validate` accepts any channels.discord block): a bad value is refused,
    the boot code's own blocks pass, and OpenClaw lists both channels as installed, configured
    and enabled."""
    env = {
        **base_env(home),
        "OPENCLAW_EDGE_PLUGIN_DIR": str(LOCAL_PLUGINS),
        "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
        "DISCORD_ALLOWED_USER_IDS": "1490000000000000500",
        "DISCORD_GUILD_IDS": "1490000000000000100",
        "TELEGRAM_BOT_TOKEN": SECRETS["TELEGRAM_BOT_TOKEN"],
        "TELEGRAM_DM_ALLOW_FROM": "7200000501",
        "OPENCLAW_CONFIG_OVERRIDES": json.dumps({"channels": {"discord": {"dmPolicy": "anyone"}}}),
    }
    result = openclaw_config.write(load(env))
    assert result.valid, result.issues
    assert any(
        "overrides dropped" in issue and "invalid config for plugin discord" in issue
        for issue in result.issues
    ), result.issues
    listed = subprocess.run(
        [str(openclaw_bin), "channels", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Discord default: installed, configured, enabled" in listed, listed
    assert "Telegram default: installed, configured, enabled" in listed, listed
    assert DISCORD_TOKEN not in listed
