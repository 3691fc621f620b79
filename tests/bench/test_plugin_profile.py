"""bench.plugin_profile: OpenClaw's plugin-load profile lines read back per plugin.

The lines below are from a real gateway start (OpenClaw 2026.9.6, OPENCLAW_DIAGNOSTICS=
plugin.load-profile, Discord and Telegram configured), paths shortened."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import coldstart, plugin_profile

DISCORD = "/opt/plugins/npm/projects/openclaw-discord-c0892df945/node_modules/@openclaw/discord"
TELEGRAM = "/opt/openclaw/node_modules/openclaw/dist/extensions/telegram/index.js"
LINES = [
    "2026-12-02T16:47:00.104+00:00 [plugin-load-profile] phase=full plugin=telegram "
    f"elapsedMs=40.2 source={TELEGRAM}",
    "2026-12-02T16:47:00.487+00:00 [plugin-load-profile] phase=bundled-register:loadChannelPlugin"
    f" plugin=telegram elapsedMs=380.8 source=file://{TELEGRAM}",
    "2026-12-02T16:47:00.516+00:00 [plugin-load-profile] phase=full:register plugin=telegram "
    f"elapsedMs=409.6 source={TELEGRAM}",
    "2026-12-02T16:47:05.000+00:00 [gateway] starting channels and sidecars...",
    "2026-12-02T16:47:12.220+00:00 [plugin-load-profile] phase=full plugin=discord "
    f"elapsedMs=11574.5 source={DISCORD}/dist/index.js",
    "2026-12-02T16:47:24.602+00:00 [plugin-load-profile] phase=discovery plugin=discord "
    f"elapsedMs=11631.9 source={DISCORD}/dist/index.js",
    "[plugin-load-profile] phase=full plugin=canvas elapsedMs=284.2 source=/x/canvas/index.js",
    "[plugin-load-profile] phase=full plugin=(core) elapsedMs=1.0 source=/x/core.js",
]


def test_module_loads_sum_the_registration_mode_phases_only() -> None:
    loads = plugin_profile.module_loads(LINES)
    assert [load.plugin for load in loads] == ["discord", "canvas", "telegram", "(core)"]
    discord = loads[0]
    assert discord.modes == ("full", "discovery")
    assert discord.seconds == pytest.approx(23.21, abs=0.01)
    # full:register and bundled-register:* are sub-steps, not module loads.
    assert loads[2].modes == ("full",)
    assert loads[2].seconds == pytest.approx(0.04)


def test_lines_without_the_profile_prefix_are_ignored() -> None:
    assert plugin_profile.parse(["phase=full plugin=x elapsedMs=1", "[gateway] ready"]) == []


def test_summary_rows_keep_the_slowest_and_total_the_rest() -> None:
    rows = plugin_profile.summary_rows({"start": plugin_profile.module_loads(LINES)}, top=1)
    assert rows[0] == ("start", "discord", "full + discovery", 23.21)
    assert rows[1][:3] == ("start", "3 other plugins", "3 loads")
    assert rows[1][3] == pytest.approx(0.325, abs=0.01)
    assert rows[2][1:3] == ("all module loads", "4 plugins")
    assert rows[2][3] == pytest.approx(23.53, abs=0.01)


def test_lines_after_reads_only_what_a_start_added(tmp_path: Path) -> None:
    log = tmp_path / "bare-gateway.log"
    log.write_text(LINES[0] + "\n")
    offset = log.stat().st_size
    with log.open("a") as handle:
        handle.write(LINES[4] + "\n")
    assert coldstart._lines_after(log, offset) == [LINES[4]]
    # Rotated (shorter than the offset): everything it holds.
    log.write_text(LINES[5] + "\n")
    assert coldstart._lines_after(log, offset * 10) == [LINES[5]]
    assert coldstart._lines_after(tmp_path / "missing.log", 0) == []
