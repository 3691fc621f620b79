/** What a booted container's control API adds to GET /status, and a way to get there. */
import { expect } from "vitest";
import { runWatchdog } from "../src/cron";
import { sandboxEnv, SECRET_VALUES } from "./helpers";
import type { Scenario } from "./sandbox-double";

// The sections the boot code adds to its control API's GET /status (container/openclaw_boot/channels.py).
export const BOOT_STATUS = {
  channels: {
    discord: { state: "connected", reason: null, bot: "claw", plugin: { package: "@openclaw/discord", installed: true, version: "2026.9.6" } },
    telegram: { state: "error", reason: `401 Unauthorized for bot ${SECRET_VALUES.TELEGRAM_BOT_TOKEN}`, plugin: { installed: true } },
    slack: { state: "not_configured", reason: "SLACK_BOT_TOKEN and SLACK_APP_TOKEN not set" },
    weird: { state: "exploded" },
  },
  cron: { enabled: true, jobs: 3, next_run_at: "2026-12-02T08:00:00Z" },
};

/** Brings the container up and its gateway to ready, as the first request or the cron would. */
export async function booted(s: Scenario): Promise<void> {
  const report = await runWatchdog(sandboxEnv(), { ...s.deps, logSink: () => undefined });
  expect(report).toMatchObject({ gateway: { after: "running" } });
}

