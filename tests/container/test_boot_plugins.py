"""Channel plugins: installed at build time at exactly the OpenClaw version (they cannot drift),
the same ones locally, and linked into a fresh or restored ~/.openclaw without installing."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from openclaw_boot import config, plugins
from openclaw_boot.settings import load

from .conftest import CONTAINER, ROOT, SECRETS, base_env

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
    # The boot code never installs: no `plugins install` anywhere in it, and `doctor --fix` (which
    # repairs plugin installs too) only in the one-time move-in migration, which runs it after the
    # config is written, i.e. with the image's plugins already linked into ~/.openclaw.
    doctor_users = []
    for source in (CONTAINER / "openclaw_boot").rglob("*.py"):
        text = source.read_text()
        assert "plugins install" not in text, source.name
        if '"doctor", "--fix"' in text:
            doctor_users.append(source.name)
    assert doctor_users == ["legacy_import.py"]
    run = (CONTAINER / "openclaw_boot" / "cli.py").read_text()
    assert run.index("write_config(settings, self.status)") < run.index(
        "legacy_import.before_gateway_start("
    )


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
    result = config.write(load(env))
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
